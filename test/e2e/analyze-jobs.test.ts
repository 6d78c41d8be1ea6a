// analyze --jobs: worker threads change nothing a user can see (generated_at, the clock, aside).
// Workers are forced on small inputs (BATCH_EVENTS_PARALLEL_START/_BLOCK); the inputs are padded
// to several 64 KiB reads, so that there are many blocks, both threads get some, and a read's
// bad lines and its records that are not events are reported in the one-thread order.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { run, tempDir, bigAndSmallInputs } from '../helpers/run.js';

const FORCE = { BATCH_EVENTS_PARALLEL_START: '1', BATCH_EVENTS_PARALLEL_BLOCK: '300' };
const CATEGORIES = ['Unclaimed Records', 'Unverified Email', 'User Successfully Created', 'Bad ORCID Claims'];

const arbEvent = fc.record({
  event_id: fc.oneof(fc.uuid(), fc.constant(null)),
  timestamp: fc.constantFrom('2026-11-21T10:15:30.123Z', '2026-11-22T00:00:00Z', 'not a time', '2026-11-20T23:59:59.999+01:00', null),
  event_type: fc.constantFrom('error', 'error', 'success'),
  category: fc.constantFrom(...CATEGORIES),
  message: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('m', 'é日本', '')),
  action_needed: fc.constantFrom('check', null, ''),
  user_context: fc.record({
    email: fc.constantFrom('a@b.org', 'c@d.org', null, '', 'E@x.org'),
    name: fc.constantFrom('Ann', 'Bo', 'Unknown', ''),
    center_id: fc.constantFrom(1, 2, null, '3', 1.0),
  }),
  source: fc.record({ job: fc.constantFrom('user_management', 'nightly') }),
});

/** Padding makes each line ~1 KiB: a few hundred lines span several reads and blocks. */
const PAD = 'p'.repeat(900);
const arbLine = fc.oneof(
  { weight: 12, arbitrary: arbEvent.map((e) => JSON.stringify({ ...e, details: { pad: PAD } })) },
  { weight: 1, arbitrary: arbEvent.map((e) => JSON.stringify({ ...e, details: { n: 9007199254740993 } }).replace('"n":9007199254740993', '"n":9007199254740993,"f":1.0')) },
  { weight: 1, arbitrary: fc.constantFrom('{"kind":"run","tool":"process","status":"started"}', '{"kind":"export","status":"ok","path":"/x.csv","rows":3}', '{"kind":"notice","n":1}') },
  { weight: 1, arbitrary: fc.constantFrom('{"event_type":"warning","category":"x"}', '{"category":"no type"}', '{"kind":"event","event_type":7}') },
  { weight: 1, arbitrary: fc.constantFrom('not json', '[1]', '{"a":', '', 'id,email,status') },
);

const arbInput = fc.record({
  lines: fc.array(arbLine, { minLength: 1, maxLength: 400 }),
  crlf: fc.boolean(),
  gzip: fc.boolean(),
  flags: fc.constantFrom(
    [],
    ['--by', 'user'],
    ['--by', 'category'],
    ['--by', 'center', '--partial'],
    ['--partial'],
    ['--type', 'error', '--since', '2026-11-21T00:00:00Z'],
    ['--job', 'forced', '--max-users', '1', '--max-summaries', '2', '--max-errors-per-user', '1'],
    ['--fail-on-errors', '--max-bad', '1000'],
    ['--max-bad', '3'],
  ),
});

const noClock = (s: string) => s.replace(/"generated_at":"[^"]*"/g, '"generated_at":"…"');

describe('analyze --jobs', () => {
  it('writes the same records, stderr and exit code with --jobs 2 as with --jobs 1', async () => {
    const dir = tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arbInput, async ({ lines, crlf, gzip, flags }) => {
        const text = lines.join(crlf ? '\r\n' : '\n') + '\n';
        const file = join(dir, `in${n++}.ndjson${gzip ? '.gz' : ''}`);
        writeFileSync(file, gzip ? gzipSync(text) : text);
        const [one, two] = await Promise.all([
          run('analyze', ['--jobs', '1', ...flags, file]),
          run('analyze', ['-v', '--jobs', '2', ...flags, file], { env: FORCE }),
        ]);
        expect(noClock(two.stdout)).toBe(noClock(one.stdout));
        // -v adds only the line saying where workers started.
        expect(two.stderr.replace(/^analyze: --jobs 2: worker threads from .*\n/m, '')).toBe(one.stderr);
        expect(two.exitCode).toBe(one.exitCode);
      }),
      { numRuns: 60 },
    );
  }, 900_000);

  it('starts workers by default on a large input (64 MiB and more), and none on a smaller one', async () => {
    const { big, small } = bigAndSmallInputs();
    const { big: middle } = bigAndSmallInputs(5 * 1024 * 1024);
    const [bigRun, smallRun, middleRun, one] = await Promise.all([
      run('analyze', ['-v', big]),
      run('analyze', ['-v', '--jobs', '2', small]),
      run('analyze', ['-v', '--jobs', '2', middle]),
      run('analyze', ['-v', '--jobs', '1', big]),
    ]);
    // The default is the number of cores (at most 8): one core means one thread.
    if (availableParallelism() > 1) expect(bigRun.stderr).toMatch(/--jobs \d+: worker threads from .*big\.ndjson:1 on/);
    else expect(bigRun.stderr).not.toMatch(/worker threads/);
    // 5 MiB is under the start: there a worker's start costs more than it saves.
    expect(middleRun.stderr).not.toMatch(/worker threads/);
    expect(smallRun.stderr).not.toMatch(/worker threads/);
    expect(one.stderr).not.toMatch(/worker threads/);
    expect(noClock(bigRun.stdout)).toBe(noClock(one.stdout));
  }, 300_000);

  it('rejects a --jobs that is not a whole number from 1 (usage error)', async () => {
    const r = await run('analyze', ['--jobs', '0'], { input: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^analyze: invalid --jobs: must be a whole number from 1 to 256/);
  });
});
