import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ndjson, run, tempDir } from '../helpers/run.js';

const rows = (n: number, status: string, from = 0) => Array.from({ length: n }, (_, i) => ({ id: String(from + i), STATUS: status, note: i % 2 ? 'a;b' : '=x' }));

describe('export-csv --append / --dedupe / --upsert (wired to the ledger)', () => {
  it('--dedupe: a re-run appends only what is missing; safe cells still apply', async () => {
    const dir = tempDir();
    const path = join(dir, 'results.csv');
    const args = ['--dedupe', 'id', '--delimiter', ';', '--columns', 'id,STATUS,note', '-o', path];
    const first = await run('export-csv', args, { input: ndjson(rows(3, 'DONE')) });
    expect(first.exitCode).toBe(0);
    expect(first.records[0]).toMatchObject({ kind: 'export', mode: 'append', appended: 3 });
    const again = await run('export-csv', args, { input: ndjson(rows(5, 'DONE')) });
    expect(again.records[0]).toMatchObject({ appended: 2, skipped: 3, rows: 5 });
    expect(readFileSync(path, 'utf8')).toBe("id;STATUS;note\n0;DONE;'=x\n1;DONE;\"a;b\"\n2;DONE;'=x\n3;DONE;\"a;b\"\n4;DONE;'=x\n");
  });

  it('--lock-timeout: a file locked by a live writer is refused after the wait, in one line, the file untouched', async () => {
    const dir = tempDir();
    const path = join(dir, 'results.csv');
    writeFileSync(path, 'id,STATUS\n0,DONE\n');
    // Held by this (live) test process on this host: not stale, so the writer must wait.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.pid, hostname: hostname(), time: new Date().toISOString(), token: 'heldbytest' }));
    const started = Date.now();
    const r = await run('export-csv', ['--append', '--columns', 'id,STATUS', '--lock-timeout', '1s', '-o', path], { input: ndjson(rows(2, 'NEW', 5)) });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/still locked by .*after waiting \d+s.*raise --lock-timeout/);
    expect(r.stderr.trim().split('\n').filter((l) => !/waiting for/.test(l))).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(readFileSync(path, 'utf8')).toBe('id,STATUS\n0,DONE\n');

    const bad = await run('export-csv', ['--append', '--lock-timeout', 'soon', '-o', path], { input: '' });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^export-csv: invalid --lock-timeout: must be a duration/);
  });

  it('--upsert replaces rows in place by key and keeps backups with --backup', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    const cols = ['--columns', 'id,STATUS', '-o', path];
    await run('export-csv', ['--upsert', 'id', ...cols], { input: ndjson(rows(4, 'PENDING')) });
    const r = await run('export-csv', ['--upsert', 'id', '--backup', ...cols], { input: ndjson([{ id: '2', STATUS: 'COMPLETED' }, { id: '9', STATUS: 'NEW' }]) });
    expect(r.exitCode).toBe(0);
    expect(r.records[0]).toMatchObject({ mode: 'upsert', updated: 1, appended: 1 });
    expect(readFileSync(path, 'utf8')).toBe('id,STATUS\n0,PENDING\n1,PENDING\n2,COMPLETED\n3,PENDING\n9,NEW\n');
    const pending = await run('import-csv', [path, '--where', 'STATUS!=COMPLETED']);
    expect(pending.records.map((x) => x.id)).toEqual(['0', '1', '3', '9']);
  });

  it('usage errors: --append without -o, --upsert with --dedupe, --replace-rows without --upsert, a bad --commit-interval', async () => {
    const dir = tempDir();
    expect((await run('export-csv', ['--append'], { input: '' })).exitCode).toBe(2);
    expect((await run('export-csv', ['--upsert', 'id', '--dedupe', 'id', '-o', join(dir, 'x.csv')], { input: '' })).exitCode).toBe(2);
    const rr = await run('export-csv', ['--append', '--replace-rows', '-o', join(dir, 'x.csv')], { input: '' });
    expect(rr.exitCode).toBe(2);
    expect(rr.stderr).toMatch(/--replace-rows needs --upsert/);
    const ci = await run('export-csv', ['--append', '--commit-interval', 'soon', '-o', join(dir, 'x.csv')], { input: '' });
    expect(ci.exitCode).toBe(2);
    expect(ci.stderr).toMatch(/^export-csv: invalid --commit-interval/);
  });
});
