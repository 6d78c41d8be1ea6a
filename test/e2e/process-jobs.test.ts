// process --jobs: worker threads change nothing a user can see. Workers are forced on small
// inputs (BATCH_EVENTS_PARALLEL_START/_BLOCK) so that a run has many blocks; the directories
// repeat emails and registry IDs within a block, across blocks and across files, so that the
// keys the workers ask are replayed and entries run again on the main thread.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { utimesSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import { run, tempDir, bigAndSmallInputs, binPath, nodeFlags, ROOT } from '../helpers/run.js';

const FORCE = { BATCH_EVENTS_PARALLEL_START: '1', BATCH_EVENTS_PARALLEL_BLOCK: '400' };
const NOW = '2026-12-01T00:00:00Z';

const email = fc.constantFrom('a@x.org', 'A@x.org ', 'b@x.org', 'c@y.org', 'd@y.org', 'é@日本.jp', null, '', 'not-an-email');
const entry = fc.record(
  {
    email,
    auth_email: email,
    name: fc.oneof(fc.constantFrom('Ann Lee', 'Bo  Ek', 'Unknown', '', null), fc.record({ first_name: fc.constantFrom('Ann', 'Cy'), last_name: fc.constantFrom('Lee', 'Ek') })),
    center_id: fc.constantFrom(1, 2, 99, '3', null, 1.0),
    registry_id: fc.constantFrom('R-1', 'R-2', 'R-3', 'R-9', null),
    authorizations: fc.constantFrom(null, [], [{ study_id: 'adrc', activities: ['view'] }], 'adrc:view'),
    active: fc.constantFrom(true, true, true, false, 'yes'),
    extra: fc.constantFrom(undefined, 7, 'x', { n: 1 }),
  },
  { requiredKeys: ['email', 'name'] },
);
const person = fc.record({
  registry_id: fc.constantFrom('R-1', 'R-2', 'R-3', 'R-4', null),
  name: fc.constantFrom('Ann Lee', 'Bo Ek', 'Cy Ek'),
  emails: fc.constantFrom([], [{ mail: 'a@x.org', verified: true }], [{ mail: 'B@x.org', verified: false }], ['c@y.org']),
  org_identities: fc.constantFrom([], [{ name: 'ORCID' }], ['University Login']),
  claimed: fc.boolean(),
  creation_date: fc.constantFrom('2024-01-01T00:00:00Z', null),
});

/** Padding makes a line ~0.5 KiB, so a few hundred lines span many blocks. */
const PAD = 'p'.repeat(400);
const arbLine = fc.oneof(
  { weight: 14, arbitrary: entry.map((e) => JSON.stringify({ ...e, pad: PAD })) },
  { weight: 1, arbitrary: entry.map((e) => JSON.stringify({ ...e, big: 1 }).replace('"big":1', '"big":9007199254740993,"f":1.0')) },
  { weight: 1, arbitrary: fc.constantFrom('{"event_type":"error","category":"Unverified Email","message":"m","user_context":{"email":"a@x.org"},"timestamp":"2026-11-21T10:00:00Z"}', '{"event_type":"warning","category":"x"}', '{"category":7}') },
  { weight: 1, arbitrary: fc.constantFrom('{"kind":"run","tool":"import-csv","status":"started"}', '{"kind":"notice","n":1.50}') },
  { weight: 1, arbitrary: fc.constantFrom('not json', '[1]', '{"a":', '', '\uFEFF{"email":"a@x.org","name":"Ann Lee"}') },
);

const arbInput = fc.record({
  files: fc.array(fc.array(arbLine, { minLength: 1, maxLength: 150 }), { minLength: 1, maxLength: 2 }),
  persons: fc.option(fc.array(person, { minLength: 1, maxLength: 8 }), { nil: null }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  gzip: fc.boolean(),
  flags: fc.constantFrom(
    [],
    ['--type', 'error'],
    ['--since', '2026-11-21T00:00:00Z', '--category', 'Duplicate/Wrong User Records'],
    ['--disable-rule', 'missing-auth-email', '--job', 'nightly'],
    ['--rules', 'user-management', '--rules', join(ROOT, 'examples/rules/legacy-checks.json')],
    ['--max-bad', '2'],
    ['--log', 'LOG'],
  ),
});

const LOG = [
  '2026-11-21 10:00:00,000 - ERROR - User a@x.org must have authentication email',
  'Active user has incomplete claim: Ann Lee, b@x.org',
  'Unable to add user c@y.org with ID R-3: permission denied',
  'WARNING something else',
  'Created user d@y.org with ID R-4',
].join('\n');

describe('process --jobs', () => {
  it('writes the same events, stderr and exit code with --jobs 2 as with --jobs 1', async () => {
    const dir = tempDir();
    const log = join(dir, 'job.log');
    writeFileSync(log, LOG + '\n');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arbInput, async ({ files, persons, crlf, bom, gzip, flags }) => {
        const k = n++;
        const paths = files.map((lines, i) => {
          const text = (bom ? '\uFEFF' : '') + lines.join(crlf ? '\r\n' : '\n') + '\n';
          const file = join(dir, `in${k}-${i}.ndjson${gzip ? '.gz' : ''}`);
          writeFileSync(file, gzip ? gzipSync(text) : text);
          return file;
        });
        const args = ['--now', NOW, ...flags.map((f) => (f === 'LOG' ? log : f))];
        if (persons) {
          const reg = join(dir, `reg${k}.ndjson`);
          writeFileSync(reg, persons.map((p) => JSON.stringify(p)).join('\n') + '\n');
          args.push('--registry', reg);
        }
        const [one, two] = await Promise.all([
          run('process', ['-v', '--jobs', '1', ...args, ...paths]),
          run('process', ['-v', '--jobs', '2', ...args, ...paths], { env: FORCE }),
        ]);
        expect(two.stdout).toBe(one.stdout);
        // -v adds only the line saying where workers started.
        expect(two.stderr.replace(/^process: --jobs 2: worker threads from .*\n/m, '')).toBe(one.stderr);
        expect(two.exitCode).toBe(one.exitCode);
        expect(one.stdout).toMatch(/"kind":"run","tool":"process","status":"(complete|failed)"/);
      }),
      { numRuns: 60 },
    );
  }, 900_000);

  it('finds every duplicate, whichever thread saw the first of a key', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(JSON.stringify({ email: `u${i % 1700}@x.org`, name: 'Ann Lee', auth_email: `u${i % 1700}@x.org`, center_id: 1, registry_id: `R-${i % 2300}`, authorizations: [{ study_id: 's', activities: ['view'] }], active: true }));
    const file = join(dir, 'dir.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const [one, two] = await Promise.all([run('process', ['--jobs', '1', '--now', NOW, file]), run('process', ['-v', '--jobs', '2', '--now', NOW, file], { env: FORCE })]);
    expect(two.stderr).toMatch(/--jobs 2: worker threads from/);
    expect(two.stdout).toBe(one.stdout);
    expect(one.stdout.match(/"shared":"email"/g)).toHaveLength(1300);
    expect(one.stdout.match(/"shared":"registry_id"/g)).toHaveLength(700);
  }, 120_000);

  it('keeps a run on one thread where workers cannot take it: code packs, --from csv, a registry on a pipe', async () => {
    const { big } = bigAndSmallInputs(5 * 1024 * 1024);
    // Workers would start at once (so the negative checks below can fail).
    const env = { BATCH_EVENTS_PARALLEL_START: '1' };
    const pack = join(ROOT, 'examples/rules/site-policy.mjs');
    // A registry on a FIFO can be read once: workers could not read it again.
    const fifo = join(tempDir(), 'registry.fifo');
    execFileSync('mkfifo', [fifo]);
    const [code, csv, pipe] = await Promise.all([
      run('process', ['-v', '--jobs', '2', '--now', NOW, '--rules', pack, big], { env }),
      run('process', ['-v', '--jobs', '2', '--now', NOW, '--from', 'csv'], { input: 'email,name\na@x.org,Ann Lee\n', env }),
      run('process', ['-v', '--jobs', '2', '--now', NOW, '--registry', fifo, big], { env }),
      writeFile(fifo, '{"registry_id":"R-1","name":"Ann Lee","emails":["a@b.org"],"claimed":true}\n'),
    ]);
    expect(pipe.stderr).toMatch(/--jobs 2: --registry .*registry\.fifo is not a regular file/);
    expect(pipe.stderr).not.toMatch(/worker threads from/);
    expect(pipe.exitCode).toBe(0);
    expect(code.stderr).toMatch(/--jobs 2: --rules .*site-policy\.mjs is code, run on one thread/);
    expect(code.stderr).not.toMatch(/worker threads from/);
    expect(csv.stderr).toMatch(/--jobs 2: --from csv is read on one thread/);
  }, 120_000);

  it('starts workers only for a large input', async () => {
    const { big, small } = bigAndSmallInputs();
    const [bigRun, smallRun, one] = await Promise.all([
      run('process', ['-v', '--jobs', '2', '--now', NOW, big]),
      run('process', ['-v', '--jobs', '2', '--now', NOW, small]),
      run('process', ['--jobs', '1', '--now', NOW, big]),
    ]);
    expect(bigRun.stderr).toMatch(/--jobs 2: worker threads from .*big\.ndjson:\d+ on/);
    expect(smallRun.stderr).not.toMatch(/worker threads/);
    expect(bigRun.stdout).toBe(one.stdout);
  }, 120_000);
  it('refuses a registry file that changed between the main thread\'s read and a worker\'s', async () => {
    const dir = tempDir();
    const registry = join(dir, 'registry.ndjson');
    writeFileSync(registry, JSON.stringify({ registry_id: 'R-1', name: 'Ann Lee', emails: [{ mail: 'a@x.org', verified: true }], claimed: true }) + '\n');
    const line = (i: number) => JSON.stringify({ email: `u${i}@x.org`, name: 'Ann Lee', registry_id: 'R-1', pad: PAD }) + '\n';
    // Workers start after 4 KB: the first lines are run on the main thread, with the registry it read.
    const child = execa(process.execPath, [...nodeFlags('process'), binPath('process'), '--jobs', '2', '--now', NOW, '--registry', registry], {
      reject: false,
      env: { NO_COLOR: '1', BATCH_EVENTS_PARALLEL_START: '4000' },
    });
    let out = '';
    const firstEvent = new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => ((out += d), out.includes('event_id') && resolve())));
    child.stdin!.write(line(0));
    await firstEvent;
    // The snapshot is rewritten (here: its times) before the workers read it again.
    utimesSync(registry, new Date(), new Date(Date.now() + 5000));
    for (let i = 1; i < 40; i++) child.stdin!.write(line(i));
    child.stdin!.end();
    const res = await child;
    expect(res.exitCode).toBe(1);
    expect(String(res.stderr).trim()).toBe(`process: ${registry}: the registry snapshot changed since process first read it; run again once it is completely written (or give it a copy)`);
    // Downstream is told: the run record says failed.
    const last = JSON.parse(String(res.stdout).trim().split('\n').pop()!);
    expect(last).toMatchObject({ kind: 'run', status: 'failed' });
  }, 120_000);
});
