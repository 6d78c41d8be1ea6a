// Users' data, exactly: numbers keep their text through every binary, redaction hits secrets
// and not metrics, .gz in and out, lenient quotes, and the smaller checks of issue 14.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ndjson, run, tempDir } from '../helpers/run.js';

const python = (script: string, arg: string) => execFileSync('python3', ['-c', script, arg], { encoding: 'utf8' });
const PY_ROWS = 'import csv,sys,json; print(json.dumps(list(csv.reader(open(sys.argv[1], newline="")))))';


/** stdout without the run records that open and close it (docs/run-records.md), as text: the bytes of the data lines. */
const dataText = (stdout: string) => stdout.split('\n').filter((l) => l !== '' && !l.startsWith('{"kind":"run"')).map((l) => `${l}\n`).join('');

describe('numbers keep their text', () => {
  const line = '{"id":9007199254740993,"x":1.0,"y":1e3,"z":123456789012345678}\n';

  it('export-csv writes the digits as given (read back with Python\'s csv module)', async () => {
    const dir = tempDir();
    const path = join(dir, 'n.csv');
    const r = await run('export-csv', ['-o', path], { input: line });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(python(PY_ROWS, path))).toEqual([['id', 'x', 'y', 'z'], ['9007199254740993', '1.0', '1e3', '123456789012345678']]);
  });

  it('process (a partial event: unknown fields go to details) | export-csv keeps 9007199254740993 and 1.0; analyze and process pass them on', async () => {
    const input = '{"category":"Unclaimed Records","id":9007199254740993,"x":1.0,"user_context":{"center_id":123456789012345678}}\n';
    const p = await run('process', [], { input });
    expect(p.exitCode, p.stderr).toBe(0);
    expect(p.stdout).toContain('"details":{"id":9007199254740993,"x":1.0}');
    expect(p.stdout).toContain('"center_id":123456789012345678');
    const again = await run('process', [], { input: p.stdout });
    expect(again.stdout).toContain('"details":{"id":9007199254740993,"x":1.0}');
    const csv = await run('export-csv', ['--columns', 'center_id,details.id,details.x'], { input: p.stdout });
    expect(csv.stdout).toBe('center_id,details.id,details.x\n123456789012345678,9007199254740993,1.0\n');
    const summary = await run('analyze', [], { input: p.stdout });
    expect(summary.stdout).toContain('"center_id":123456789012345678');
  });

  it('process (a directory entry: fields no rule reads go to each event\'s details) | export-csv keeps 9007199254740993 and 1.0, from NDJSON and from CSV', async () => {
    const p = await run('process', [], { input: '{"id":9007199254740993,"x":1.0}\n' });
    expect(p.exitCode, p.stderr).toBe(0);
    const events = p.stdout.split('\n').filter((l) => l.includes('"event_id"'));
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e).toMatch(/"details":\{[^}]*"id":9007199254740993,"x":1\.0\}/);
    const csv = await run('export-csv', ['--columns', 'category,details.id,details.x'], { input: p.stdout });
    expect(csv.stdout).toBe('category,details.id,details.x\nMissing Directory Data,9007199254740993,1.0\nInsufficient Permissions,9007199254740993,1.0\n');
    const fromCsv = await run('process', ['--from', 'csv'], { input: 'email,auth_email,center_id,authorizations,id,x\na@b.org,a@b.org,42,s1,9007199254740993,1.0\n' });
    const back = await run('export-csv', ['--columns', 'category,center_id,details.id,details.x'], { input: fromCsv.stdout });
    expect(back.stdout).toBe('category,center_id,details.id,details.x\nUser Successfully Created,42,9007199254740993,1.0\n');
  });

  it('import-csv → export-csv keeps them too (cells are text)', async () => {
    const dir = tempDir();
    const path = join(dir, 'in.csv');
    writeFileSync(path, 'id,x\n9007199254740993,1.0\n');
    const imported = await run('import-csv', [path]);
    expect(dataText(imported.stdout)).toBe('{"id":"9007199254740993","x":"1.0"}\n');
    const out = await run('export-csv', [], { input: imported.stdout });
    expect(out.stdout).toBe('id,x\n9007199254740993,1.0\n');
  });

  it('a wrong value kept exact is named by its text in every message (events, bad-line reports), never by its private marker', async () => {
    // The marker (a private-use character and random hex) differed from run to run and from thread to thread.
    const p = await run('process', ['--max-bad', '10', '--now', '2026-12-01T00:00:00Z'], { input: '{"email":"a@b.org","center_id":7,"active":{"on":1.0}}\n{"event_type":1.0}\n' });
    expect(p.stdout).toContain('active is not a boolean: {\\"on\\":1.0}');
    expect(p.stderr).toContain('stdin:2: event_type must be "error" or "success", got 1.0');
    const a = await run('analyze', ['--max-bad', '10'], { input: '{"event_type":1e3}\n' });
    expect(a.stderr).toContain('stdin:1: not an event: event_type must be "error" or "success", got 1e3');
    for (const text of [p.stdout, p.stderr, a.stdout, a.stderr]) expect(text).not.toMatch(/[\uE000-\uE002]/);
  });

  it('--where compares the number as written', async () => {
    const r = await run('export-csv', ['--where', 'id=9007199254740993'], { input: line + '{"id":9007199254740992,"x":2,"y":3,"z":4}\n' });
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });
});

describe('redaction: secrets, not metrics', () => {
  it('{"prompt_tokens":120,"api_key":"sk-…"} → 120,[REDACTED]; metric names stay; auth.key is caught', async () => {
    const r = await run('export-csv', [], { input: '{"prompt_tokens":120,"api_key":"sk-live-abcdef123456"}\n' });
    expect(r.stdout).toBe('prompt_tokens,api_key\n120,[REDACTED]\n');
    const m = await run('export-csv', [], {
      input: ndjson([{ total_tokens: 150, max_tokens: 4096, token_usage: { total: 5 }, signature_valid: true, cookie_count: 2, auth: { key: 'abc123' }, password: 42 }]),
    });
    expect(m.stdout).toBe('total_tokens,max_tokens,token_usage.total,signature_valid,cookie_count,auth.key,password\n150,4096,5,true,2,[REDACTED],42\n');
  });

  it('--keep-key exempts a key; --redact-key still adds one', async () => {
    const r = await run('export-csv', ['--keep-key', '^csrf_token$', '--redact-key', '^ssn$'], { input: ndjson([{ csrf_token: 'public-value', ssn: 123456789, refresh_token: 'x' }]) });
    expect(r.stdout).toBe('csrf_token,ssn,refresh_token\npublic-value,[REDACTED],[REDACTED]\n');
    expect((await run('export-csv', ['--keep-key', '('], { input: '' })).exitCode).toBe(2);
  });

  it('--split-by on a secret field: the file name is redacted like a cell', async () => {
    const dir = tempDir();
    const r = await run('export-csv', ['--split-by', 'api_key', '-o', join(dir, 'out-{value}.csv')], { input: ndjson([{ api_key: 'sk-secret-1', n: 1 }]) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual(['out-[REDACTED].csv']);
    expect(readdirSync(dir).join()).not.toContain('sk-secret');
  });
});

describe('.gz in and out', () => {
  it('export-csv -o x.csv.gz: gzip -t passes, import-csv reads it back', async () => {
    const dir = tempDir();
    const path = join(dir, 'x.csv.gz');
    const r = await run('export-csv', ['-o', path], { input: ndjson([{ a: 1, b: 'x "q"' }, { a: 2, b: 'y' }]) });
    expect(r.exitCode, r.stderr).toBe(0);
    execFileSync('gzip', ['-t', path]);
    expect(r.records[0]).toMatchObject({ kind: 'export', rows: 2, bytes: readFileSync(path).length });
    const back = await run('import-csv', [path]);
    expect(back.records).toEqual([{ a: '1', b: 'x "q"' }, { a: '2', b: 'y' }]);
  });

  it('process ev.ndjson.gz reports bad lines with their real line numbers; stdin may be gzip too', async () => {
    const dir = tempDir();
    const path = join(dir, 'ev.ndjson.gz');
    writeFileSync(path, gzipSync('{"category":"Unclaimed Records"}\nnot json\n{"category":"Unclaimed Records"}\n'));
    const r = await run('process', [path]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${path}:2: invalid JSON`);
    expect(r.records).toHaveLength(2);
    const viaStdin = await run('analyze', [], { input: gzipSync(r.stdout) });
    expect(viaStdin.records[0]).toMatchObject({ kind: 'summary', total_events: 2 });
    const notify = await run('notify', ['--dry-run'], { input: gzipSync(r.stdout) });
    expect(notify.exitCode, notify.stderr).toBe(0);
  });

  it('a truncated .gz is one data error after the lines it held; --append to .gz is a usage error', async () => {
    const dir = tempDir();
    const path = join(dir, 'cut.ndjson.gz');
    writeFileSync(path, gzipSync('{"category":"Unclaimed Records"}\n'.repeat(2000)).subarray(0, 200));
    const r = await run('analyze', [path]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/gzip data is truncated or corrupt/);
    const a = await run('export-csv', ['--append', '-o', join(dir, 'l.csv.gz')], { input: '{"a":1}\n' });
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toMatch(/--append cannot write a \.gz file/);
    expect(existsSync(join(dir, 'l.csv.gz'))).toBe(false);
  });
});

describe('lenient quotes', () => {
  it('a quote inside an unquoted cell is a literal; --strict-quotes refuses it; an unclosed quote is still a FILE:LINE bad line', async () => {
    const r = await run('import-csv', [], { input: 'a,b\n1,37"N\n' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(dataText(r.stdout)).toBe('{"a":"1","b":"37\\"N"}\n');
    const pos = await run('import-csv', [], { input: 'a,b\n2,37°36\'37.8"N\n3,"x""y"\n' });
    expect(pos.records).toEqual([{ a: '2', b: '37°36\'37.8"N' }, { a: '3', b: 'x"y' }]);
    const strict = await run('import-csv', ['--strict-quotes'], { input: 'a,b\n1,37"N\n' });
    expect(strict.exitCode).toBe(1);
    expect(strict.stderr).toMatch(/^stdin:2: /);
    const open = await run('import-csv', [], { input: 'a,b\n1,ok\n2,"open\n' });
    expect(open.exitCode).toBe(1);
    expect(open.stderr).toMatch(/^stdin:3: unclosed quote/);
    expect(open.records).toEqual([{ a: '1', b: 'ok' }]);
  });

  it('process --from csv reads such a cell the same way', async () => {
    const r = await run('process', ['--from', 'csv'], { input: 'email,name,center_id\na@b.org,"Ada",42\nc@d.org,O"Neil,43\n' });
    expect(r.stderr).not.toMatch(/quote/);
    expect(r.stdout).toContain('O\\"Neil');
  });
});

describe('smaller checks', () => {
  it('an unknown --rename or --exclude name is a usage error with fixed columns, a warning with discovered ones', async () => {
    const fixed = await run('export-csv', ['--columns', 'a,b', '--rename', 'nope=x'], { input: '{"a":1,"b":2}\n' });
    expect(fixed.exitCode).toBe(2);
    expect(fixed.stderr).toBe('export-csv: --rename nope: no such column (columns: a, b)\n');
    const found = await run('export-csv', ['--exclude', 'zz'], { input: '{"a":1}\n' });
    expect(found.exitCode).toBe(0);
    expect(found.stderr).toMatch(/--exclude zz: no such field in the input \(columns: a\)/);
  });

  it('--since/--until count and report records with no timestamp', async () => {
    const r = await run('export-csv', ['--since', '2026-01-01T00:00:00Z', '--columns', 'n'], {
      input: ndjson([{ n: 1, timestamp: '2026-06-01T00:00:00Z' }, { n: 2 }, { n: 3, timestamp: 'soon' }]),
    });
    expect(r.stdout).toBe('n\n1\n');
    expect(r.stderr).toMatch(/2 records with no valid timestamp were left out by --since/);
  });

  it('a waiter file left by a killed writer (<file>.lock.<pid>-<token>) is removed by the next writer', async () => {
    const dir = tempDir();
    const path = join(dir, 'l.csv');
    writeFileSync(`${path}.lock.999999999-0123456789abcdef`, '{}');
    const r = await run('export-csv', ['--append', '-o', path], { input: '{"a":1}\n' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual(['l.csv']);
  });
});
