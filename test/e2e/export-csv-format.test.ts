import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { binPath, ndjson, run, tempDir } from '../helpers/run.js';

const ada = {
  event_id: 'e1', timestamp: '2026-11-21T10:15:30.123Z', event_type: 'error', category: 'Bad ORCID Claims',
  message: 'User has "incomplete" claim, with ORCID', action_needed: 'delete_bad_record_and_reclaim_with_institutional_idp',
  user_context: { email: 'a@b.org', name: 'Ada Lovelace', center_id: 42, registry_id: null, auth_email: 'a@inst.edu' },
  details: { has_orcid_org_identity: true }, source: { job: 'user_management', file: 'in/directory.csv', line: 17 },
};
const evil = {
  ...ada, event_id: 'e2', category: 'Flywheel Error', event_type: 'error', timestamp: '2026-11-22T08:00:00.000Z',
  message: '=HYPERLINK("http://x")\nsecond line', action_needed: null,
  user_context: { email: '@evil', name: 'Zoë 名前', center_id: null, registry_id: '-5', auth_email: null },
};
const ok = { ...ada, event_id: 'e3', event_type: 'success', category: 'User Successfully Created', message: 'created', action_needed: null };
const HEADER = 'email,name,center_id,registry_id,auth_email,category,message,action_needed,timestamp,event_id';

describe('export-csv: seed 000 format and safe cells', () => {
  it('events: the ten columns in order, user_context flattened, nulls empty, minimal quoting, LF', async () => {
    const r = await run('export-csv', [], { input: ndjson([ada]) });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      `${HEADER}\na@b.org,Ada Lovelace,42,,a@inst.edu,Bad ORCID Claims,"User has ""incomplete"" claim, with ORCID",delete_bad_record_and_reclaim_with_institutional_idp,2026-11-21T10:15:30.123Z,e1\n`,
    );
  });

  it('neutralises formula cells by default; --no-escape-formulas keeps them; negative numbers stay', async () => {
    const safe = await run('export-csv', [], { input: ndjson([evil]) });
    expect(safe.stdout).toContain("'@evil,Zoë 名前,,-5,,Flywheel Error,\"'=HYPERLINK(\"\"http://x\"\")\nsecond line\",,");
    const raw = await run('export-csv', ['--no-escape-formulas'], { input: ndjson([evil]) });
    expect(raw.stdout).toContain('\n@evil,Zoë 名前,,-5,,Flywheel Error,"=HYPERLINK(""http://x"")\nsecond line",,');
  });

  it('redacts secret keys and values by default; --no-redact and --redact-key', async () => {
    const recs = [{ user: 'ada', password: 'hunter2', note: 'use Bearer abc123def456ghi and postgres://u:pw1234@db/x', nested: { api_key: 'k-123' } }];
    const r = await run('export-csv', [], { input: ndjson(recs) });
    expect(r.stdout).toBe('user,password,note,nested.api_key\nada,[REDACTED],use [REDACTED] and postgres://u:[REDACTED]@db/x,[REDACTED]\n');
    const off = await run('export-csv', ['--no-redact'], { input: ndjson(recs) });
    expect(off.stdout).toContain('hunter2');
    const extra = await run('export-csv', ['--redact-key', '^user$'], { input: ndjson(recs) });
    expect(extra.stdout.split('\n')[1]!.startsWith('[REDACTED],')).toBe(true);
  });

  it('other records: nested objects flattened with ".", arrays as JSON, booleans, every key seen (late ones too)', async () => {
    const recs = [{ id: 1, meta: { ok: true, tags: ['a', 'b'] } }, ...Array.from({ length: 3000 }, (_, i) => ({ id: i + 2 })), { id: 'last', late: 'x,y' }];
    const r = await run('export-csv', [], { input: ndjson(recs) });
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('id,meta.ok,meta.tags,late');
    expect(lines[1]).toBe('1,true,"[""a"",""b""]",');
    expect(lines[2]).toBe('2,,,');
    expect(lines[3002]).toBe('last,,,"x,y"');
  });

  it('a record whose dotted key and nested object flatten to one column is a bad line, not a lost value', async () => {
    const dir = tempDir();
    const rejects = join(dir, 'rejects.ndjson');
    const input = ndjson([{ x: 1, 'a.b': 'flat', a: { b: 'nested' } }, { x: 2, a: { b: 'only' } }, { x: 3, 'a.b': 'dotted' }]);
    const r = await run('export-csv', ['--rejects', rejects], { input });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^stdin:1: two fields flatten to the same column "a\.b"/);
    expect(r.stdout).toBe('x,a.b\n2,only\n3,dotted\n');
    const [bad] = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(JSON.parse(bad.raw)).toEqual({ x: 1, 'a.b': 'flat', a: { b: 'nested' } });
  });

  it('--columns, --exclude, --rename, --delimiter ; and tab, --quote, --no-header, --crlf, --bom', async () => {
    const input = ndjson([ada]);
    const cols = await run('export-csv', ['--columns', 'event_id,email,source.file', '--rename', 'event_id=id', '--delimiter', ';'], { input });
    expect(cols.stdout).toBe('id;email;source.file\ne1;a@b.org;in/directory.csv\n');
    const ex = await run('export-csv', ['--exclude', 'message,action_needed,timestamp,event_id,category', '--delimiter', '\\t', '--no-header'], { input });
    expect(ex.stdout).toBe('a@b.org\tAda Lovelace\t42\t\ta@inst.edu\n');
    const q = await run('export-csv', ['--columns', 'message', '--quote', "'", '--crlf', '--bom'], { input });
    expect(q.stdout).toBe('\uFEFFmessage\r\n\'User has "incomplete" claim, with ORCID\'\r\n');
  });

  it('--excel: BOM + CRLF + formula neutralisation', async () => {
    const r = await execa(process.execPath, [binPath('export-csv'), '--excel', '--columns', 'email'], { input: ndjson([evil]), encoding: 'buffer', stripFinalNewline: false });
    expect(Buffer.from(r.stdout as Uint8Array).toString('utf8')).toBe("\uFEFFemail\r\n'@evil\r\n");
  });

  it('the shared filters apply: --type, --category, --since/--until, --where', async () => {
    const input = ndjson([ada, evil, ok]);
    const ids = async (args: string[]) => (await run('export-csv', ['--columns', 'event_id', '--no-header', ...args], { input })).stdout.trim().split('\n');
    expect(await ids(['--type', 'success'])).toEqual(['e3']);
    expect(await ids(['--category', 'Flywheel Error'])).toEqual(['e2']);
    expect(await ids(['--since', '2026-11-22T00:00:00Z'])).toEqual(['e2']);
    expect(await ids(['--where', 'user_context.email=a@b.org', '--type', 'error'])).toEqual(['e1']);
  });

  it('zero rows: stdout gets the header', async () => {
    const r = await run('export-csv', ['--type', 'success'], { input: ndjson([ada]) });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(HEADER + '\n');
    const empty = await run('export-csv', [], { input: '' });
    expect(empty.stdout).toBe(HEADER + '\n');
  });

  it('bad options exit 2 with a one-line message; bad input lines are FILE:LINE', async () => {
    const d = await run('export-csv', ['--delimiter', ';;'], { input: '' });
    expect(d.exitCode).toBe(2);
    expect(d.stderr).toMatch(/^export-csv: invalid --delimiter: must be one character \(\\t for a tab\), got ";;"/);
    const q = await run('export-csv', ['--quote', ','], { input: '' });
    expect(q.exitCode).toBe(2);
    // Quotes are counted on raw bytes: a multi-byte quote is refused, not half-honoured.
    const mb = await run('export-csv', ['--quote', '«'], { input: '' });
    expect(mb.exitCode).toBe(2);
    expect(mb.stderr).toMatch(/^export-csv: invalid --quote: must be one ASCII character/);
    const u = await run('export-csv', ['--frobnicate'], { input: '' });
    expect(u.exitCode).toBe(2);
    const bad = await run('export-csv', ['--columns', 'event_id'], { input: `${JSON.stringify(ada)}\n{oops\n` });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/^stdin:2: invalid JSON/m);
    expect(bad.stdout).toBe('event_id\ne1\n');
  });

  it('fault: pipe-head-1-export-csv — | head -1 ends quietly with exit 0', async () => {
    const input = ndjson(Array.from({ length: 50_000 }, (_, i) => ({ ...ada, event_id: `id${i}` })));
    const r = await execa('bash', ['-c', `node ${binPath('export-csv')} | head -1`], { input, reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(HEADER);
    expect(r.stderr).toBe('');
  });

  it('--help lists the contract flags', async () => {
    const r = await run('export-csv', ['--help']);
    expect(r.exitCode).toBe(0);
    for (const f of ['--columns', '--rename', '--exclude', '--delimiter', '--quote', '--no-header', '--bom', '--crlf', '--excel', '--escape-formulas', '--redact', '--redact-key', '--split-by', '--pass-through', '--backup'])
      expect(r.stdout).toContain(f);
  });
});
