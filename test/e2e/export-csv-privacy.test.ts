import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ndjson, ROOT, run, tempDir } from '../helpers/run.js';

const ev = (id: string, extra: Record<string, unknown> = {}) => ({
  event_id: id, timestamp: '2026-11-21T10:15:30.123Z', event_type: 'error', category: 'Flywheel Error', message: `m ${id}`, action_needed: 'retry',
  user_context: { email: `${id}@x.org`, name: 'Ada', center_id: 7, registry_id: 'R-1', auth_email: `${id}@inst.edu` },
  details: { reason: 'quota', ticket_token: 'tok-123' }, source: { job: 'nightly', file: 'd.csv', line: 1 }, ...extra,
});
const input = ndjson([ev('a'), ev('b')]);

function policyFile(dir: string, obj: unknown, name = 'p.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(obj, null, 2) + '\n');
  return path;
}

// Python's csv module reads the CSV the way a spreadsheet user's tools would.
async function pyRows(text: string): Promise<string[][]> {
  const r = await execa('python3', ['-c', 'import csv,sys,json; print(json.dumps(list(csv.reader(sys.stdin))))'], { input: text });
  return JSON.parse(r.stdout);
}

describe('export-csv --privacy-policy / --privacy-level', () => {
  it('email confidential, message public: at public there is no email column and an unlisted field is left out', async () => {
    const dir = tempDir();
    const p = policyFile(dir, { fields: { 'user_context.email': 'confidential', message: 'public', category: 'public' } });
    const r = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'public'], { input });
    expect(r.exitCode).toBe(0);
    const rows = await pyRows(r.stdout);
    // name, center_id, … , timestamp, event_id are not in the policy: internal by default, so not public.
    expect(rows).toEqual([['category', 'message'], ['Flywheel Error', 'm a'], ['Flywheel Error', 'm b']]);
    expect(r.stdout).not.toContain('@x.org');
  });

  it('a field the policy says to redact keeps its column with [REDACTED] cells (empty stays empty)', async () => {
    const dir = tempDir();
    const p = policyFile(dir, { fields: { 'user_context.email': { level: 'confidential', action: 'redact' }, message: 'public' } });
    const r = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'public'], { input: ndjson([ev('a'), ev('b', { user_context: { email: null } })]) });
    expect(r.exitCode).toBe(0);
    expect(await pyRows(r.stdout)).toEqual([['email', 'message'], ['[REDACTED]', 'm a'], ['', 'm b']]);
  });

  it('at the field\'s own level it is exported; --rename cannot lower a level, and naming it in --columns warns', async () => {
    const dir = tempDir();
    const p = policyFile(dir, { fields: { 'user_context.email': 'confidential', message: 'public', contact: 'restricted' } });
    const conf = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'confidential', '--columns', 'email,message'], { input });
    expect(await pyRows(conf.stdout)).toEqual([['email', 'message'], ['a@x.org', 'm a'], ['b@x.org', 'm b']]);
    const renamed = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'confidential', '--columns', 'email,message', '--rename', 'email=contact'], { input });
    expect(renamed.exitCode).toBe(0);
    expect(await pyRows(renamed.stdout)).toEqual([['message'], ['m a'], ['m b']]);
    expect(renamed.stderr).toContain('export-csv: warning: column email is restricted ("contact"), above --privacy-level confidential: left out');
  });

  it('applies to discovered columns of non-event records and filters inside an object column', async () => {
    const dir = tempDir();
    const p = policyFile(dir, { default: 'confidential', fields: { id: 'public', 'meta.**': 'public', 'meta.owner': 'restricted' } });
    const recs = ndjson([{ id: 1, secret_sauce: 'x', meta: { size: 3, owner: 'ops' } }]);
    const flat = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'public'], { input: recs });
    expect(await pyRows(flat.stdout)).toEqual([['id', 'meta.size'], ['1', '3']]);
    const obj = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'public', '--columns', 'id,meta'], { input: recs });
    expect(await pyRows(obj.stdout)).toEqual([['id', 'meta'], ['1', '{"size":3}']]);
  });

  it('the level defaults to the policy\'s lowest; the export record names the level and the policy', async () => {
    const dir = tempDir();
    const p = policyFile(dir, { levels: ['open', 'team'], default: 'team', fields: { message: 'open' } });
    const r = await run('export-csv', ['--privacy-policy', p, '-o', join(dir, 'x.csv')], { input });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'x.csv'), 'utf8')).toBe('message\nm a\nm b\n');
    expect(r.records[0]).toMatchObject({ kind: 'export', columns: ['message'], privacy_level: 'open', privacy_policy: p });
  });

  it('--no-redact does not turn the policy off (it is about secrets, not levels)', async () => {
    const dir = tempDir();
    const p = policyFile(dir, { fields: { message: 'public', 'details.ticket_token': 'public' } });
    const r = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'public', '--no-redact', '--columns', 'message,email,details.ticket_token'], { input });
    expect(await pyRows(r.stdout)).toEqual([['message', 'details.ticket_token'], ['m a', 'tok-123'], ['m b', 'tok-123']]);
  });

  it('file names are outputs too: a template placeholder above the level is a usage error', async () => {
    const dir = tempDir();
    const p = policyFile(dir, { fields: { message: 'public', category: 'public' } });
    const bad = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'public', '--split-by', 'user_context.email', '-o', join(dir, 'e-{value}.csv')], { input });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe('export-csv: invalid --split-by: {value} would put user_context.email (internal) into file names, above --privacy-level public, got "user_context.email"\n');
    const ok = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'public', '-o', join(dir, '{category}.csv')], { input });
    expect(ok.exitCode).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['Flywheel Error.csv', 'p.json']);
  });

  it('--pass-through forwards the input records unchanged (the policy governs the CSV, not the pipeline)', async () => {
    const dir = tempDir();
    const p = policyFile(dir, { fields: { message: 'public' } });
    const r = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'public', '-o', join(dir, 'x.csv'), '--pass-through'], { input });
    expect(r.records.filter((x) => !x.kind).map((x) => x.user_context.email)).toEqual(['a@x.org', 'b@x.org']);
    expect(readFileSync(join(dir, 'x.csv'), 'utf8')).toBe('message\nm a\nm b\n');
  });

  it('the example policy: public export of the example events has no addresses', async () => {
    const events = readFileSync(join(ROOT, 'examples/data/events.ndjson'), 'utf8');
    const r = await run('export-csv', ['--privacy-policy', join(ROOT, 'examples/privacy/policy.json'), '--privacy-level', 'public'], { input: events });
    expect(r.exitCode).toBe(0);
    const rows = await pyRows(r.stdout);
    expect(rows[0]).toEqual(['auth_email', 'category', 'message', 'action_needed', 'timestamp', 'event_id']);
    expect(rows.slice(1).every((row) => row[0] === '' || row[0] === '[REDACTED]')).toBe(true);
    expect(r.stdout).not.toMatch(/@/);
  });

  it('usage errors: a malformed policy names FILE:LINE:COL, a missing one its name, an unknown level the choices; exit 2', async () => {
    const dir = tempDir();
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "fields": {\n    "message": "public"\n    "category": "public"\n  }\n}\n');
    const a = await run('export-csv', ['--privacy-policy', broken], { input });
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toBe(`export-csv: invalid --privacy-policy: ${broken}:4:5: expected ','\n`);
    expect(a.stdout).toBe('');
    const b = await run('export-csv', ['--privacy-policy', join(dir, 'nope.json')], { input });
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toBe(`export-csv: invalid --privacy-policy: ${join(dir, 'nope.json')}: no such file or directory\n`);
    const p = policyFile(dir, { fields: {} });
    const c = await run('export-csv', ['--privacy-policy', p, '--privacy-level', 'secret'], { input });
    expect(c.exitCode).toBe(2);
    expect(c.stderr).toBe(`export-csv: invalid --privacy-level: must be one of public, internal, confidential, restricted (from ${p}), got "secret"\n`);
    const d = await run('export-csv', ['--privacy-level', 'public'], { input });
    expect(d.exitCode).toBe(2);
    expect(d.stderr).toBe('export-csv: --privacy-level needs --privacy-policy FILE\n');
  });
});
