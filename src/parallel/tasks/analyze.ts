// analyze's work in a worker: each event goes into the worker's own summary state (one per
// --by group, and the run-wide one for events the filters leave out), kept across all the blocks
// it is given; at the end (end()) the states go to the main thread as partial states, which it
// merges exactly, as `analyze --merge` merges `analyze --partial` runs (docs/parallel.md).
// Records of other kinds go back with their block, in order, for the main thread to pass on;
// a record that is not an event is rejected here, as a bad line in the one-thread order.
import { groupValue, SummaryState, type GroupBy, type SummaryLimits } from '../../summary/summary.js';
import { buildFilter, type FilterOptions } from '../../stream/filters.js';
import { stringifyExact } from '../../stream/exact-number.js';
import type { Item } from '../../stream/ndjson-reader.js';
import type { BadLine } from '../../stream/bad-lines.js';
import type { Task } from './task.js';

/** What an analyze worker needs: grouping, job, filters and caps, as the main thread decided them. */
export interface AnalyzeTaskConfig {
  by: GroupBy | null;
  job: string | null;
  limits: SummaryLimits;
  filter: FilterOptions | null;
}

/** What an analyze worker sends per block: other stages' records in order, rejects and counts. */
export interface AnalyzeBlock {
  /** Records of other kinds (run, export, summary…), as JSON text with their line, in input order. */
  others: Array<{ text: string; file: string; line: number }>;
  /** Records --since/--until left out for having no timestamp. */
  noTimestamp: number;
}

/** A worker's states as partial records (JSON text): the run-wide one (null if never made) and one per group value. */
export interface AnalyzeFinal {
  root: string | null;
  groups: Array<{ value: string | null; partial: string }>;
  errorCount: number;
}

/** Why a record is not an event (the one-thread stage's words), or null when it is one. */
export function notAnEvent(type: unknown): string | null {
  return type === 'error' || type === 'success' ? null : `not an event: event_type must be "error" or "success", got ${stringifyExact(type ?? null)}`;
}

/** An analyze worker: keeps partial summary states over all its blocks, sent once at the end. */
export function createTask(config: AnalyzeTaskConfig): Task<AnalyzeBlock> {
  const stats = { noTimestamp: 0 };
  const filter = config.filter ? buildFilter(config.filter, stats) : null;
  const { by, limits } = config;
  const state = (group: SummaryState['group']) =>
    new SummaryState({ job: config.job, maxUsers: limits.max_users, maxSummaries: limits.max_summaries, maxErrorsPerUser: limits.max_errors_per_user, group });
  let root: SummaryState | null = null;
  const groups = new Map<string | null, SummaryState>();
  const groupOf = (rec: Item['value']): SummaryState => {
    if (by === null) return (root ??= state(null));
    const value = groupValue(by, rec);
    let s = groups.get(value);
    if (s === undefined) groups.set(value, (s = state({ by, value })));
    return s;
  };
  let errorCount = 0;
  let others: AnalyzeBlock['others'] = [];
  return {
    add(items: Item[], reject: (bad: BadLine) => void): void {
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        const rec = item.value;
        if (rec.kind !== undefined && rec.kind !== 'event') {
          others.push({ text: stringifyExact(rec), file: item.file, line: item.line });
          continue;
        }
        const reason = notAnEvent(rec.event_type);
        if (reason !== null) reject({ file: item.file, line: item.line, error: reason, raw: stringifyExact(rec) });
        else if (filter !== null && !filter(rec)) (root ??= state(null)).addFiltered();
        else {
          if (rec.event_type === 'error') errorCount++;
          groupOf(rec).add(rec);
        }
      }
    },
    finish() {
      const result: AnalyzeBlock = { others, noTimestamp: stats.noTimestamp };
      others = [];
      stats.noTimestamp = 0;
      return { result };
    },
    end(): AnalyzeFinal {
      // Users unsorted: the main thread adds them to its set and sorts once, for the summary.
      const text = (s: SummaryState) => stringifyExact(s.partial(false));
      return { root: root && text(root), groups: [...groups].map(([value, s]) => ({ value, partial: text(s) })), errorCount };
    },
  };
}
