// Issue 8: writes that cannot happen or fail part way. Each gives one clear line naming the file
// (no stack trace), exit 1, and leaves the existing file exactly as it was.
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binPath, nodeFlags, ndjson, run, tempDir } from '../helpers/run.js';
import { unprivileged } from './helpers.js';

const OLD = 'id,name,STATUS\n1,kept,PENDING\n2,"quoted, kept",PENDING\n';
const records = (n: number) => ndjson(Array.from({ length: n }, (_, i) => ({ id: String(i + 3), name: `name ${i}`, STATUS: 'COMPLETED' })));
const COLUMNS = ['--columns', 'id,name,STATUS'];
const drop = unprivileged();

// export-csv run without the capabilities that let root ignore folder permissions.
async function exportAs(args: string[], input: string) {
  const [cmd, ...pre] = [...drop.prefix, process.execPath];
  const r = await execa(cmd!, [...pre, ...nodeFlags('export-csv'), binPath('export-csv'), ...args], { input, reject: false, env: { NO_COLOR: '1' } });
  return { exitCode: r.exitCode, stderr: String(r.stderr), stdout: String(r.stdout) };
}

function readOnlyFolder(): { dir: string; path: string } {
  const dir = join(tempDir(), 'ro');
  mkdirSync(dir);
  const path = join(dir, 'out.csv');
  writeFileSync(path, OLD);
  chmodSync(dir, 0o555);
  return { dir, path };
}

function expectOneLine(stderr: string, path: string, what: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]!.startsWith(`export-csv: ${path}: `), lines[0]).toBe(true);
  expect(lines[0]).toMatch(what);
}

describe('a read-only folder (chmod 555; as root, run with the override capabilities dropped)', () => {
  it.skipIf(!drop.available)('fault: readonly-export-o — export-csv -o into a read-only folder: one line naming the file, exit 1, the file intact', async () => {
    const { dir, path } = readOnlyFolder();
    const r = await exportAs([...COLUMNS, '-o', path], records(100));
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, path, /could not create a temporary file in .*\(permission denied, EACCES\); the existing file was left untouched$/);
    // stdout: the run records around one failed export record (issue 12: failure travels with the data).
    const out = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(out.map((x) => [x.kind, x.status])).toEqual([['run', 'started'], ['export', 'failed'], ['run', 'failed']]);
    expect(readFileSync(path, 'utf8')).toBe(OLD);
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  it.skipIf(!drop.available)('fault: readonly-append — export-csv --append into a read-only folder: one line naming the file, exit 1, the file intact', async () => {
    const { dir, path } = readOnlyFolder();
    const r = await exportAs(['--append', ...COLUMNS, '-o', path], records(100));
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, path, /could not create the lock file .*out\.csv\.lock \(permission denied, EACCES\); the existing file was left untouched$/);
    expect(readFileSync(path, 'utf8')).toBe(OLD);
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  it.skipIf(!drop.available)('fault: readonly-upsert — export-csv --upsert into a read-only folder: one line naming the file, exit 1, the file intact', async () => {
    const { dir, path } = readOnlyFolder();
    const r = await exportAs(['--upsert', 'id', ...COLUMNS, '-o', path, '--backup'], records(100));
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, path, /\(permission denied, EACCES\); the existing file was left untouched$/);
    expect(readFileSync(path, 'utf8')).toBe(OLD);
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });

  it.skipIf(!drop.available)('fault: readonly-file-append — export-csv --append to a read-only file in a writable folder: one line, exit 1, the file intact, no lock left', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeFileSync(path, OLD);
    chmodSync(path, 0o444);
    const r = await exportAs(['--append', ...COLUMNS, '-o', path], records(100));
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, path, /could not open it for appending \(permission denied, EACCES\)/);
    expect(readFileSync(path, 'utf8')).toBe(OLD);
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });
});

describe('a read-only file system (a tmpfs remounted read-only; skipped where mount is not allowed)', () => {
  const mnt = tempDir('be-ro-');
  const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status === 0;
  if (mounted) {
    writeFileSync(join(mnt, 'out.csv'), OLD);
    if (spawnSync('mount', ['-o', 'remount,ro', mnt]).status !== 0) throw new Error('could not remount the tmpfs read-only');
  }
  afterAll(() => {
    if (mounted) spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it.skipIf(!mounted)('fault: readonly-mount — export-csv -o, --append and --upsert on a read-only mount (EROFS): one line each, exit 1, the file intact', async () => {
    const path = join(mnt, 'out.csv');
    for (const mode of [[], ['--append'], ['--upsert', 'id']]) {
      const r = await run('export-csv', [...mode, ...COLUMNS, '-o', path], { input: records(100) });
      expect(r.exitCode, mode.join(' ')).toBe(1);
      expectOneLine(r.stderr, path, /\(read-only file system, EROFS\); the existing file was left untouched$/);
      expect(readFileSync(path, 'utf8')).toBe(OLD);
    }
    expect(readdirSync(mnt)).toEqual(['out.csv']);
  });
});

describe('a write that fails part way (ulimit -f)', () => {
  it('fault: ulimit-export-o — export-csv -o beyond ulimit -f (EFBIG part way): one line, exit 1, the old file intact, no temp file', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.csv');
    writeFileSync(path, OLD);
    const input = join(dir, 'in.ndjson');
    writeFileSync(input, records(50_000));
    // 256 blocks of 1 KiB: the CSV (~1.3 MB) fails a quarter of the way in, after several chunks were written.
    const script = `ulimit -f 256; exec "${process.execPath}" ${nodeFlags('export-csv').join(' ')} "${binPath('export-csv')}" ${COLUMNS.join(' ')} -o "${path}" < "${input}"`;
    const r = await execa('bash', ['-c', script], { reject: false, env: { NO_COLOR: '1' } });
    expect(r.exitCode).toBe(1);
    expectOneLine(String(r.stderr), path, /could not write \(file too large .*EFBIG\); the existing file was left untouched$/);
    const out = String(r.stdout).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(out.map((x) => [x.kind, x.status])).toEqual([['run', 'started'], ['export', 'failed'], ['run', 'failed']]);
    expect(readFileSync(path, 'utf8')).toBe(OLD);
    expect(readdirSync(dir).sort()).toEqual(['in.ndjson', 'out.csv']);
  });
});
