import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ndjson, ROOT, run, tempDir } from '../helpers/run.js';

const hasParallel = (() => {
  try {
    execSync('command -v parallel', { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
})();

function event(i: number, over: Record<string, unknown> = {}) {
  const categories = ['Bad ORCID Claims', 'Unverified Email', 'Flywheel Error', 'User Successfully Created'];
  const category = categories[i % categories.length]!;
  return {
    event_id: `id-${String(i).padStart(6, '0')}`,
    timestamp: new Date(Date.UTC(2026, 10, 21, 8) + i * 1000).toISOString(),
    event_type: category === 'User Successfully Created' ? 'success' : 'error',
    category,
    message: `message ${i % 7}, "quoted"`,
    action_needed: category === 'User Successfully Created' ? null : `act_${i % 4}`,
    user_context: { email: i % 11 === 0 ? null : `u${i % 37}@x.org`, name: `User ${i % 37}`, center_id: i % 5, registry_id: null, auth_email: null },
    details: {},
    source: { job: 'user_management', file: 'directory.csv', line: i + 1 },
    ...over,
  };
}

const EVENTS = Array.from({ length: 40 }, (_, i) => event(i));
const INPUT = ndjson([...EVENTS.slice(0, 20), { kind: 'export', path: '/out/errors.csv', rows: 30 }, ...EVENTS.slice(20)]);

/** The summaries of a run, without the one field that depends on the clock. */
const summaries = (recs: Array<Record<string, any>>) =>
  recs.filter((r) => r.kind === 'summary').map(({ generated_at, ...rest }) => (void generated_at, rest));

describe('analyze', () => {
  it('piped: one JSON summary after the passed-through export record, exit 0', async () => {
    const r = await run('analyze', [], { input: INPUT });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.records.map((x) => x.kind)).toEqual(['export', 'summary']);
    const s = r.records[1]!;
    expect(s.total_events).toBe(40);
    expect(s.error_count + s.success_count).toBe(40);
    expect(s.job).toBe('user_management');
    expect(s.exports).toEqual([{ kind: 'export', path: '/out/errors.csv', rows: 30 }]);
    expect(s.input).toEqual({ records: 41, bad_lines: 0, filtered_out: 0, passed_through: 1 });
    expect(Number.isNaN(Date.parse(s.generated_at))).toBe(false);
  });

  it('--format table forced: counts and a bar per category, no JSON', async () => {
    const r = await run('analyze', ['--format', 'table'], { input: INPUT });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Summary of user_management\n/);
    expect(r.stdout).toMatch(/events 40 {3}errors 30 {3}successes 10/);
    expect(r.stdout).toMatch(/^Bad ORCID Claims +10 +10 +█+$/m);
    expect(r.stdout).toMatch(/^User Successfully Created +10 +0 +█+$/m);
    expect(r.stdout).toMatch(/^export: \/out\/errors\.csv \(30 rows\)$/m);
    expect(r.stdout).not.toMatch(/^\{/m);
  });

  it('--fail-on-errors exits 3 after writing the summary; 0 when there are no errors', async () => {
    const r = await run('analyze', ['--fail-on-errors'], { input: INPUT });
    expect(r.exitCode).toBe(3);
    expect(summaries(r.records)).toHaveLength(1);
    const ok = await run('analyze', ['--fail-on-errors', '--type', 'success'], { input: INPUT });
    expect(ok.exitCode).toBe(0);
    expect(ok.records.at(-1)!.input.filtered_out).toBe(30);
  });

  it('--by user|category|center: one summary per group, sorted by group value', async () => {
    const r = await run('analyze', ['--by', 'category'], { input: INPUT });
    const s = summaries(r.records);
    expect(s.map((x) => x.group)).toEqual(
      ['Bad ORCID Claims', 'Flywheel Error', 'Unverified Email', 'User Successfully Created'].map((value) => ({ by: 'category', value })),
    );
    expect(s.every((x) => x.exports.length === 1)).toBe(true);
    const users = summaries((await run('analyze', ['--by', 'user'], { input: INPUT })).records);
    expect(users.reduce((n, x) => n + x.total_events, 0)).toBe(40);
    const centers = summaries((await run('analyze', ['--by', 'center'], { input: INPUT })).records);
    expect(centers.map((x) => x.group.value)).toEqual(['0', '1', '2', '3', '4']);
  });

  it('--partial | --merge over two files equals one run over both', async () => {
    const dir = tempDir();
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson');
    writeFileSync(a, ndjson(EVENTS.slice(0, 13)));
    writeFileSync(b, ndjson(EVENTS.slice(13)));
    const args = ['--max-users', '3', '--max-summaries', '4'];
    const pa = await run('analyze', ['--partial', ...args, a]);
    const pb = await run('analyze', ['--partial', ...args, b]);
    expect(pa.records[0]!.kind).toBe('summary_partial');
    const merged = await run('analyze', ['--merge'], { input: pa.stdout + pb.stdout });
    const whole = await run('analyze', [...args, a, b]);
    expect(merged.exitCode).toBe(0);
    expect(summaries(merged.records)).toEqual(summaries(whole.records));
    expect(summaries(whole.records)[0]!.summaries_omitted).toBe(26);
  });

  it('--merge of a plain summary over several jobs with a partial of one of them names each job once', async () => {
    const dir = tempDir();
    const withJob = (job: string, from: number) => EVENTS.slice(from, from + 10).map((e) => ({ ...e, source: { ...e.source, job } }));
    const bc = join(dir, 'bc.ndjson');
    const c = join(dir, 'c.ndjson');
    writeFileSync(bc, ndjson([...withJob('b', 0), ...withJob('c', 10)]));
    writeFileSync(c, ndjson(withJob('c', 20)));
    const plain = await run('analyze', [bc]);
    expect(summaries(plain.records)[0]!.job).toBe('b,c');
    const part = await run('analyze', ['--partial', c]);
    const merged = await run('analyze', ['--merge'], { input: plain.stdout + part.stdout });
    const whole = await run('analyze', [bc, c]);
    expect(summaries(merged.records)[0]!.job).toBe('b,c');
    expect(summaries(merged.records)).toEqual(summaries(whole.records));
  });

  it('--merge refuses a malformed partial with FILE:LINE and exit 1', async () => {
    const r = await run('analyze', ['--merge'], { input: '{"kind":"summary_partial","version":1,"total_events":"x"}\n' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^analyze: stdin:1: cannot merge this summary_partial record: total_events must be/m);
  });

  it('a record that is not an event is a bad line (exit 1) and counted', async () => {
    const r = await run('analyze', ['--max-bad', '0'], { input: `${JSON.stringify(EVENTS[1])}\n{"hello":1}\nnot json\n` });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/stdin:2: not an event/);
    expect(r.stderr).toMatch(/stdin:3: invalid JSON/);
    expect(r.records.at(-1)!.input).toEqual({ records: 1, bad_lines: 2, filtered_out: 0, passed_through: 0 });
  });

  it('usage errors exit 2', async () => {
    for (const args of [['--by', 'planet'], ['--max-users', '-1'], ['--format', 'xml'], ['--partial', '--format', 'table'], ['--nope']]) {
      const r = await run('analyze', args, { input: '' });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^analyze: (invalid|unknown)/);
    }
  });

  it('--job names the job; --help lists every flag', async () => {
    const r = await run('analyze', ['--job', 'nightly'], { input: INPUT });
    expect(r.records.at(-1)!.job).toBe('nightly');
    const h = await run('analyze', ['--help']);
    for (const flag of ['--by', '--partial', '--merge', '--fail-on-errors', '--format', '--output', '--compare', '--job', '--max-users', '--max-summaries', '--where']) {
      expect(h.stdout).toContain(flag);
    }
  });

  it('empty input: one summary of nothing', async () => {
    const r = await run('analyze', [], { input: '' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ total_events: 0, first_event_at: null, job: null, affected_users: [] });
  });

  it.skipIf(!hasParallel)('examples/parallel.sh (GNU parallel --pipe) gives the single-process summary', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => event(i));
    const input = ndjson([...many.slice(0, 1000), { kind: 'export', path: '/out/e.csv', rows: 1 }, ...many.slice(1000)]);
    const env = { ...process.env, BLOCK: '40k', ANALYZE_ARGS: '--max-users 5 --max-summaries 5' };
    const par = await execa('bash', [join(ROOT, 'examples/parallel.sh')], { input, env, reject: false });
    expect(par.exitCode, par.stderr).toBe(0);
    const recs = String(par.stdout).trim().split('\n').map((l) => JSON.parse(l));
    const one = await run('analyze', ['--max-users', '5', '--max-summaries', '5'], { input });
    expect(summaries(recs)).toEqual(summaries(one.records));
    expect(recs.filter((r) => r.kind === 'export')).toEqual([{ kind: 'export', path: '/out/e.csv', rows: 1 }]);
  });
});
