// analyze's core: records in; pass-through records, then the run's summary (one per group with
// --by) or partial states (--partial), which --merge combines into exactly the summary of one
// pass over all the input.
import { parseJson } from '../../stream/exact-number.js';
import { runStageOver, type Emit, type Stage } from '../../stream/stage.js';
import { DataError } from '../../cli/errors.js';
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
} from '../../summary/summary.js';
import { InvalidPartial, isMergeable, readPartial } from '../../summary/summary-partial.js';
import { Completeness } from '../../stream/run-record.js';
import type { JsonObject } from '../../event/event.js';
import type { Item } from '../../stream/ndjson-reader.js';
import type { Predicate } from '../../stream/filters.js';
import { notAnEvent, type AnalyzeFinal } from '../../parallel/tasks/analyze.js';

/** merge-partial merges partial states into one partial state (a combiner, or a tree of merges). */
export type AnalyzeMode = 'summary' | 'partial' | 'merge' | 'merge-partial';

/** What analyze makes: a summary, partial states or their merge; grouping, filters and caps. */
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

/** analyze's pure core: events in, summaries (or partial states) out at the end. */
export interface AnalyzeStage extends Stage {
  /** Error events seen so far (for --fail-on-errors). */
  readonly errorCount: number;
  /** A --jobs worker's states (its events, as partial states), merged exactly into this run's. */
  mergeWorker(final: AnalyzeFinal): void;
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
  const carryRuns = (s: SummaryState, from: Completeness) => s.completeness.merge(from.runCounts(), from.fixedReasons(), from.skippedLines());

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
    mergeWorker(final) {
      errorCount += final.errorCount;
      const merge = (s: SummaryState, text: string) => s.mergePartial(readPartial(parseJson(text) as JsonObject));
      if (final.root !== null) merge(rootState(), final.root);
      for (const g of final.groups) merge(groupState(g.value), g.partial);
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
      const reason = notAnEvent(type);
      if (reason !== null) {
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
