// export-csv --jobs: worker threads change nothing a user can see. Workers are forced on small
// inputs (BATCH_EVENTS_PARALLEL_START/_BLOCK) so that many blocks and both threads are exercised.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { binPath, run, tempDir, bigAndSmallInputs } from '../helpers/run.js';

const FORCE = { BATCH_EVENTS_PARALLEL_START: '1', BATCH_EVENTS_PARALLEL_BLOCK: '300' };
const CATEGORIES = ['Unclaimed Records', 'Unverified Email', 'User Successfully Created'];

const arbEvent = fc.record({
  event_id: fc.uuid(),
  timestamp: fc.constantFrom('2026-11-21T10:15:30.123Z', '2026-11-22T00:00:00Z', 'not a time', '2026-11-20T23:59:59.999Z'),
  event_type: fc.constantFrom('error', 'success'),
  category: fc.constantFrom(...CATEGORIES),
  message: fc.oneof(fc.string(), fc.constantFrom('=SUM(A1)', 'a "quoted", line\nbreak', 'token ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'é日本')),
  action_needed: fc.constant('check'),
  user_context: fc.record({ email: fc.constantFrom('a@b.org', null, '+1@x.org'), name: fc.string(), center_id: fc.oneof(fc.integer(), fc.constant(null)) }),
});

/** A line of input: an event (with an exact number now and then), another stage's record, or a bad line. */
const arbLine = fc.oneof(
  { weight: 8, arbitrary: arbEvent.map((e) => JSON.stringify(e)) },
  { weight: 1, arbitrary: arbEvent.map((e) => JSON.stringify(e).replace(/}$/, ',"details":{"n":9007199254740993,"f":1.0}}')) },
  { weight: 1, arbitrary: fc.constantFrom('{"kind":"summary","total":3}', '{"kind":"run","tool":"process","event":"start"}') },
  { weight: 1, arbitrary: fc.constantFrom('not json', '[1]', '{"a":', '', 'id,email,status') },
);

const arbInput = fc.record({
  lines: fc.array(arbLine, { minLength: 1, maxLength: 60 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  gzip: fc.boolean(),
  flags: fc.constantFrom([], ['--type', 'error'], ['--since', '2026-11-21T00:00:00Z'], ['--excel'], ['--no-redact', '--no-escape-formulas'], ['--columns', 'email,category,details.n'], ['--max-bad', '100']),
});

describe('export-csv --jobs', () => {
  it('writes the same bytes, stderr and exit code with --jobs 2 as with --jobs 1', async () => {
    const dir = tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arbInput, async ({ lines, crlf, bom, gzip, flags }) => {
        const text = (bom ? '\uFEFF' : '') + lines.join(crlf ? '\r\n' : '\n') + '\n';
        const file = join(dir, `in${n++}.ndjson${gzip ? '.gz' : ''}`);
        writeFileSync(file, gzip ? gzipSync(text) : text);
        const [one, two] = await Promise.all([
          run('export-csv', ['--jobs', '1', ...flags, file]),
          run('export-csv', ['--jobs', '2', ...flags, file], { env: FORCE }),
        ]);
        expect(two.stdout).toBe(one.stdout);
        expect(two.stderr).toBe(one.stderr);
        expect(two.exitCode).toBe(one.exitCode);
      }),
      { numRuns: 100 },
    );
  }, 600_000);

  it('-o FILE: the same file and export record (rows, bytes, sha256, rows by type), rejects and counts', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      lines.push(JSON.stringify({ event_type: i % 3 ? 'error' : 'success', category: CATEGORIES[i % 3], timestamp: i % 7 ? '2026-11-21T10:00:00Z' : null, message: `m${i}`, user_context: { email: `u${i}@x.org` } }));
      if (i % 500 === 0) lines.push('{broken');
    }
    const input = join(dir, 'in.ndjson');
    writeFileSync(input, lines.join('\n') + '\n');
    const out = async (jobs: string) => {
      const csv = join(dir, `out${jobs}.csv`);
      const rejects = join(dir, `rejects${jobs}.ndjson`);
      const r = await run('export-csv', ['--jobs', jobs, '--max-bad', '10', '--rejects', rejects, '--since', '2026-01-01', '-o', csv, input], { env: jobs === '2' ? FORCE : {} });
      const rec = r.records[0]!;
      return { exit: r.exitCode, stderr: r.stderr, csv: readFileSync(csv, 'utf8'), rejects: readFileSync(rejects, 'utf8'), rec: [rec.rows, rec.bytes, rec.sha256, rec.rows_by_type, rec.status], end: r.runRecords.at(-1)?.error };
    };
    const [one, two] = [await out('1'), await out('2')];
    expect(two).toEqual(one);
    expect(one.stderr).toMatch(/in\.ndjson:2: invalid JSON/);
    expect(one.stderr).toMatch(/record.? with no valid timestamp/);
  }, 120_000);

  it('a record fed slowly comes out before the rest of the input arrives', async () => {
    const child = execa(process.execPath, [binPath('export-csv'), '--jobs', '2'], { env: FORCE, stdin: 'pipe', stdout: 'pipe', reject: false });
    const seen: string[] = [];
    child.stdout!.on('data', (d: Buffer) => seen.push(d.toString()));
    const ev = (i: number) => JSON.stringify({ event_type: 'error', category: 'Unverified Email', message: `slow ${i}`, user_context: { email: `s${i}@x.org` } }) + '\n';
    for (let i = 0; i < 50; i++) child.stdin!.write(ev(i));
    const deadline = Date.now() + 20_000;
    while (!seen.join('').includes('slow 49') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen.join('')).toContain('slow 49');
    child.stdin!.end(ev(50));
    const res = await child;
    expect(res.exitCode).toBe(0);
    expect(String(res.stdout).split('\n').filter(Boolean)).toHaveLength(52);
  }, 60_000);

  it('starts workers for a large input only (64 MiB), and says so with -v', async () => {
    const { big, small } = bigAndSmallInputs();
    const [bigRun, smallRun, one] = await Promise.all([
      run('export-csv', ['-v', '--jobs', '2', big]),
      run('export-csv', ['-v', '--jobs', '2', small]),
      run('export-csv', ['-v', '--jobs', '1', big]),
    ]);
    expect(bigRun.stderr).toMatch(/--jobs 2: worker threads from .*big\.ndjson:\d+ on/);
    expect(smallRun.stderr).not.toMatch(/worker threads/);
    expect(one.stderr).not.toMatch(/worker threads/);
    expect(bigRun.stdout).toBe(one.stdout);
  }, 120_000);

  it('rejects a --jobs that is not a whole number from 1 (usage error)', async () => {
    for (const bad of ['0', 'two', '1.5']) {
      const r = await run('export-csv', ['--jobs', bad], { input: '' });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/^export-csv: invalid --jobs: must be a whole number from 1 to 256/);
    }
  });
});
