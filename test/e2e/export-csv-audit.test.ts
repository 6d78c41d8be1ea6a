import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { binPath, ndjson, nodeFlags, ROOT, run, tempDir } from '../helpers/run.js';

const ev = (id: string) => ({
  event_id: id, timestamp: '2026-11-21T10:15:30.123Z', event_type: 'error', category: 'Flywheel Error', message: `m ${id}`, action_needed: null,
  user_context: { email: `${id}@x.org`, name: 'N', center_id: 1, registry_id: null, auth_email: null },
  details: {}, source: { job: 'nightly', file: 'd.csv', line: 1 },
});
const input = ndjson([ev('a'), ev('b'), ev('c')]);
const me = { user: userInfo().username, uid: process.geteuid!(), host: hostname() };

const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validateExport = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schema/export.v1.json'), 'utf8')));

/** The log's lines, each checked against schema/export.v1.json. */
function auditLines(path: string): Array<Record<string, any>> {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  for (const l of lines) expect(validateExport(l), JSON.stringify(validateExport.errors)).toBe(true);
  return lines;
}

describe('export-csv audit: by, privacy_level, redaction, argv; --audit-log FILE', () => {
  it('--no-redact -o x.csv --audit-log audit.ndjson: one audit line with redaction off, the user and the host, equal to the export record', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.ndjson');
    const args = ['--no-redact', '-o', join(dir, 'x.csv'), '--audit-log', log];
    const r = await run('export-csv', args, { input });
    expect(r.exitCode).toBe(0);
    const lines = auditLines(log);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ kind: 'export', rows: 3, by: me, redaction: 'off', privacy_level: null, privacy_policy: null, argv: ['export-csv', ...args] });
    expect(r.records).toEqual(lines);
    const body = readFileSync(join(dir, 'x.csv'));
    expect(lines[0]!.sha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('--keep-key leaves its patterns as the redaction trace (a partial off is audited, not hidden)', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.ndjson');
    const r = await run('export-csv', ['--keep-key', '^max_token$', '-o', join(dir, 'x.csv'), '--audit-log', log], { input });
    expect(r.exitCode).toBe(0);
    expect(auditLines(log)[0]).toMatchObject({ redaction: ['^max_token$'] });
  });

  it('without --audit-log the export record still says who, at which level, and that redaction was on', async () => {
    const dir = tempDir();
    const policy = join(dir, 'p.json');
    writeFileSync(policy, '{"fields": {"message": "public"}}');
    const r = await run('export-csv', ['-o', join(dir, 'x.csv'), '--privacy-policy', policy, '--privacy-level', 'internal'], { input });
    expect(r.records[0]).toMatchObject({ by: me, privacy_level: 'internal', privacy_policy: policy, redaction: 'on' });
    expect(existsSync(join(dir, 'audit.ndjson'))).toBe(false);
  });

  it('8 concurrent exports (real processes) leave 8 whole audit lines', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.ndjson');
    const big = ndjson(Array.from({ length: 200 }, (_, i) => ev(`e${i}`)));
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        execa(process.execPath, [...nodeFlags('export-csv'), binPath('export-csv'), '-o', join(dir, `out-${i}.csv`), '--audit-log', log, '--where', `message!=m e${i}`], { input: big, reject: false }),
      ),
    );
    for (const r of runs) expect(r.exitCode, String(r.stderr)).toBe(0);
    const lines = auditLines(log);
    expect(lines).toHaveLength(8);
    expect(lines.map((l) => l.file).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `out-${i}.csv`).sort());
    for (const l of lines) expect(l).toMatchObject({ kind: 'export', rows: 199, by: me, redaction: 'on' });
    expect(existsSync(`${log}.lock`)).toBe(false);
  });

  it('the append takes FILE.lock, the lock of export-csv --append: a held lock makes it wait, then fail after --lock-timeout', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.ndjson');
    writeFileSync(`${log}.lock`, JSON.stringify({ pid: process.pid, hostname: hostname(), time: '2026-12-01T00:00:00Z', token: 'held-by-test' }));
    const r = await run('export-csv', ['-o', join(dir, 'x.csv'), '--audit-log', log, '--lock-timeout', '1s'], { input });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`export-csv: ${log}: still locked by pid ${process.pid} on ${hostname()}`);
    expect(readFileSync(log, 'utf8')).toBe('');
  });

  it('a line torn by an earlier crash is closed first, so the new line stays whole', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.ndjson');
    writeFileSync(log, '{"kind":"export","path":"/x"}\n{"kind":"exp');
    const r = await run('export-csv', ['-o', join(dir, 'x.csv'), '--audit-log', log], { input });
    expect(r.exitCode).toBe(0);
    const text = readFileSync(log, 'utf8').split('\n');
    expect(text[1]).toBe('{"kind":"exp');
    expect(JSON.parse(text[2]!)).toMatchObject({ kind: 'export', rows: 3 });
  });

  it('a CSV on stdout is audited too (mode stdout, path -, the sha256 of what was printed)', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.ndjson');
    const r = await run('export-csv', ['--audit-log', log], { input });
    expect(r.exitCode).toBe(0);
    const [line] = auditLines(log);
    expect(line).toMatchObject({ kind: 'export', path: '-', mode: 'stdout', rows: 3, bytes: Buffer.byteLength(r.stdout), sha256: createHash('sha256').update(r.stdout).digest('hex') });
  });

  it('--append exports are audited with their mode and counts', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.ndjson');
    await run('export-csv', ['-o', join(dir, 'l.csv'), '--append', '--audit-log', log], { input });
    await run('export-csv', ['-o', join(dir, 'l.csv'), '--dedupe', 'event_id', '--audit-log', log], { input: ndjson([ev('a'), ev('d')]) });
    expect(auditLines(log).map((l) => [l.mode, l.appended, l.skipped, l.rows])).toEqual([['append', 3, 0, 3], ['append', 1, 1, 4]]);
  });

  it('secrets in the arguments are redacted in argv (exact with --no-redact)', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.ndjson');
    await run('export-csv', ['-o', join(dir, 'x.csv'), '--audit-log', log, '--where', 'message!=password=hunter22'], { input });
    expect(auditLines(log)[0]!.argv).toContain('message!=password=[REDACTED]');
  });

  it('a failed export is audited with status failed and the reason; an unwritable audit log stops the export before it starts', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit.ndjson');
    const r = await run('export-csv', ['-o', join(dir, 'missing-dir', 'x.csv'), '--audit-log', log], { input });
    expect(r.exitCode).toBe(1);
    const [line] = auditLines(log);
    expect(line).toMatchObject({ kind: 'export', status: 'failed', path: join(dir, 'missing-dir', 'x.csv'), by: me, redaction: 'on' });
    expect(line!.error).toMatch(/no such file or directory/);

    const nolog = await run('export-csv', ['-o', join(dir, 'y.csv'), '--audit-log', join(dir, 'no', 'audit.ndjson')], { input });
    expect(nolog.exitCode).toBe(1);
    expect(nolog.stderr).toMatch(/could not open the audit log for appending \(no such file or directory, ENOENT\); nothing was exported/);
    expect(existsSync(join(dir, 'y.csv'))).toBe(false);
  });
});
