// The README's main job (examples/pipeline.sh) and its Makefile twin, run for real on the
// bundled data, and the command-line contract every binary shares (--help, --version, usage
// errors on one line with exit 2).
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BINARIES, ROOT, run, tempDir } from '../helpers/run.js';

const SEED_000_HEADER = 'email,name,center_id,registry_id,auth_email,category,message,action_needed,timestamp,event_id';

/** The records of a file, without the run records that open and close each stage's output. */
function records(path: string): Array<Record<string, any>> {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.kind !== 'run');
}

/** What both forms of the main job must leave behind. */
function expectMainJobOutputs(out: string): void {
  const events = records(join(out, 'events.ndjson'));
  const errors = events.filter((e) => e.event_type === 'error');
  expect(errors.length).toBeGreaterThan(0);

  const csv = readFileSync(join(out, 'errors.csv'), 'utf8');
  expect(csv.split('\n')[0]).toBe(SEED_000_HEADER);
  const [exported] = records(join(out, 'export.ndjson'));
  expect(exported).toMatchObject({ kind: 'export', rows: errors.length, path: join(out, 'errors.csv') });

  // analyze passes the export record through and adds the summary.
  const summary = records(join(out, 'summary.ndjson')).find((r) => r.kind === 'summary')!;
  expect(summary).toMatchObject({ kind: 'summary', job: 'user_management', total_events: events.length, error_count: errors.length });
  expect(summary.exports.map((e: { path: string }) => e.path)).toEqual([join(out, 'errors.csv')]);

  expect(summary).toMatchObject({ complete: true, incomplete_reasons: [] });
  const [note] = records(join(out, 'notification.json'));
  expect(note).toMatchObject({ kind: 'notification', status: 'written', transport: 'file', recipients: ['support@example.org'], complete: true });
  const emls = readdirSync(join(out, 'outbox')).filter((f) => f.endsWith('.eml'));
  expect(emls).toHaveLength(1);
  const eml = readFileSync(join(out, 'outbox', emls[0]!), 'utf8');
  expect(eml).toMatch(new RegExp(`^Subject: \\[user_management\\] ${errors.length} errors need attention`, 'm'));
  expect(eml).toContain('errors.csv');
}

describe('the main job', () => {
  it('examples/pipeline.sh runs process → export-csv → analyze → notify from a checkout', async () => {
    const out = tempDir('be-pipeline-');
    const res = await execa('bash', [join(ROOT, 'examples', 'pipeline.sh')], { env: { OUT: out }, reject: false, stdin: 'ignore' });
    expect(res.stderr).not.toMatch(/command not found|at .*\.js:\d+/);
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/pipeline: \d+ events, \d+ error rows/);
    expectMainJobOutputs(out);
  });

  it('the Makefile job builds the same files, and `make check` stops on errors', async () => {
    const out = tempDir('be-make-');
    const mk = await execa('make', ['-C', join(ROOT, 'examples'), `OUT=${out}`], { reject: false, stdin: 'ignore' });
    expect(mk.stderr).not.toMatch(/command not found|No rule/);
    expect(mk.exitCode).toBe(0);
    expectMainJobOutputs(out);

    // Nothing changed: Make has nothing to do.
    const again = await execa('make', ['-C', join(ROOT, 'examples'), `OUT=${out}`], { reject: false, stdin: 'ignore' });
    expect(again.stdout).toMatch(/Nothing to be done/);

    // The run had errors: analyze --fail-on-errors exits 3, so the make target fails.
    const check = await execa('make', ['-C', join(ROOT, 'examples'), `OUT=${out}`, 'check'], { reject: false, stdin: 'ignore' });
    expect(check.exitCode).not.toBe(0);
    expect(check.stderr).toMatch(/Error 3/);
    expect(existsSync(join(out, 'summary.ndjson'))).toBe(true);
  });
});

describe.each(BINARIES)('%s command line', (bin) => {
  it('--help prints the usage on stdout and exits 0', async () => {
    const r = await run(bin, ['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${bin}`));
    expect(r.stdout).toMatch(/--quiet/);
    expect(r.stderr).toBe('');
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const r = await run(bin, ['--version']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('an unknown flag is one line on stderr naming the tool, exit 2, nothing on stdout', async () => {
    const r = await run(bin, ['--no-such-flag'], { input: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^${bin}: unknown option --no-such-flag \\(see --help\\)\\n$`));
  });

  it('--progress reports on stderr and closes with the total; stdout stays data', async () => {
    // Whole events (events.ndjson also holds partial ones, which only process accepts).
    const events = readFileSync(join(ROOT, 'examples', 'data', 'events.ndjson'), 'utf8').split('\n').filter((l) => l.includes('"event_type"'));
    // Big enough for several read batches: the first report comes early, the last has the total.
    const input = bin === 'import-csv'
      ? 'a,b\n' + Array.from({ length: 20_000 }, (_, i) => `${i},x`).join('\n') + '\n'
      : Array.from({ length: 1000 }, () => events.join('\n')).join('\n') + '\n';
    const quiet = await run(bin, ['--no-progress'], { input });
    const r = await run(bin, ['--progress'], { input });
    expect(r.stdout.split('\n').length).toBe(quiet.stdout.split('\n').length);
    const total = bin === 'import-csv' ? 20_000 : input.trim().split('\n').length;
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(new RegExp(`^${bin}: ${total.toLocaleString('en-US')} records, [\\d,]+/s, [\\d.]+s$`));
  });

  it('a missing input file is one line naming the file, exit 1, no stack trace', async () => {
    const r = await run(bin, ['/nonexistent/input.file'], { input: '' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('/nonexistent/input.file');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
