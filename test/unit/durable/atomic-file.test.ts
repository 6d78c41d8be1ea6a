import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../../helpers/run.js';
import { openAtomic, removeStaleTemps } from '../../../src/durable/atomic-file.js';

const writer = join(ROOT, 'test/fixtures/atomic-writer.mjs');
// Waits (by polling the folder, not by timing) until the writer's temporary file holds data.
async function untilTempFileGrows(dir: string): Promise<void> {
  for (;;) {
    const tmp = readdirSync(dir).find((n) => n.endsWith('.tmp'));
    if (tmp && statSync(join(dir, tmp)).size > 128 * 1024) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('openAtomic', () => {
  it('writes, commits and reports bytes and sha256 of what is on disk', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeFileSync(path, 'old\n');
    const f = await openAtomic(path);
    expect(f.tempPath).toMatch(new RegExp(`/\\.out\\.csv\\.${process.pid}\\.[0-9a-f]+\\.tmp$`));
    await f.write('a,b\n');
    await f.write(Buffer.from('1,ü\n'));
    await f.write(Buffer.alloc(200_000, 'x'));
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    const res = await f.commit();
    const disk = readFileSync(path);
    expect(res).toEqual({ bytes: disk.length, sha256: sha(disk) });
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  it('abort leaves the original file untouched and no temporary file', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeFileSync(path, 'precious\n');
    const f = await openAtomic(path);
    await f.write(Buffer.alloc(100_000, 'y'));
    await f.abort();
    expect(readFileSync(path, 'utf8').slice(0, 40)).toBe('precious\n');
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  it('fault: atomic-missing-folder — a missing folder is a clear error', async () => {
    await expect(openAtomic(join(tempDir(), 'no/such/dir/out.csv'))).rejects.toThrow(/could not create a temporary file .*no such file or directory, ENOENT/);
  });

  it('fault: atomic-ulimit — a write beyond ulimit -f fails with a clear error, exit 1, original intact, no temp file', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeFileSync(path, 'precious\n');
    const res = await execa('bash', ['-c', `ulimit -f 64; exec "${process.execPath}" "${writer}" "${path}" 1024`], { reject: false });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/out\.csv: could not write \(file too large .*EFBIG\); the existing file was left untouched/);
    expect(readFileSync(path, 'utf8').slice(0, 40)).toBe('precious\n');
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`fault: atomic-sigterm-sigint — ${signal} mid-write leaves the old file and no temporary file`, async () => {
      const dir = tempDir();
      const path = join(dir, 'out.csv');
      writeFileSync(path, 'precious\n');
      const child = execa(process.execPath, [writer, path, '100000', 'slow'], { reject: false });
      await untilTempFileGrows(dir);
      child.kill(signal);
      const res = await child;
      // Cleaned up, then died by the same signal (a shell loop stops at Ctrl-C).
      expect(res.signal).toBe(signal);
      expect(readFileSync(path, 'utf8').slice(0, 40)).toBe('precious\n');
      expect(readdirSync(dir)).toEqual(['out.csv']);
    });
  }

  it('fault: atomic-sigkill — SIGKILL mid-write leaves the old file whole (the temp file may remain, the target never half-written)', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeFileSync(path, 'precious\n');
    const child = execa(process.execPath, [writer, path, '100000', 'slow'], { reject: false });
    await untilTempFileGrows(dir);
    child.kill('SIGKILL');
    await child;
    expect(readFileSync(path, 'utf8').slice(0, 40)).toBe('precious\n');
    expect(await removeStaleTemps(path)).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  it('a run that finishes replaces the file completely', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeFileSync(path, 'old\n');
    const res = await execa(process.execPath, [writer, path, '300']);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
    const disk = readFileSync(path);
    expect(disk.length).toBe(300 * 1024);
    expect(out.sha256).toBe(sha(disk));
  });
});
