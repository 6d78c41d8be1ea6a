// No copy-pasted block of 6 lines or more in src/ (jscpd, .jscpd.json): plumbing lives once.
// The second case shows the check failing on a tree that has such a copy.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/run.js';

const JSCPD = join(ROOT, 'node_modules', 'jscpd', 'run-jscpd.js');

function jscpd(path: string) {
  return execa(process.execPath, [JSCPD, '--config', join(ROOT, '.jscpd.json'), path], { cwd: ROOT, reject: false });
}

describe('duplication (jscpd, min 6 lines)', () => {
  it('src/ has no duplicated block', async () => {
    const res = await jscpd(join(ROOT, 'src'));
    expect(res.stdout + res.stderr).toContain('Found 0 exact clones');
    expect(res.exitCode).toBe(0);
  });

  it('fails on a tree with a copied block', async () => {
    const dir = tempDir('be-cpd-');
    const block = Array.from({ length: 8 }, (_, i) => `  total += values[${i}]! * ${i + 1};`).join('\n');
    writeFileSync(join(dir, 'a.ts'), `export function a(values: number[]): number {\n  let total = 0;\n${block}\n  return total;\n}\n`);
    writeFileSync(join(dir, 'b.ts'), `export function b(values: number[]): number {\n  let total = 0;\n${block}\n  return total;\n}\n`);
    const res = await jscpd(dir);
    expect(res.exitCode).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/Found [1-9]\d* exact clones/);
  });
});
