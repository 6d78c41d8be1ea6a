// The run's summary as one mergeable state: the accumulator behind analyze, --partial and
// --merge, and notify's own summary of events. The record's fields are record.ts.
//
// The invariants (docs/analyze.md, --partial and --merge), stated here once:
// - Counts are exact. Every list is either complete (affected_users in a partial, the exports)
//   or "the first N in a fixed order": users by key, summary texts and user keys in code-unit
//   order (order.ts), a user's errors by compareBatchErrors. So the first N of a merge are the
//   first N of the union of each piece's first N, and states built over pieces of the input
//   merge into exactly the state of one pass over all of it (generated_at aside).
// - Caps only ever go down (lowerLimits): the first N of a longer list stay first.
// - Whatever merges two values is order-free (the smaller name or center, sets, sums), so the
//   pieces may come in any order and any tree of merges.
// first-n.ts keeps the capped lists; summary-partial.ts reads partials back.
import { dataTime } from '../cli/time.js';
import { ExactNumber } from '../stream/exact-number.js';
import { Completeness } from '../stream/run-record.js';
import { isPlainObject, setOwn, toFieldName, UNKNOWN_CATEGORY, type JsonObject, type JsonValue } from '../event/event.js';
import { FirstTexts, UserBatches } from './first-n.js';
import { cmp, countRecord, stableStringify, userKey } from './order.js';
import {
  DEFAULT_MAX_ERRORS_PER_USER,
  DEFAULT_MAX_SUMMARIES,
  DEFAULT_MAX_USERS,
  NO_ACTION,
  type Summary,
  type SummaryGroup,
  type SummaryInput,
  type SummaryLimits,
  type SummaryPartial,
} from './record.js';
import { Timeline } from './timeline.js';

// The summary module's API in one place for its callers (analyze, notify, parallel/, index.ts).
export * from './record.js';
export { groupValue, stableStringify } from './order.js';

/** How a summary is built: the job, the caps, the group, the clock. */
export interface SummaryOptions {
  /** Overrides the events' source.job. */
  job?: string | null;
  maxUsers?: number;
  maxSummaries?: number;
  maxErrorsPerUser?: number;
  group?: SummaryGroup | null;
  /** generated_at; injectable so tests compare exactly (default: the time build() runs). */
  now?: string | (() => string);
}

function emailOf(uc: JsonValue | undefined): string | null {
  return isPlainObject(uc) && typeof uc.email === 'string' && uc.email !== '' ? uc.email : null;
}

function nameOf(uc: JsonValue | undefined): string {
  if (isPlainObject(uc) && typeof uc.name === 'string' && uc.name !== '') return uc.name;
  return 'Unknown';
}

function centerOf(uc: JsonValue | undefined): number | null {
  if (!isPlainObject(uc)) return null;
  const c = uc.center_id;
  // -0 is 0 (it would not survive JSON, so a partial would not merge back to the same summary).
  if (typeof c === 'number' && Number.isFinite(c)) return c === 0 ? 0 : c;
  if (typeof c === 'string' && /^-?\d+$/.test(c)) return Number(c);
  if (c instanceof ExactNumber) return c as unknown as number;
  return null;
}

function addCount(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** The accumulator: events, filtered and passed-through records, or partials in; a summary or a partial out. */
export class SummaryState {
  readonly group: SummaryGroup | null;
  private readonly jobOverride: string | null;
  private readonly now: string | (() => string) | undefined;

  readonly jobs = new Set<string>();
  private lastJob: string | null = null;
  first: string | null = null;
  last: string | null = null;
  total = 0;
  errors = 0;
  successes = 0;
  readonly byCategory = new Map<string, number>();
  readonly errorsByCategory = new Map<string, number>();
  /** category → action_needed → count; an error without one counts under NO_ACTION. */
  readonly actions = new Map<string, Map<string, number>>();
  readonly users = new Set<string>();
  private readonly batches: UserBatches;
  private readonly summaries: FirstTexts;
  readonly timeline = new Timeline();
  readonly input: SummaryInput = { records: 0, bad_lines: 0, filtered_out: 0, passed_through: 0 };
  private readonly exportMap = new Map<string, JsonObject>();
  /** Run records and failed exports seen: whether the input is complete. */
  readonly completeness = new Completeness();

  constructor(opts: SummaryOptions = {}) {
    this.batches = new UserBatches(opts.maxUsers ?? DEFAULT_MAX_USERS, opts.maxErrorsPerUser ?? DEFAULT_MAX_ERRORS_PER_USER);
    this.summaries = new FirstTexts(opts.maxSummaries ?? DEFAULT_MAX_SUMMARIES);
    this.group = opts.group ?? null;
    this.jobOverride = opts.job ?? null;
    this.now = opts.now;
    if (this.jobOverride !== null) this.jobs.add(this.jobOverride);
  }

  /** One event (counted as an input record). */
  add(event: JsonObject): void {
    this.input.records++;
    this.addEvent(event);
  }

  /** One event, without input accounting (grouped runs count input per group themselves). */
  addEvent(event: JsonObject): void {
    this.total++;
    const category = typeof event.category === 'string' ? event.category : UNKNOWN_CATEGORY;
    addCount(this.byCategory, category, 1);
    const ts = event.timestamp;
    const time = dataTime(ts);
    if (time !== null) {
      if (this.first === null || time < this.first) this.first = time;
      if (this.last === null || time > this.last) this.last = time;
    }
    if (this.jobOverride === null) {
      const src = event.source;
      if (isPlainObject(src)) {
        const job = src.job;
        if (typeof job === 'string' && job !== this.lastJob) {
          this.jobs.add(job);
          this.lastJob = job;
        }
      }
    }
    if (event.event_type !== 'error') {
      this.successes++;
      return;
    }
    this.errors++;
    addCount(this.errorsByCategory, category, 1);
    this.timeline.add(time);
    const action = typeof event.action_needed === 'string' && event.action_needed !== '' ? event.action_needed : null;
    this.addAction(category, action ?? NO_ACTION, 1);
    const key = userKey(event);
    this.users.add(key);
    const message = typeof event.message === 'string' ? event.message : '';
    this.summaries.offer(`${category}: ${key} - ${message === '' ? 'No details' : message}`);

    const uc = event.user_context;
    const batch = this.batches.note(key, emailOf(uc), nameOf(uc), centerOf(uc), 1);
    if (batch === null) return;
    this.batches.offerError(batch, {
      category,
      message,
      action_needed: action,
      event_id: typeof event.event_id === 'string' ? event.event_id : null,
      timestamp: typeof ts === 'string' ? ts : time,
    });
  }

  private addAction(category: string, action: string, n: number): void {
    let m = this.actions.get(category);
    if (m === undefined) this.actions.set(category, (m = new Map()));
    addCount(m, action, n);
  }

  /** An event the filters rejected: counted in input, not in the summary. */
  addFiltered(): void {
    this.input.records++;
    this.input.filtered_out++;
  }

  /** A record of another kind that goes on unchanged; export records are also collected. */
  addPassThrough(rec: JsonObject): void {
    this.input.records++;
    this.input.passed_through++;
    if (rec.kind === 'export') this.addExport(rec);
    else this.completeness.observe(rec);
  }

  /** An `export` record seen in the stream (the same record twice is kept once). */
  addExport(rec: JsonObject): void {
    const key = stableStringify(rec);
    if (!this.exportMap.has(key)) this.exportMap.set(key, rec);
    this.completeness.observe(rec);
  }

  /** The export records seen, each once, in a fixed order. */
  get exports(): JsonObject[] {
    return [...this.exportMap].sort((a, b) => cmp(a[0], b[0])).map((e) => e[1]);
  }

  /** Lowers the caps (a merge adopts the smallest caps among its partials); safe at any time. */
  lowerLimits(l: SummaryLimits): void {
    this.batches.maxUsers = Math.min(this.batches.maxUsers, l.max_users);
    this.summaries.cap = Math.min(this.summaries.cap, l.max_summaries);
    this.batches.maxErrors = Math.min(this.batches.maxErrors, l.max_errors_per_user);
  }

  /** Adds a partial state (or an uncapped summary) built with the same limits. */
  mergePartial(p: SummaryPartial): void {
    for (const j of p.jobs) if (this.jobOverride === null) this.jobs.add(j);
    if (p.first_event_at !== null && (this.first === null || p.first_event_at < this.first)) this.first = p.first_event_at;
    if (p.last_event_at !== null && (this.last === null || p.last_event_at > this.last)) this.last = p.last_event_at;
    this.total += p.total_events;
    this.errors += p.error_count;
    this.successes += p.success_count;
    for (const [k, v] of Object.entries(p.events_by_category)) addCount(this.byCategory, k, v);
    for (const [k, v] of Object.entries(p.errors_by_category)) addCount(this.errorsByCategory, k, v);
    for (const [k, v] of Object.entries(p.actions_by_category)) for (const [a, n] of Object.entries(v)) this.addAction(k, a, n);
    for (const u of p.affected_users) this.users.add(u);
    for (const s of p.summaries) this.summaries.offer(s);
    this.timeline.merge(p.errors_over_time);
    for (const b of p.user_batches) {
      const batch = this.batches.note(b.email ?? b.name, b.email, b.name, b.center_id, b.error_count);
      if (batch !== null) for (const e of b.errors) this.batches.offerError(batch, e);
    }
    this.input.records += p.input.records;
    this.input.bad_lines += p.input.bad_lines;
    this.input.filtered_out += p.input.filtered_out;
    this.input.passed_through += p.input.passed_through;
    for (const e of p.exports) this.addExport(e);
    this.completeness.merge(p.runs, p.incomplete_reasons, p.skipped_lines);
  }

  /** The job: --job, else every job the events named (sorted, comma-joined), else null. */
  get job(): string | null {
    if (this.jobOverride !== null) return this.jobOverride;
    if (this.jobs.size === 0) return null;
    return [...this.jobs].sort(cmp).join(',');
  }

  private generatedAt(): string {
    if (typeof this.now === 'function') return this.now();
    return this.now ?? new Date().toISOString();
  }

  private common(allUsers: boolean, sortUsers = true): Omit<Summary, 'kind'> {
    const users = sortUsers ? [...this.users].sort(cmp) : [...this.users];
    const shown = allUsers ? users : users.slice(0, this.batches.maxUsers);
    const summaries = this.summaries.first();
    const batches = this.batches.first();
    const errorsByCategory = countRecord(this.errorsByCategory);
    const fields: Record<string, number> = {};
    for (const [k, v] of Object.entries(errorsByCategory)) fields[toFieldName(k)] = (fields[toFieldName(k)] ?? 0) + v;
    // A partial carries the run counts and only the other reasons; a summary states them all.
    const reasons = allUsers ? this.completeness.fixedReasons() : this.completeness.incompleteReasons();
    const skipped = this.completeness.skippedLines();
    const actions: Record<string, Record<string, number>> = {};
    for (const k of Object.keys(errorsByCategory)) {
      const a = this.actions.get(k);
      if (a !== undefined) setOwn(actions, k, countRecord(a));
    }
    return {
      version: 1,
      job: this.job,
      group: this.group,
      generated_at: this.generatedAt(),
      first_event_at: this.first,
      last_event_at: this.last,
      total_events: this.total,
      error_count: this.errors,
      success_count: this.successes,
      events_by_category: countRecord(this.byCategory),
      errors_by_category: errorsByCategory,
      errors_by_category_field: fields,
      actions_by_category: actions,
      affected_users: shown,
      affected_user_count: users.length,
      affected_users_omitted: users.length - shown.length,
      user_batches: batches,
      user_batches_omitted: users.length - batches.length,
      summaries,
      summaries_omitted: this.errors - summaries.length,
      errors_over_time: this.timeline.toJSON(),
      input: { ...this.input },
      exports: this.exports,
      complete: reasons.length === 0,
      incomplete_reasons: reasons,
      // Only when a stage skipped lines: a clean run's summary keeps its fields (and its bytes).
      ...(skipped.length ? { skipped_lines: skipped } : {}),
      limits: { max_users: this.batches.maxUsers, max_summaries: this.summaries.cap, max_errors_per_user: this.batches.maxErrors },
    };
  }

  /** The summary record. */
  build(): Summary {
    return { kind: 'summary', ...this.common(false) };
  }

  /**
   * The partial state record (--partial): complete user list, and every job seen. `sortUsers`
   * false leaves affected_users in the order seen, for a merge that sorts them itself (--jobs:
   * each worker's sort of 60,000 users took ~0.1 s at the end of the run, on the way to a set).
   */
  partial(sortUsers = true): SummaryPartial {
    const c = this.common(true, sortUsers);
    return { kind: 'summary_partial', ...c, complete: this.completeness.incompleteReasons().length === 0, jobs: [...this.jobs].sort(cmp), runs: {} };
  }
}

/** The collector for library users (notify summarizes events itself with this). */
export function createSummaryBuilder(opts: SummaryOptions = {}): SummaryState {
  return new SummaryState(opts);
}

/** One summary over a list of events (records of other kinds are passed to addPassThrough). */
export function summarizeEvents(events: Iterable<JsonObject>, opts: SummaryOptions = {}): Summary {
  const state = new SummaryState(opts);
  for (const e of events) {
    if (e.kind !== undefined && e.kind !== 'event') state.addPassThrough(e);
    else state.add(e);
  }
  return state.build();
}
