import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.js';

const EVENT = '{"event_type":"error","category":"Flywheel Error","user_context":{"email":"a@b.org"},"message":"m"}';

describe('process (foundation)', () => {
  it('skips a malformed line with FILE:LINE on stderr and exits 1; --max-bad 1 exits 0', async () => {
    const input = `${EVENT}\nnot json\n`;
    const r = await run('process', [], { input });
    expect(r.records).toHaveLength(1);
    expect(r.records[0]!.category).toBe('Flywheel Error');
    expect(r.stderr).toMatch(/^stdin:2: /m);
    expect(r.exitCode).toBe(1);
    const ok = await run('process', ['--max-bad', '1'], { input });
    expect(ok.exitCode).toBe(0);
    expect(ok.records).toHaveLength(1);
  });

  it('normalizes a partial event: ids, timestamp, Unknown name, unknown category kept in details', async () => {
    const r = await run('process', ['--job', 'user_management'], {
      input: '{"category":"Gremlins","user_context":{"email":"x@y.org","center_id":"42"},"message":"odd"}\n',
    });
    expect(r.exitCode).toBe(0);
    const e = r.records[0]!;
    expect(e.category).toBe('Unknown Error');
    expect(e.details.original_category).toBe('Gremlins');
    expect(e.user_context).toEqual({ email: 'x@y.org', name: 'Unknown', center_id: 42, registry_id: null, auth_email: null });
    expect(e.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(e.timestamp))).toBe(false);
    expect(e.source).toEqual({ job: 'user_management', file: 'stdin', line: 1 });
  });

  it('accepts a BOM and CRLF line ends', async () => {
    const r = await run('process', [], { input: Buffer.from(`\uFEFF${EVENT}\r\n${EVENT}\r\n`, 'utf8') });
    expect(r.exitCode).toBe(0);
    expect(r.records).toHaveLength(2);
    expect(r.stderr).toBe('');
  });

  it('empty input: no output, exit 0', async () => {
    const r = await run('process', [], { input: '' });
    expect(r.exitCode).toBe(0);
    expect(r.records).toEqual([]);
  });

  it('a JSON value that is not an object is a bad line', async () => {
    const r = await run('process', [], { input: `[1,2]\n"text"\nnull\n${EVENT}\n` });
    expect(r.exitCode).toBe(1);
    expect(r.records).toHaveLength(1);
    expect(r.stderr).toMatch(/stdin:1: expected a JSON object, got an array/);
    expect(r.stderr).toMatch(/stdin:2: expected a JSON object, got a string/);
    expect(r.stderr).toMatch(/stdin:3: expected a JSON object, got null/);
  });

  it('writes rejects verbatim as NDJSON {file, line, error, raw}', async () => {
    const { tempDir } = await import('../helpers/run.js');
    const { readFileSync } = await import('node:fs');
    const dir = tempDir();
    const r = await run('process', ['--rejects', `${dir}/rejects.ndjson`, '--max-bad', '5'], { input: `${EVENT}\n{broken\n` });
    expect(r.exitCode).toBe(0);
    const rej = readFileSync(`${dir}/rejects.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rej).toEqual([{ file: 'stdin', line: 2, error: expect.stringMatching(/invalid JSON/), raw: '{broken' }]);
  });

  it('an unknown flag is a usage error (exit 2)', async () => {
    const r = await run('process', ['--no-such-flag'], { input: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^process: unknown option --no-such-flag/);
  });

  it('a line over --max-line-bytes is a bad line, not a crash', async () => {
    const big = `{"message":"${'x'.repeat(5000)}"}`;
    const r = await run('process', ['--max-line-bytes', '1000'], { input: `${EVENT}\n${big}\n${EVENT}\n` });
    expect(r.exitCode).toBe(1);
    expect(r.records).toHaveLength(2);
    expect(r.stderr).toMatch(/stdin:2: line is \d+ bytes, over the --max-line-bytes limit/);
  });
});
