// The layering of src/ (commands → domains → stream/cli, each folder's README.md) is checked by
// dependency-cruiser with .dependency-cruiser.cjs, so it cannot rot: the real tree passes, and a
// tree with a reversed import fails with the rule's name.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, tempDir } from '../helpers/run.js';

const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

async function cruise(cwd: string) {
  return execa(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'err', 'src'], { cwd, reject: false });
}

/** A small tree of modules (path → source) beside the project's tsconfig, as src/ would hold them. */
function tree(files: Record<string, string>): string {
  const dir = tempDir('be-layering-');
  copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('layering (dependency-cruiser)', () => {
  it('src/ follows the layering: no violation', async () => {
    const res = await cruise(ROOT);
    expect(res.stdout + res.stderr).toContain('no dependency violations found');
    expect(res.exitCode).toBe(0);
  });

  it.each([
    ['the stream layer importing a domain', 'base-imports-no-domain', {
      'src/stream/reader.ts': "import { isEvent } from '../event/event.js';\nexport const r = isEvent;\n",
      'src/event/event.ts': 'export const isEvent = 1;\n',
    }],
    ['a domain importing a command', 'domains-import-no-command', {
      'src/summary/summary.ts': "import { run } from '../commands/analyze.js';\nexport const s = run;\n",
      'src/commands/analyze.ts': 'export const run = 1;\n',
    }],
    ['one command importing another', 'commands-import-no-other-command', {
      'src/commands/notify.ts': "import { run } from './analyze.js';\nexport const n = run;\n",
      'src/commands/analyze.ts': 'export const run = 1;\n',
    }],
    ['a module cycle inside a domain', 'no-circular', {
      'src/durable/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/durable/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    }],
  ])('fails on %s (%s)', async (_what, rule, files) => {
    const res = await cruise(tree(files));
    expect(res.exitCode).not.toBe(0);
    expect(res.stdout + res.stderr).toContain(rule);
  });
});
