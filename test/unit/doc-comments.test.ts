// Every export of src/ carries a /** */ comment: what it is for, shown by an editor on hover
// (a `//` line above a declaration is not). Read with the TypeScript parser, so a comment inside
// a string or a multi-line declaration cannot fool it.
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../helpers/run.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** `file:line name` of each exported declaration without a doc comment (slash, two stars) right above it. */
function undocumented(files: string[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    for (const st of sf.statements) {
      const mods = ts.canHaveModifiers(st) ? ts.getModifiers(st) : undefined;
      if (!mods?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
      const ranges = ts.getLeadingCommentRanges(text, st.getFullStart()) ?? [];
      const last = ranges[ranges.length - 1];
      if (last && text.startsWith('/**', last.pos)) continue;
      const line = sf.getLineAndCharacterOfPosition(st.getStart()).line + 1;
      out.push(`${relative(ROOT, file)}:${line} ${text.slice(st.getStart(), st.getStart() + 60).split('\n')[0]}`);
    }
  }
  return out;
}

describe('doc comments', () => {
  it('every export in src/ has a /** */ comment right above it', () => {
    expect(undocumented(sources(join(ROOT, 'src')))).toEqual([]);
  });

  it('the check finds an export with only a // comment or none', () => {
    const dir = join(ROOT, 'test', 'fixtures', 'doc-comments');
    expect(undocumented([join(dir, 'sample.ts')]).map((s) => s.replace(/^.*sample\.ts:/, ''))).toEqual(['4 export const lineComment = 1;', '5 export function bare(): void {}']);
  });
});
