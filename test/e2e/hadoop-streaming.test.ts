// The Hadoop Streaming contract of analyze (README "Scale-out"):
//   -mapper 'analyze --partial ARGS' -combiner 'analyze --merge --partial [--by G]' -reducer 'analyze --merge [--by G]'
// Hadoop cuts the input into splits at line boundaries, runs a mapper on each, sorts every map
// output by key (the whole line: a JSON line has no tab), may run the combiner zero or more times
// over any sorted run of map output (a spill, or a merge of several mappers' spills), then merges
// everything sorted into the reducer. Combiner and reducer read `KEY<TAB>VALUE` lines, and with
// no tab in the map output VALUE is empty: each line arrives with a trailing tab.
// Property: whatever the splits, groupings and number of combiner passes, the reducer's summary
// equals one `analyze ARGS` run over all the input. The 100+ runs drive the pure cores (the same
// stage the binary runs, the sort in byte order like `LC_ALL=C sort`); a handful of runs drive the
// real binaries and the real `sort`.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execa } from 'execa';
import { createAnalyzeStage, type AnalyzeOptions } from '../../src/commands/analyze.js';
import { buildFilter } from '../../src/stream/filters.js';
import type { JsonObject } from '../../src/event/event.js';
import { run } from '../helpers/run.js';
import { eventsOver, recordsOf } from '../helpers/arb-events.js';

const NOW = '2026-12-01T00:00:00.000Z';

/** The flags of one analyze stage, as CLI arguments and as stage options. */
interface Flags {
  by: 'user' | 'category' | 'center' | null;
  maxUsers?: number;
  maxSummaries?: number;
  maxErrorsPerUser?: number;
  type?: 'error' | 'success';
  category?: string;
}

function cliArgs(f: Flags): string[] {
  const a: string[] = [];
  if (f.by) a.push('--by', f.by);
  if (f.maxUsers !== undefined) a.push('--max-users', String(f.maxUsers));
  if (f.maxSummaries !== undefined) a.push('--max-summaries', String(f.maxSummaries));
  if (f.maxErrorsPerUser !== undefined) a.push('--max-errors-per-user', String(f.maxErrorsPerUser));
  if (f.type) a.push('--type', f.type);
  if (f.category) a.push('--category', f.category);
  return a;
}

type Mode = 'summary' | 'partial' | 'merge' | 'merge-partial';

/** Runs one analyze over NDJSON lines (a trailing tab, as Hadoop writes it, is JSON whitespace). */
interface Runner {
  analyze(flags: Flags, mode: Mode, lines: string[]): Promise<string[]>;
  /** The shuffle's order: bytes, as Hadoop's Text keys and `LC_ALL=C sort` compare. */
  sort(lines: string[]): Promise<string[]>;
}

const pure: Runner = {
  async analyze(flags, mode, lines) {
    const filter = buildFilter({ type: flags.type, category: flags.category ? [flags.category] : undefined });
    const opts: AnalyzeOptions = {
      mode,
      by: flags.by,
      maxUsers: flags.maxUsers,
      maxSummaries: flags.maxSummaries,
      maxErrorsPerUser: flags.maxErrorsPerUser,
      filter,
      now: NOW,
    };
    const out: string[] = [];
    const emit = (r: JsonObject) => void out.push(JSON.stringify(r));
    const stage = createAnalyzeStage(opts);
    lines.forEach((l, i) => stage.push({ value: JSON.parse(l) as JsonObject, file: 'stdin', line: i + 1 }, emit));
    await stage.end(emit);
    return out;
  },
  async sort(lines) {
    return [...lines].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  },
};

const binaries: Runner = {
  async analyze(flags, mode, lines) {
    const modeArgs = { summary: [], partial: ['--partial'], merge: ['--merge'], 'merge-partial': ['--merge', '--partial'] }[mode];
    const r = await run('analyze', [...modeArgs, ...cliArgs(flags)], { input: lines.map((l) => `${l}\n`).join('') });
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout.split('\n').filter((l) => l !== '');
  },
  async sort(lines) {
    const r = await execa('sort', [], { input: lines.map((l) => `${l}\n`).join(''), env: { LC_ALL: 'C' }, stripFinalNewline: false });
    return String(r.stdout).split('\n').filter((l) => l !== '');
  },
};

/** mulberry32: the simulation's choices from one seed, so fast-check can replay a failure. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

interface Plan {
  lines: string[];
  /** Split points (line indexes, sorted; repeats make empty splits). */
  cuts: number[];
  /** Combiner passes over the shuffled map output. */
  rounds: number;
  seed: number;
  /** The combiner is given the mapper's --by (else it learns it from the partials). */
  combinerBy: boolean;
}

/** One Hadoop Streaming job: map over splits, combine over random groups, sort, reduce. */
async function streamingJob(runner: Runner, plan: Plan, mapper: Flags): Promise<string[]> {
  const pick = rng(plan.seed);
  // The reducer gets --by (without it, input with no events at all gives one ungrouped summary
  // where one grouped run gives none); the combiner with or without. No caps or filters: a
  // merge takes the caps from the partials.
  const reducer: Flags = { by: mapper.by };
  const combiner: Flags = { by: plan.combinerBy ? mapper.by : null };
  const tab = (lines: string[]) => lines.map((l) => `${l}\t`);
  const splits: string[][] = [];
  let from = 0;
  for (const c of [...plan.cuts, plan.lines.length]) {
    splits.push(plan.lines.slice(from, c));
    from = c;
  }
  let output: string[] = [];
  for (const s of splits) output.push(...(await runner.analyze(mapper, 'partial', s)));
  for (let round = 0; round < plan.rounds; round++) {
    // Any line may land in any group; each group is sorted (a combiner reads sorted input) and
    // combined, or left as it is (Hadoop may skip the combiner).
    const groups: string[][] = Array.from({ length: 1 + pick(4) }, () => []);
    for (const l of output) groups[pick(groups.length)]!.push(l);
    output = [];
    for (const g of groups) {
      if (g.length === 0) continue; // Hadoop never runs a combiner on nothing
      if (pick(4) === 0) output.push(...g);
      else output.push(...(await runner.analyze(combiner, 'merge-partial', tab(await runner.sort(g)))));
    }
  }
  return runner.analyze(reducer, 'merge', tab(await runner.sort(output)));
}

// Some non-ASCII text so that byte order and UTF-16 order differ.
const arbEvent = eventsOver({
  emails: fc.constantFrom('a@x.org', 'b@x.org', 'c@x.org', 'zoë@x.org', '😀@x.org', null, ''),
  messages: ['m1', 'm2', '', 'a "quoted", message', 'Zoë 😀', 'ｍ'],
  names: ['Ada', 'Bo', 'Zoë', 'Unknown', ''],
});
const arbRecord = recordsOf(arbEvent);

const arbPlan = (maxLines: number): fc.Arbitrary<Plan> =>
  fc
    .array(arbRecord, { maxLength: maxLines })
    // Export records of distinct files, as real exports have (one run keeps a repeated one twice
    // in the stream; a merge passes each distinct one on once).
    .map((recs) => recs.map((r, i) => JSON.stringify(r.kind === 'export' ? { ...r, path: `/out/f${i}.csv` } : r)))
    .chain((lines) =>
      fc.record({
        lines: fc.constant(lines),
        cuts: fc.array(fc.integer({ min: 0, max: lines.length }), { maxLength: 6 }).map((c) => c.sort((a, b) => a - b)),
        rounds: fc.integer({ min: 0, max: 3 }),
        seed: fc.integer(),
        combinerBy: fc.boolean(),
      }),
    );

const arbFlags: fc.Arbitrary<Flags> = fc.record(
  {
    by: fc.constantFrom(null, 'user', 'category', 'center'),
    // Above the defaults too: a merge must not fall back to them.
    maxUsers: fc.constantFrom(0, 1, 3, 5000),
    maxSummaries: fc.constantFrom(0, 2, 4, 5000),
    maxErrorsPerUser: fc.constantFrom(0, 1, 3, 500),
    type: fc.constantFrom('error', 'success'),
    category: fc.constantFrom('Unverified Email', 'Bad ORCID Claims'),
  },
  { requiredKeys: ['by'] },
) as fc.Arbitrary<Flags>;

const summariesOf = (lines: string[]) =>
  lines
    .map((l) => JSON.parse(l) as JsonObject)
    .filter((r) => r.kind === 'summary')
    .map(({ generated_at, ...rest }) => (void generated_at, rest));
// Each analyze process (mapper, combiner, reducer) adds its own run records (docs/run-records.md): not the data compared.
const othersOf = (lines: string[]) => lines.filter((l) => !l.startsWith('{"kind":"summary"') && !l.startsWith('{"kind":"run"')).map((l) => l.trimEnd()).sort();

async function check(runner: Runner, plan: Plan, flags: Flags): Promise<void> {
  const whole = await runner.analyze(flags, 'summary', plan.lines);
  const reduced = await streamingJob(runner, plan, flags);
  expect(summariesOf(reduced)).toEqual(summariesOf(whole));
  // Records of other kinds come out once each (in the shuffle's order, not the input's).
  expect(othersOf(reduced)).toEqual(othersOf(whole));
}

describe('Hadoop Streaming: mapper analyze --partial, combiner analyze --merge --partial, sort, reducer analyze --merge', () => {
  it('equals one analyze run for any splits, combiner groupings and passes (pure cores)', async () => {
    await fc.assert(
      fc.asyncProperty(arbPlan(80), arbFlags, (plan, flags) => check(pure, plan, flags)),
      { numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
  });

  it('equals one analyze run with the real binaries and the real LC_ALL=C sort', async () => {
    // Each run starts ~10 to 25 processes: a few runs, on plans with something in them.
    await fc.assert(
      fc.asyncProperty(
        arbPlan(40).filter((p) => p.lines.length > 5 && p.rounds > 0),
        arbFlags,
        (plan, flags) => check(binaries, plan, flags),
      ),
      { numRuns: 4 },
    );
  }, 240_000);
});

describe('a combiner given no partial', () => {
  it('writes only what passed through, so the reducer keeps the mappers\' caps and grouping', async () => {
    const ev = { event_type: 'error', category: 'Unverified Email', message: 'm', user_context: { email: 'a@x.org' } };
    const map = await run('analyze', ['--partial', '--by', 'user', '--max-summaries', '5000'], { input: `${JSON.stringify(ev)}\n` });
    const spill = await run('analyze', ['--merge', '--partial'], { input: '{"kind":"notification","status":"sent"}\t\n' });
    expect(spill.exitCode, spill.stderr).toBe(0);
    expect(spill.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('{"kind":"run"'))).toEqual(['{"kind":"notification","status":"sent"}']);
    const reduced = await run('analyze', ['--merge'], { input: map.stdout + spill.stdout });
    expect(reduced.exitCode, reduced.stderr).toBe(0);
    const s = reduced.records.filter((r) => r.kind === 'summary');
    expect(s.map((r) => [r.group, r.limits.max_summaries])).toEqual([[{ by: 'user', value: 'a@x.org' }, 5000]]);
  });
});
