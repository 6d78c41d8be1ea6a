// Issue 4's "What it must show" with the real binaries: seed 002's four writers with one SIGKILLed
// and restarted, and the status ledger run twice with an interruption.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { parse } from 'csv-parse/sync';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, binPath, run, tempDir } from '../helpers/run.js';

const nameOf = (i: number) => (i % 7 === 0 ? `Name "${i}";\nsecond line` : `name ${i}, ü`);
const records = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => ({ id: String(from + k), name: nameOf(from + k), STATUS: 'COMPLETED' }));

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

const contains = (path: string, text: string) => existsSync(path) && readFileSync(path, 'utf8').includes(text);

// One export-csv --append writer, fed its records a few at a time so it commits many batches.
function appender(path: string, from: number) {
  const child = execa(process.execPath, [binPath('export-csv'), '--append', '--delimiter', ';', '--dedupe', 'id', '--columns', 'id,name,STATUS', '-o', path], {
    reject: false,
    stdin: 'pipe',
  });
  void (async () => {
    const all = records(from, 2500);
    for (let k = 0; k < all.length; k += 25) {
      if (child.exitCode !== null || child.killed) return;
      child.stdin!.write(all.slice(k, k + 25).map((r) => JSON.stringify(r)).join('\n') + '\n');
      await new Promise((r) => setTimeout(r, 2));
    }
    child.stdin!.end();
  })().catch(() => undefined);
  return child;
}

describe('export-csv durable files (real binaries)', () => {
  it("fault: seed002-append-sigkill — seed 002: 4 × export-csv --append --delimiter ';' --dedupe id, one SIGKILLed half way and restarted → 10,000 unique whole rows", async () => {
    const path = join(tempDir(), 'results.csv');
    const procs = [0, 1, 2, 3].map((k) => appender(path, k * 2500));
    await until(() => contains(path, '\n1250;'));
    procs[0]!.kill('SIGKILL');
    await procs[0];
    const restarted = await appender(path, 0);
    const others = await Promise.all(procs.slice(1));
    for (const r of [restarted, ...others]) expect(r.exitCode, String(r.stderr)).toBe(0);
    const table: string[][] = parse(readFileSync(path), { delimiter: ';', bom: true });
    expect(table[0]).toEqual(['id', 'name', 'STATUS']);
    const data = table.slice(1);
    expect(data).toHaveLength(10_000);
    expect(new Set(data.map((r) => r[0])).size).toBe(10_000);
    for (const r of data) expect(r).toEqual([r[0], nameOf(Number(r[0])), 'COMPLETED']);
    const rec = String(restarted.stdout).trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.kind === 'export');
    expect(rec).toMatchObject({ kind: 'export', mode: 'append' });
    expect(rec.appended + rec.skipped).toBe(2500);
  });

  it('fault: ledger-pipeline-interrupted — the ledger: import-csv --where STATUS!=COMPLETED | worker | export-csv --upsert id --backup, interrupted then re-run → all COMPLETED, the 5 newest backups kept', async () => {
    const dir = tempDir();
    const ledger = join(dir, 'ledger.csv');
    writeFileSync(ledger, 'id,name,STATUS\n' + Array.from({ length: 300 }, (_, i) => `${i},item ${i},PENDING\n`).join(''));
    const worker = join(ROOT, 'test/fixtures/complete-worker.mjs');
    const pipeline = (extra: string) =>
      execa(
        'bash',
        [
          '-c',
          `set -o pipefail; "${process.execPath}" "${binPath('import-csv')}" ledger.csv --where 'STATUS!=COMPLETED' | "${process.execPath}" "${worker}" ${extra} | "${process.execPath}" "${binPath('export-csv')}" --upsert id --columns id,name,STATUS -o ledger.csv --backup`,
        ],
        { cwd: dir, reject: false },
      );
    const statuses = () => (parse(readFileSync(ledger)) as string[][]).slice(1).map((r) => r[2]);
    const interrupted = await pipeline('--stop-after 120');
    expect(interrupted.exitCode).not.toBe(0);
    const mid = statuses();
    expect(mid).toHaveLength(300);
    expect(mid.filter((s) => s === 'COMPLETED')).toHaveLength(120);
    expect(readdirSync(join(dir, 'backups'))).toHaveLength(1);
    const resumed = await pipeline('');
    expect(resumed.exitCode, String(resumed.stderr)).toBe(0);
    expect(statuses().every((s) => s === 'COMPLETED')).toBe(true);
    expect((parse(readFileSync(ledger)) as string[][]).slice(1).map((r) => r[0])).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    for (let i = 0; i < 6; i++) {
      writeFileSync(ledger, readFileSync(ledger, 'utf8').replace(`\n${i},item ${i},COMPLETED\n`, `\n${i},item ${i},PENDING\n`));
      expect((await pipeline('')).exitCode).toBe(0);
    }
    expect(statuses().every((s) => s === 'COMPLETED')).toBe(true);
    // Seven runs changed the ledger; bare --backup keeps the five newest copies (seed 004).
    expect(readdirSync(join(dir, 'backups')).filter((n) => !n.endsWith('.tmp'))).toHaveLength(5);
  });

  it('fault: kill-upsert-sigkill — SIGKILL during export-csv --upsert leaves the ledger whole (old or new) and the backup in place', async () => {
    const dir = tempDir();
    const ledger = join(dir, 'ledger.csv');
    const original = 'id,name,STATUS\n' + Array.from({ length: 20_000 }, (_, i) => `${i},item ${i},PENDING\n`).join('');
    writeFileSync(ledger, original);
    const input = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: String(i), name: `item ${i}`, STATUS: 'COMPLETED' })).join('\n') + '\n';
    const child = execa(process.execPath, [binPath('export-csv'), '--upsert', 'id', '--columns', 'id,name,STATUS', '-o', ledger, '--backup'], { reject: false, input });
    await until(() => existsSync(join(dir, 'backups')) && readdirSync(join(dir, 'backups')).some((n) => !n.endsWith('.tmp')) || child.exitCode !== null);
    child.kill('SIGKILL');
    await child;
    const rows = (parse(readFileSync(ledger)) as string[][]).slice(1);
    expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 20_000 }, (_, i) => String(i)));
    expect(readdirSync(join(dir, 'backups')).filter((n) => !n.startsWith('.'))).toHaveLength(1);
    const again = await run('export-csv', ['--upsert', 'id', '--columns', 'id,name,STATUS', '-o', ledger, '--backup'], { input });
    expect(again.exitCode, again.stderr).toBe(0);
    expect((parse(readFileSync(ledger)) as string[][]).slice(1).every((r) => r[2] === 'COMPLETED')).toBe(true);
  });
});

describe('export-csv concurrency (issue 8)', () => {
  const input = (from: number, count: number, status: string) =>
    Array.from({ length: count }, (_, k) => JSON.stringify({ id: String(from + k), name: `n${from + k}`, STATUS: status })).join('\n') + '\n';

  it('fault: concurrent-append-8 — 8 concurrent export-csv --append writers: every row exactly once, the file valid CSV', async () => {
    const path = join(tempDir(), 'results.csv');
    const res = await Promise.all(
      Array.from({ length: 8 }, (_, k) => run('export-csv', ['--append', '--columns', 'id,name,STATUS', '-o', path], { input: input(k * 500, 500, 'DONE') })),
    );
    for (const r of res) expect(r.exitCode, r.stderr).toBe(0);
    const table: string[][] = parse(readFileSync(path));
    expect(table[0]).toEqual(['id', 'name', 'STATUS']);
    expect(table.slice(1).map((r) => Number(r[0])).sort((a, b) => a - b)).toEqual(Array.from({ length: 4000 }, (_, i) => i));
  });

  it('fault: concurrent-upsert-4 — 4 concurrent export-csv --upsert writers: every key exactly once, the file valid CSV', async () => {
    const path = join(tempDir(), 'ledger.csv');
    const res = await Promise.all(
      Array.from({ length: 4 }, (_, k) =>
        run('export-csv', ['--upsert', 'id', '--columns', 'id,name,STATUS', '-o', path], { input: input(0, 300, `W${k}`) + input(1000 + k * 100, 100, 'OWN') }),
      ),
    );
    for (const r of res) expect(r.exitCode, r.stderr).toBe(0);
    const data = (parse(readFileSync(path)) as string[][]).slice(1);
    expect(data).toHaveLength(700);
    expect(new Set(data.map((r) => r[0])).size).toBe(700);
  });
});

describe('export-csv on a full filesystem (a 256 KiB tmpfs; skipped where mount is not allowed)', () => {
  const mnt = tempDir('be-full-');
  const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status === 0;
  afterAll(() => {
    if (mounted) spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  const big = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: String(i), name: `name ${i}`, STATUS: 'COMPLETED' })).join('\n') + '\n';
  const small = (n: number) => 'id,name,STATUS\n' + Array.from({ length: n }, (_, i) => `${i},name ${i},PENDING\n`).join('');
  const clean = () => {
    for (const n of readdirSync(mnt)) rmSync(join(mnt, n), { recursive: true, force: true });
  };

  it.skipIf(!mounted)('fault: enospc-export-o — -o: ENOSPC is one clear line, exit 1, the old file intact, no temp file', async () => {
    clean();
    const path = join(mnt, 'out.csv');
    writeFileSync(path, small(10));
    const res = await run('export-csv', ['--columns', 'id,name,STATUS', '-o', path], { input: big });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/out\.csv: could not write \(no space left on device, ENOSPC\); the existing file was left untouched/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(path, 'utf8')).toBe(small(10));
    expect(readdirSync(mnt)).toEqual(['out.csv']);
  });

  it.skipIf(!mounted)('fault: enospc-append — --append: ENOSPC keeps the committed rows whole, exit 1', async () => {
    clean();
    const path = join(mnt, 'results.csv');
    writeFileSync(path, small(10));
    const res = await run('export-csv', ['--append', '--columns', 'id,name,STATUS', '-o', path], { input: big });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/results\.csv: could not append to it \(no space left on device, ENOSPC\)/);
    const table: string[][] = parse(readFileSync(path));
    expect(table.slice(0, 11)).toEqual(parse(small(10)));
    for (const r of table.slice(1)) expect(r).toHaveLength(3);
    expect(readdirSync(mnt).filter((n) => n.endsWith('.lock') || n.endsWith('.tmp'))).toEqual([]);
  });

  it.skipIf(!mounted)('fault: enospc-upsert — --upsert: ENOSPC leaves the ledger as its last commit left it (whole, each key once), exit 1', async () => {
    clean();
    const path = join(mnt, 'ledger.csv');
    writeFileSync(path, small(10));
    const res = await run('export-csv', ['--upsert', 'id', '--columns', 'id,name,STATUS', '-o', path], { input: big });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/ledger\.csv: could not write \(no space left on device, ENOSPC\); the existing file was left untouched/);
    const ids = (parse(readFileSync(path)) as string[][]).slice(1).map((r) => Number(r[0]));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i));
    expect(ids.length).toBeGreaterThanOrEqual(10);
    expect(readdirSync(mnt)).toEqual(['ledger.csv']);
  });
});
