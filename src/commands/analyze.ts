// analyze: events in, the run's summary out (one per group with --by), or partial states
// (--partial) that --merge combines into exactly the summary of one pass over all the input.
// Length: over 350 lines, not split yet: the command, --by grouping and --compare's reader are
// to become commands/analyze/{index,groups,compare}.ts (left whole for now).
import { stringifyExact } from '../stream/exact-number.js';
import { commonArgs, defineCommand, filesArg, filterArgs } from '../cli/run.js';
import { runStage, runStageOver, type Emit, type Stage } from '../stream/stage.js';
import { DataError, readFailureText, EXIT_ERRORS_PRESENT, invalidOption } from '../cli/errors.js';
import {
  groupValue,
  stableStringify,
  SummaryState,
  DEFAULT_MAX_ERRORS_PER_USER,
  DEFAULT_MAX_SUMMARIES,
  DEFAULT_MAX_USERS,
  type GroupBy,
  type Summary,
  type SummaryLimits,
  type SummaryPartial,
} from '../summary/summary.js';
import { InvalidPartial, isMergeable, readPartial } from '../summary/summary-partial.js';
import { openAtomic } from '../durable/atomic-file.js';
import { readFile } from 'node:fs/promises';
import { Completeness } from '../stream/run-record.js';
import type { JsonObject } from '../event/event.js';
import type { Item } from '../stream/ndjson-reader.js';
import type { Predicate } from '../stream/filters.js';

/** merge-partial merges partial states into one partial state (a combiner, or a tree of merges). */
export type AnalyzeMode = 'summary' | 'partial' | 'merge' | 'merge-partial';

export interface AnalyzeOptions {
  mode?: AnalyzeMode;
  by?: GroupBy | null;
  job?: string | null;
  /** Caps; in --merge, an unset cap is taken from the partials. */
  maxUsers?: number;
  maxSummaries?: number;
  maxErrorsPerUser?: number;
  /** generated_at of every summary (default: the time the stage ends). */
  now?: string;
  filter?: Predicate | null;
  /** Bad input lines so far (the CLI's policy count), read when the summary is built. */
  badLines?: () => number;
  /** A record that is neither an event nor a known kind; the CLI reports it as a bad line. */
  onInvalid?: (item: Item, reason: string) => void;
  onWarning?: (text: string) => void;
  /** Awaited every few hundred summaries at the end (the CLI flushes stdout: --by user can emit 60,000). */
  drain?: () => Promise<void>;
}

export interface AnalyzeStage extends Stage {
  /** Error events seen so far (for --fail-on-errors). */
  readonly errorCount: number;
}

const NULL_GROUP = '\u0000none';

/** The pure core: records in; pass-through records, then summaries (or partials) out. */
export function createAnalyzeStage(opts: AnalyzeOptions = {}): AnalyzeStage {
  const mode = opts.mode ?? 'summary';
  const merging = mode === 'merge' || mode === 'merge-partial';
  const partialOut = mode === 'partial' || mode === 'merge-partial';
  const filter = opts.filter ?? null;
  let by: GroupBy | null = opts.by ?? null;
  let byFixed = opts.by != null || !merging;
  const capsGiven = opts.maxUsers !== undefined || opts.maxSummaries !== undefined || opts.maxErrorsPerUser !== undefined;
  let limits: SummaryLimits | null =
    !merging || capsGiven
      ? {
          max_users: opts.maxUsers ?? DEFAULT_MAX_USERS,
          max_summaries: opts.maxSummaries ?? DEFAULT_MAX_SUMMARIES,
          max_errors_per_user: opts.maxErrorsPerUser ?? DEFAULT_MAX_ERRORS_PER_USER,
        }
      : null;
  const warned = new Set<string>();
  const warn = (text: string) => {
    if (warned.has(text)) return;
    warned.add(text);
    opts.onWarning?.(text);
  };

  // Ungrouped: one state holds everything. Grouped: one state per group value, and the run-wide
  // input accounting and exports kept in `root` (a group counts only its own events).
  let root: SummaryState | null = null;
  const groups = new Map<string, SummaryState>();
  let errorCount = 0;
  // --merge: partials merged, and whether any of them said which caps it was made with.
  let partialsMerged = 0;
  let capsKnown = capsGiven;
  // --merge: every export record (direct, or carried in a partial) is passed on once and shared.
  // (A grouped --partial run with no events has no partial to carry it, hence both ways.)
  const mergedExports = new Map<string, JsonObject>();
  const mergeExport = (rec: JsonObject, emit: Emit) => {
    const key = stableStringify(rec);
    if (mergedExports.has(key)) return;
    mergedExports.set(key, rec);
    emit(rec);
  };

  // --merge: run records between the partials (those of the analyze runs that made them).
  const runsSeen = new Completeness();
  const carryRuns = (s: SummaryState, from: Completeness) => s.completeness.merge(from.runCounts(), from.fixedReasons());

  const effectiveLimits = (): SummaryLimits => {
    if (limits === null) limits = { max_users: DEFAULT_MAX_USERS, max_summaries: DEFAULT_MAX_SUMMARIES, max_errors_per_user: DEFAULT_MAX_ERRORS_PER_USER };
    return limits;
  };
  const newState = (group: SummaryState['group']) => {
    const l = effectiveLimits();
    return new SummaryState({
      job: opts.job ?? null,
      maxUsers: l.max_users,
      maxSummaries: l.max_summaries,
      maxErrorsPerUser: l.max_errors_per_user,
      group,
    });
  };
  const rootState = () => (root ??= newState(null));
  const groupState = (value: string | null): SummaryState => {
    const key = value ?? NULL_GROUP;
    let s = groups.get(key);
    if (s === undefined) {
      s = newState({ by: by!, value });
      groups.set(key, s);
    }
    return s;
  };

  const mergeRecord = (item: Item, emit: Emit) => {
    let p: SummaryPartial & { limitsGiven: boolean };
    try {
      p = readPartial(item.value);
    } catch (err) {
      if (!(err instanceof InvalidPartial)) throw err;
      throw new DataError(`cannot merge this ${String(item.value.kind)} record: ${err.message}`, item.file, item.line);
    }
    const pBy = p.group?.by ?? null;
    if (!byFixed) {
      by = pBy;
      byFixed = true;
    } else if (pBy !== by) {
      throw new DataError(
        `cannot merge partials of different groupings (--by ${pBy ?? 'none'} here, --by ${by ?? 'none'} before); give every analyze the same --by`,
        item.file,
        item.line,
      );
    }
    partialsMerged++;
    if (p.limitsGiven) {
      capsKnown = true;
      if (capsGiven) {
        const l = effectiveLimits();
        if (p.limits.max_users < l.max_users || p.limits.max_summaries < l.max_summaries || p.limits.max_errors_per_user < l.max_errors_per_user) {
          warn(`partials were made with smaller caps (${JSON.stringify(p.limits)}) than this merge's (${JSON.stringify(l)}); the capped lists may differ from one run`);
        }
      } else if (limits === null) {
        limits = { ...p.limits };
      } else {
        // The smallest caps among the partials are the ones a merge can honour exactly.
        limits = {
          max_users: Math.min(limits.max_users, p.limits.max_users),
          max_summaries: Math.min(limits.max_summaries, p.limits.max_summaries),
          max_errors_per_user: Math.min(limits.max_errors_per_user, p.limits.max_errors_per_user),
        };
        root?.lowerLimits(limits);
        for (const g of groups.values()) g.lowerLimits(limits);
      }
    }
    const state = by === null ? rootState() : groupState(p.group!.value);
    errorCount += p.error_count;
    for (const e of p.exports) mergeExport(e, emit);
    state.mergePartial({ ...p, exports: [] });
  };

  const finish = (emit: Emit): void | Promise<void> => {
    const now = opts.now ?? new Date().toISOString();
    const bad = opts.badLines?.() ?? 0;
    // A combiner that got no partial (Hadoop may hand it a spill of pass-through records only)
    // has nothing to add: an empty partial would claim a grouping and the default caps, and
    // the reducer would adopt them. What passed through has been written already.
    if (mode === 'merge-partial' && partialsMerged === 0 && bad === 0) return;
    const out = (s: SummaryState) => {
      const rec: Summary | SummaryPartial = partialOut ? s.partial() : s.build();
      rec.generated_at = now;
      // Caps nobody gave are not passed on as if chosen (a later merge takes the smallest).
      if (partialOut && merging && !capsKnown) delete (rec as Partial<SummaryPartial>).limits;
      emit(rec as unknown as JsonObject);
    };
    if (by === null) {
      const s = rootState();
      s.input.bad_lines += bad;
      for (const e of mergedExports.values()) s.addExport(e);
      carryRuns(s, runsSeen);
      out(s);
      return;
    }
    const exports = [...(root?.exports ?? []), ...mergedExports.values()];
    const keys = [...groups.keys()].sort((a, b) => (a === NULL_GROUP ? 1 : b === NULL_GROUP ? -1 : a < b ? -1 : a > b ? 1 : 0));
    const one = (k: string) => {
      const s = groups.get(k)!;
      groups.delete(k);
      for (const e of exports) s.addExport(e);
      carryRuns(s, runsSeen);
      if (root) carryRuns(s, root.completeness);
      out(s);
    };
    const drain = opts.drain;
    if (!drain) {
      for (const k of keys) one(k);
      return;
    }
    return (async () => {
      for (let i = 0; i < keys.length; i++) {
        one(keys[i]!);
        if (i % 256 === 255) await drain();
      }
    })();
  };

  return {
    get errorCount() {
      return errorCount;
    },
    push(item, emit) {
      const rec = item.value;
      const kind = rec.kind;
      if (kind !== undefined && kind !== 'event') {
        if (merging) {
          if (isMergeable(rec)) return mergeRecord(item, emit);
          // Already counted by the partial that passed it on; an export is passed on once.
          if (kind === 'export') mergeExport(rec, emit);
          else {
            runsSeen.observe(rec);
            emit(rec);
          }
          return;
        }
        // An export record also travels inside the partials; --merge passes each on once.
        const s = rootState();
        s.addPassThrough(rec);
        emit(rec);
        return;
      }
      const type = rec.event_type;
      if (type !== 'error' && type !== 'success') {
        const reason = `not an event: event_type must be "error" or "success", got ${JSON.stringify(type ?? null)}`;
        if (opts.onInvalid) opts.onInvalid(item, reason);
        else throw new DataError(reason, item.file, item.line);
        return;
      }
      if (by === null) {
        if (merging) byFixed = true;
        const s = rootState();
        if (filter !== null && !filter(rec)) {
          s.addFiltered();
          return;
        }
        if (type === 'error') errorCount++;
        s.add(rec);
        return;
      }
      if (filter !== null && !filter(rec)) {
        // Counted run-wide only: a group made of filtered-out events would be an empty summary.
        rootState().addFiltered();
        return;
      }
      const s = groupState(groupValue(by, rec));
      if (type === 'error') errorCount++;
      s.add(rec);
    },
    end(emit) {
      return finish(emit);
    },
  };
}

/** Library form: records in; pass-through records and the summaries out. */
export function analyzeRecords(source: Iterable<JsonObject> | AsyncIterable<JsonObject>, opts: AnalyzeOptions = {}) {
  return runStageOver(createAnalyzeStage(opts), source);
}

function parseBy(v: string | undefined): GroupBy | null {
  if (v === undefined) return null;
  if (v === 'user' || v === 'category' || v === 'center') return v;
  throw invalidOption('by', 'must be one of user, category, center', v);
}

export default defineCommand({
  meta: { name: 'analyze', description: 'Summarize events: counts by category, affected users, per-user batches (NDJSON in, summary records out)' },
  args: {
    ...filesArg,
    by: { type: 'enum', options: ['user', 'category', 'center'], valueHint: 'user|category|center', description: 'One summary per group instead of one in all' },
    partial: { type: 'boolean', description: 'Write mergeable partial states (kind summary_partial) for --merge; with --merge, merge into one partial (a combiner)' },
    merge: { type: 'boolean', description: 'Combine partial states (and uncapped summaries) into the summary one run would give' },
    'fail-on-errors': { type: 'boolean', description: 'Exit 3 after writing the summary when any error event is present' },
    format: {
      type: 'enum',
      options: ['json', 'table', 'html'],
      valueHint: 'json|table|html',
      description: 'Output format: html is a self-contained report page (default: html for -o *.html, else table on a terminal, json otherwise)',
    },
    output: { type: 'string', alias: 'o', valueHint: 'FILE', description: 'Write the table or html report to FILE (atomically); stdout then carries the summary records as with json' },
    compare: { type: 'string', valueHint: 'FILE', description: "With --format html: the previous run's summary (NDJSON) to show per category what is new, resolved, still failing" },
    job: { type: 'string', valueHint: 'NAME', description: "Job name (default: the events' source.job)" },
    'max-users': { type: 'string', valueHint: 'N', description: `Users listed in affected_users and user_batches (default ${DEFAULT_MAX_USERS}; counts stay exact)` },
    'max-summaries': { type: 'string', valueHint: 'N', description: `One-line summaries listed (default ${DEFAULT_MAX_SUMMARIES}; counts stay exact)` },
    'max-errors-per-user': { type: 'string', valueHint: 'N', description: `Errors listed in each user batch (default ${DEFAULT_MAX_ERRORS_PER_USER})` },
    ...filterArgs,
    ...commonArgs,
  },
  examples: [
    { text: 'The summary of a run, as a table on a terminal', command: 'process events.ndjson | analyze --format table' },
    { text: 'One summary per category, errors only since 08:00 UTC', command: 'analyze --by category --type error --since 2026-11-20T08:00 ev.ndjson' },
    { text: 'Partial states per shard, merged into the summary of one pass', command: 'analyze --partial a.ndjson > a.part; analyze --partial b.ndjson > b.part; cat a.part b.part | analyze --merge' },
  ],
  seeAlso: 'The summary fields: docs/analyze.md in the package.',
  csvHint: 'turn it into events with process --from csv first',
  // A report drawn on stdout is for a person; JSON (also beside -o FILE) is a stage of a pipeline.
  writesRecords: (args) => {
    const output = args.output ?? null;
    const byExtension = output !== null && /\.html?$/i.test(output) ? 'html' : undefined;
    const format = args.format ?? byExtension ?? (process.stdout.isTTY && !args.partial && output === null ? 'table' : 'json');
    return format === 'json' || output !== null;
  },
  async run(ctx) {
    const mode: AnalyzeMode = ctx.args.merge ? (ctx.args.partial ? 'merge-partial' : 'merge') : ctx.args.partial ? 'partial' : 'summary';
    const output = ctx.args.output ?? null;
    const byExtension = output !== null && /\.html?$/i.test(output) ? 'html' : undefined;
    // Partials are for machines: JSON even on a terminal.
    const format = ctx.args.format ?? byExtension ?? (process.stdout.isTTY && !ctx.args.partial && output === null ? 'table' : 'json');
    if (format !== 'json' && ctx.args.partial) throw invalidOption('format', 'must be json with --partial', format);
    if (output !== null && format === 'json') throw invalidOption('output', 'writes a report: give --format html or table (the summary records go to stdout)', output);
    if (ctx.args.compare !== undefined && format !== 'html') throw invalidOption('compare', 'needs --format html', ctx.args.compare);
    const previous = ctx.args.compare !== undefined ? await readPreviousSummaries(ctx.args.compare) : null;
    const rendered = format !== 'json';
    // -o: the report goes to the file, and stdout carries what json would (the pipeline goes on).
    const toStdout = rendered && output === null;
    const built: Summary[] = [];
    const seen: Summary[] = [];
    const stage = createAnalyzeStage({
      mode,
      by: parseBy(ctx.args.by),
      job: ctx.args.job ?? null,
      maxUsers: ctx.int('max-users'),
      maxSummaries: ctx.int('max-summaries'),
      maxErrorsPerUser: ctx.int('max-errors-per-user'),
      filter: ctx.filter,
      badLines: () => ctx.policy.count,
      onInvalid: (item, reason) => ctx.policy.add({ file: item.file, line: item.line, error: reason, raw: stringifyExact(item.value) }),
      onWarning: (text) => ctx.log.warn(text),
      drain: () => ctx.out.flush(),
    });
    // Rendered: the summaries are kept; on stdout only the rendering is shown (no JSON).
    const keep = (list: Summary[], emit: Emit | null) => (rec: JsonObject) => {
      if (rec.kind === 'summary') list.push(rec as unknown as Summary);
      emit?.(rec);
    };
    const sink: Stage = rendered
      ? {
          push: (item, emit) => stage.push(item, keep(seen, toStdout ? null : emit)),
          end: (emit) => stage.end(keep(built, toStdout ? null : emit)),
        }
      : stage;
    await runStage(ctx, sink);
    if (rendered && !ctx.stop.stopped && !ctx.out.closed) {
      // A summary read in (analyze --format html < summary.json) is rendered as it is, when there were no events.
      const list = seen.length && built.every((s) => s.total_events === 0 && s.input.filtered_out === 0) ? seen : built;
      // Loaded here: the renderers (and the table's string-width) are not needed by a JSON run's start-up.
      const text =
        format === 'html'
          ? (await import('../summary/report-html.js')).renderHtmlReport(list as unknown as JsonObject[], { previous, previousLabel: ctx.args.compare })
          : await renderTables(list);
      if (output !== null) {
        const file = await openAtomic(output);
        try {
          await file.write(text);
          await file.commit();
        } catch (err) {
          await file.abort();
          throw err;
        }
        ctx.log.info(`${output}: ${format} report of ${list.length} ${list.length === 1 ? 'summary' : 'summaries'} written`);
      } else {
        await ctx.out.flush(true);
        // The progress line ends before the report, so it is drawn once and stays clean.
        ctx.progress.done();
        if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
      }
    }
    if (ctx.args['fail-on-errors'] && stage.errorCount > 0) return EXIT_ERRORS_PRESENT;
  },
});

/** --compare FILE: the summary records of a previous run (NDJSON, or one pretty-printed JSON object). */
export async function readPreviousSummaries(path: string): Promise<JsonObject[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read the --compare file: ${readFailureText(err)}`, path);
  }
  const records: JsonObject[] = [];
  const lines = text.split('\n');
  let parsedAsLines = true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v) && (v as JsonObject).kind === 'summary') records.push(v as JsonObject);
    } catch {
      parsedAsLines = false;
      break;
    }
  }
  if (!parsedAsLines) {
    records.length = 0;
    try {
      const v = JSON.parse(text) as unknown;
      for (const r of Array.isArray(v) ? v : [v]) if (r && typeof r === 'object' && (r as JsonObject).kind === 'summary') records.push(r as JsonObject);
    } catch {
      throw new DataError('the --compare file is not NDJSON or JSON', path);
    }
  }
  if (!records.length) throw new DataError('the --compare file holds no summary record (give the summary analyze wrote)', path);
  return records;
}

async function renderTables(list: Summary[]): Promise<string> {
  const { renderSummaryTable } = await import('../summary/table.js');
  return list.map((s) => renderSummaryTable(s)).join('\n');
}
