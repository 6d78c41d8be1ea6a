import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binPath, ndjson, run, tempDir } from '../helpers/run.js';

const ev = (id: string, category: string, file: string, extra: Record<string, unknown> = {}) => ({
  event_id: id, timestamp: '2026-11-21T10:15:30.123Z', event_type: 'error', category, message: `m ${id}`, action_needed: null,
  user_context: { email: `${id}@x.org`, name: 'N', center_id: 1, registry_id: null, auth_email: null },
  details: {}, source: { job: 'user_management', file, line: 1 }, ...extra,
});
const events = [ev('a', 'Flywheel Error', '/data/directory.csv'), ev('b', 'Unverified Email', '/data/directory.csv'), ev('c', 'Flywheel Error', 'other.ndjson')];

describe('export-csv -o: atomic files and the export record', () => {
  it('writes the file atomically and prints one export record (rows, bytes, sha256, columns, times, filters, mode)', async () => {
    const dir = tempDir();
    const path = join(dir, 'errors.csv');
    const r = await run('export-csv', ['-o', path, '--category', 'Flywheel Error'], { input: ndjson(events) });
    expect(r.exitCode).toBe(0);
    const body = readFileSync(path);
    expect(body.toString().split('\n')).toHaveLength(4);
    expect(r.records).toHaveLength(1);
    const rec = r.records[0]!;
    expect(rec).toMatchObject({
      kind: 'export', path, file: 'errors.csv', rows: 2, bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      columns: ['email', 'name', 'center_id', 'registry_id', 'auth_email', 'category', 'message', 'action_needed', 'timestamp', 'event_id'],
      filters: { category: ['Flywheel Error'] }, mode: 'replace',
    });
    expect(Date.parse(rec.finished_at)).toBeGreaterThanOrEqual(Date.parse(rec.started_at));
    expect(readdirSync(dir)).toEqual(['errors.csv']);
  });

  it('-o templates: {source} is the basename of source.file without extension', async () => {
    const dir = tempDir();
    const r = await run('export-csv', ['-o', join(dir, '{source}-errors.csv')], { input: ndjson(events) });
    expect(r.exitCode).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['directory-errors.csv', 'other-errors.csv']);
    expect(r.records.map((x) => [x.file, x.rows]).sort()).toEqual([['directory-errors.csv', 2], ['other-errors.csv', 1]]);
  });

  it('-o templates: {job} is source.job, with a safe file name; a record without one is "unknown"', async () => {
    const dir = tempDir();
    const input = ndjson([...events, ev('n', 'Flywheel Error', 'x.csv', { source: { job: 'nightly/sync', file: 'x.csv', line: 1 } }), ev('u', 'Flywheel Error', 'y.csv', { source: { job: null, file: 'y.csv', line: 1 } })]);
    const r = await run('export-csv', ['-o', join(dir, '{job}.csv')], { input });
    expect(r.exitCode).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['nightly_sync.csv', 'unknown.csv', 'user_management.csv']);
    expect(r.records.map((x) => [x.file, x.rows]).sort()).toEqual([['nightly_sync.csv', 1], ['unknown.csv', 1], ['user_management.csv', 3]]);
  });

  it('--split-by writes one file per value with safe names (no separators, no ..)', async () => {
    const dir = tempDir();
    const input = ndjson([...events, ev('d', 'Duplicate/Wrong User Records', 'x'), ev('e', '../../etc/passwd', 'x')]);
    const r = await run('export-csv', ['--split-by', 'category', '-o', join(dir, 'errors-{category}.csv')], { input });
    expect(r.exitCode).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['errors-Duplicate_Wrong User Records.csv', 'errors-Flywheel Error.csv', 'errors-Unverified Email.csv', 'errors-____etc_passwd.csv']);
    for (const f of files) {
      expect(f).not.toMatch(/\.\.|\//);
      expect(f.startsWith('errors-')).toBe(true);
    }
    expect(r.records).toHaveLength(files.length);
    expect(r.records.reduce((n, x) => n + x.rows, 0)).toBe(5);
    const bad = await run('export-csv', ['--split-by', 'category', '-o', join(dir, 'x.csv')], { input: '' });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/invalid --split-by: needs -o with a \{value\} or \{category\} placeholder/);
  });

  it('zero rows: a new file gets the header only; an existing non-empty file is kept unless --allow-empty', async () => {
    const dir = tempDir();
    const path = join(dir, 'errors.csv');
    const fresh = await run('export-csv', ['-o', path], { input: '' });
    expect(fresh.exitCode).toBe(0);
    expect(readFileSync(path, 'utf8')).toMatch(/^email,name,.*event_id\n$/);
    expect(fresh.records[0]).toMatchObject({ rows: 0 });
    writeFileSync(path, 'email\nold@x.org\n');
    const kept = await run('export-csv', ['-o', path], { input: '' });
    expect(kept.exitCode).toBe(0);
    expect(kept.stderr).toMatch(/no rows to export: kept the existing/);
    expect(kept.records).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe('email\nold@x.org\n');
    const replaced = await run('export-csv', ['-o', path, '--allow-empty'], { input: '' });
    expect(replaced.records[0]).toMatchObject({ rows: 0 });
    expect(readFileSync(path, 'utf8')).toMatch(/^email,name/);
  });

  it('--pass-through forwards every input record; summaries pass through with -o anyway', async () => {
    const dir = tempDir();
    const summary = { kind: 'summary', total: 3 };
    const input = ndjson([summary, ...events]);
    const plain = await run('export-csv', ['-o', join(dir, 'a.csv')], { input });
    expect(plain.records.map((x) => x.kind)).toEqual(['summary', 'export']);
    const pass = await run('export-csv', ['-o', join(dir, 'b.csv'), '--pass-through', '--type', 'success'], { input });
    expect(pass.records.map((x) => x.kind ?? x.event_id)).toEqual(['summary', 'a', 'b', 'c', 'export']);
    expect(pass.records[4]!.rows).toBe(0);
    const noOut = await run('export-csv', ['--pass-through'], { input });
    expect(noOut.exitCode).toBe(2);
  });

  it('--backup keeps copies of the replaced file in backups/', async () => {
    const dir = tempDir();
    const path = join(dir, 'errors.csv');
    for (let i = 0; i < 3; i++) {
      const r = await run('export-csv', ['-o', path, '--backup', '2'], { input: ndjson(events) });
      expect(r.exitCode).toBe(0);
    }
    expect(readdirSync(join(dir, 'backups')).length).toBeLessThanOrEqual(2);
    expect(readdirSync(join(dir, 'backups')).length).toBeGreaterThan(0);
    const bare = await run('export-csv', ['-o', path, '--backup'], { input: ndjson(events) });
    expect(bare.exitCode).toBe(0);
  });

  /** export-csv -o fed a stream that has not ended, then signalled: the old file and nothing else stays. */
  async function signalMidstream(signal: NodeJS.Signals): Promise<{ exitCode?: number; signal?: string; dir: string; path: string }> {
    const dir = tempDir();
    const path = join(dir, 'errors.csv');
    writeFileSync(path, 'old\n');
    const child = execa(process.execPath, [binPath('export-csv'), '-o', path], { stdin: 'pipe', reject: false });
    child.stdin!.write(ndjson(Array.from({ length: 20_000 }, (_, i) => ev(`k${i}`, 'Flywheel Error', 'f'))));
    await new Promise((res) => setTimeout(res, 1000));
    child.kill(signal);
    const r = await child;
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['errors.csv']);
    return { exitCode: r.exitCode, signal: r.signal, dir, path };
  }

  it('fault: kill-export-o-sigterm-midstream — a run killed with SIGTERM mid-stream leaves the old file and no temporary file', async () => {
    const r = await signalMidstream('SIGTERM');
    expect(r.signal).toBe('SIGTERM');
  });

  it('fault: kill-export-o-sighup-midstream — a run whose terminal hangs up (SIGHUP) mid-stream leaves the old file and no temporary file', async () => {
    const r = await signalMidstream('SIGHUP');
    expect(r.signal).toBe('SIGHUP');
  });

  it('fault: missing-folder-o — a folder that does not exist is a one-line I/O error (exit 1), nothing written', async () => {
    const dir = tempDir();
    const r = await run('export-csv', ['-o', join(dir, 'nope', 'x.csv')], { input: ndjson(events) });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'nope'))).toBe(false);
  });
});
