// The run's summary (the original job's UserEventCollector + ConsolidatedNotificationData) as one
// mergeable state: every list is either complete or "the N first in a fixed sort order", so
// states built over pieces of the input merge into exactly the state of one pass over all of it.
// Length: over 350 lines, kept whole for now: the state, its merge and its output share private
// fields and their invariants (complete lists or the first N in one order); a split is next.
import { dataTime } from '../cli/time.js';
import { ExactNumber } from '../stream/exact-number.js';
import { Completeness, type RunCounts } from '../stream/run-record.js';
import { isPlainObject, toFieldName, UNKNOWN_CATEGORY, type JsonObject, type JsonValue } from '../event/event.js';
import { Timeline, type ErrorsOverTime } from './timeline.js';

export type GroupBy = 'user' | 'category' | 'center';

export interface SummaryGroup {
  by: GroupBy;
  value: string | null;
}

export interface BatchError {
  category: string;
  message: string;
  action_needed: string | null;
  event_id: string | null;
  timestamp: string | null;
}

/** Seed property 15: one entry per user with all (up to the cap) of that user's errors. */
export interface UserBatch {
  email: string | null;
  name: string;
  center_id: number | null;
  error_count: number;
  errors: BatchError[];
  errors_omitted: number;
}

export interface SummaryInput {
  records: number;
  bad_lines: number;
  filtered_out: number;
  passed_through: number;
}

export interface SummaryLimits {
  max_users: number;
  max_summaries: number;
  max_errors_per_user: number;
}

export interface Summary {
  kind: 'summary';
  version: 1;
  job: string | null;
  group: SummaryGroup | null;
  generated_at: string;
  first_event_at: string | null;
  last_event_at: string | null;
  total_events: number;
  error_count: number;
  success_count: number;
  events_by_category: Record<string, number>;
  errors_by_category: Record<string, number>;
  errors_by_category_field: Record<string, number>;
  /** Every distinct action_needed of each category's errors, with its count (they sum to the category's error count). */
  actions_by_category: Record<string, Record<string, number>>;
  affected_users: string[];
  affected_user_count: number;
  affected_users_omitted: number;
  user_batches: UserBatch[];
  user_batches_omitted: number;
  summaries: string[];
  summaries_omitted: number;
  /** Error counts by time bucket (src/summary/timeline.ts): exact under --merge. */
  errors_over_time: ErrorsOverTime;
  input: SummaryInput;
  exports: JsonObject[];
  /** False when a producer of the input did not finish, a stage failed, or a CSV was not written. */
  complete: boolean;
  incomplete_reasons: string[];
  limits: SummaryLimits;
}

/**
 * The mergeable state: a summary whose affected_users list is complete (exact distinct
 * counts need every key), plus every job seen. See docs/analyze.md.
 */
export interface SummaryPartial extends Omit<Summary, 'kind'> {
  kind: 'summary_partial';
  jobs: string[];
  /**
   * Started and ended runs per tool, from older partials only: run records always travel on as
   * records (every stage passes them through), and the final merge counts them where they land;
   * counting them inside partials too would count a record twice on one path and once on another.
   */
  runs: RunCounts;
}

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

/** The action key of an error event that names no action_needed (counted, so the actions of a category sum to its errors). */
export const NO_ACTION = '(none)';

// Big enough for a support person to act on, small enough that the record stays one readable line.
export const DEFAULT_MAX_USERS = 1000;
export const DEFAULT_MAX_SUMMARIES = 1000;
export const DEFAULT_MAX_ERRORS_PER_USER = 100;

/** Code-unit order: the same on every machine and locale, so merges pick the same items. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The fixed order of a user's errors: time, then id, then the rest (ties are identical errors). */
export function compareBatchErrors(a: BatchError, b: BatchError): number {
  return (
    cmp(a.timestamp ?? '', b.timestamp ?? '') ||
    cmp(a.event_id ?? '', b.event_id ?? '') ||
    cmp(a.category, b.category) ||
    cmp(a.message, b.message) ||
    cmp(a.action_needed ?? '', b.action_needed ?? '')
  );
}

/** ISO timestamp in canonical form (toISOString), or null when it is not a date. */
export function canonicalTime(v: unknown): string | null {
  return dataTime(v);
}

/** The key a user is known by: email, or name when there is no email (docs/rules.md). */
export function userKey(event: JsonObject): string {
  const uc = event.user_context;
  if (isPlainObject(uc)) {
    const email = uc.email;
    if (typeof email === 'string' && email !== '') return email;
    const name = uc.name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return 'Unknown';
}

/** The group an event belongs to under --by. */
export function groupValue(by: GroupBy, event: JsonObject): string | null {
  if (by === 'user') return userKey(event);
  if (by === 'category') return typeof event.category === 'string' ? event.category : UNKNOWN_CATEGORY;
  const uc = event.user_context;
  const c = isPlainObject(uc) ? uc.center_id : null;
  return c === null || c === undefined || c === '' ? null : String(c);
}

interface BatchState {
  email: string | null;
  name: string;
  center: number | null;
  count: number;
  errors: BatchError[];
  /** errors holds more than the cap until the next compaction. */
  sorted: boolean;
}

function addCount(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Sets a key as an own property, so data such as "__proto__" stays a key (and survives JSON). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Keys by count (largest first), then name: the order a person reads a breakdown in. */
function countRecord(map: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]))) setOwn(out, k, v);
  return out;
}

/** A stable text for any JSON value (keys sorted), to order and de-duplicate export records. */
export function stableStringify(v: JsonValue): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (v instanceof ExactNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableStringify(v[k]!)}`).join(',')}}`;
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

/**
 * The accumulator behind analyze, --partial and --merge. Counts are exact; capped lists keep
 * the first N in a fixed order (users by key, summaries by text, a user's errors by time), so
 * the N first of a merge are the N first of the union of each piece's N first.
 */
export class SummaryState {
  maxUsers: number;
  maxSummaries: number;
  maxErrorsPerUser: number;
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
  private readonly batches = new Map<string, BatchState>();
  /** Keys at or above this are never among the first maxUsers (set once the map overflows). */
  private batchCeiling: string | null = null;
  private summaryList: string[] = [];
  private summaryCeiling: string | null = null;
  readonly timeline = new Timeline();
  readonly input: SummaryInput = { records: 0, bad_lines: 0, filtered_out: 0, passed_through: 0 };
  private readonly exportMap = new Map<string, JsonObject>();
  /** Run records and failed exports seen: whether the input is complete. */
  readonly completeness = new Completeness();

  constructor(opts: SummaryOptions = {}) {
    this.maxUsers = opts.maxUsers ?? DEFAULT_MAX_USERS;
    this.maxSummaries = opts.maxSummaries ?? DEFAULT_MAX_SUMMARIES;
    this.maxErrorsPerUser = opts.maxErrorsPerUser ?? DEFAULT_MAX_ERRORS_PER_USER;
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
    const time = canonicalTime(ts);
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

    const text = `${category}: ${key} - ${message === '' ? 'No details' : message}`;
    this.offerSummary(text);

    if (this.maxUsers === 0) return;
    let batch = this.batches.get(key);
    if (batch === undefined) {
      if (this.batchCeiling !== null && key >= this.batchCeiling) return;
      batch = { email: null, name: 'Unknown', center: null, count: 0, errors: [], sorted: true };
      this.admitBatch(key, batch);
    }
    const uc = event.user_context;
    // A user's key is their email when they have one, so any email seen for the key is the key.
    if (batch.email === null && isPlainObject(uc) && typeof uc.email === 'string' && uc.email !== '') batch.email = uc.email;
    batch.name = betterName(batch.name, nameOf(uc));
    batch.center = smallerCenter(batch.center, centerOf(uc));
    batch.count++;
    this.offerError(batch, {
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

  get exports(): JsonObject[] {
    return [...this.exportMap].sort((a, b) => cmp(a[0], b[0])).map((e) => e[1]);
  }

  private offerSummary(text: string): void {
    if (this.maxSummaries === 0) return;
    if (this.summaryCeiling !== null && text >= this.summaryCeiling) return;
    this.summaryList.push(text);
    if (this.summaryList.length >= 2 * this.maxSummaries + 64) this.compactSummaries();
  }

  private compactSummaries(): void {
    this.summaryList.sort(cmp);
    if (this.summaryList.length > this.maxSummaries) {
      this.summaryList.length = this.maxSummaries;
      // Equal texts may still enter (duplicates count), so the ceiling is exclusive of greater ones only.
      this.summaryCeiling = this.summaryList[this.maxSummaries - 1]! + '\u0000';
    }
  }

  private admitBatch(key: string, batch: BatchState): void {
    this.batches.set(key, batch);
    if (this.batches.size >= 2 * this.maxUsers + 64) {
      const keys = [...this.batches.keys()].sort(cmp);
      for (let i = this.maxUsers; i < keys.length; i++) this.batches.delete(keys[i]!);
      this.batchCeiling = keys[this.maxUsers - 1]! + '\u0000';
    }
  }

  private offerError(batch: BatchState, err: BatchError): void {
    if (this.maxErrorsPerUser === 0) return;
    batch.errors.push(err);
    batch.sorted = false;
    if (batch.errors.length >= 2 * this.maxErrorsPerUser + 4) compactErrors(batch, this.maxErrorsPerUser);
  }

  /**
   * Lowers the caps (a merge adopts the smallest caps among its partials). Safe at any time:
   * each list is "the first N in a fixed order", and the first N of a longer list stay first.
   */
  lowerLimits(l: SummaryLimits): void {
    this.maxUsers = Math.min(this.maxUsers, l.max_users);
    this.maxSummaries = Math.min(this.maxSummaries, l.max_summaries);
    this.maxErrorsPerUser = Math.min(this.maxErrorsPerUser, l.max_errors_per_user);
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
    for (const s of p.summaries) this.offerSummary(s);
    this.timeline.merge(p.errors_over_time);
    if (this.maxUsers > 0) {
      for (const b of p.user_batches) {
        const key = b.email ?? b.name;
        let batch = this.batches.get(key);
        if (batch === undefined) {
          if (this.batchCeiling !== null && key >= this.batchCeiling) continue;
          batch = { email: null, name: 'Unknown', center: null, count: 0, errors: [], sorted: true };
          this.admitBatch(key, batch);
        }
        batch.email ??= b.email;
        batch.name = betterName(batch.name, b.name);
        batch.center = smallerCenter(batch.center, b.center_id);
        batch.count += b.error_count;
        for (const e of b.errors) this.offerError(batch, e);
      }
    }
    this.input.records += p.input.records;
    this.input.bad_lines += p.input.bad_lines;
    this.input.filtered_out += p.input.filtered_out;
    this.input.passed_through += p.input.passed_through;
    for (const e of p.exports) this.addExport(e);
    this.completeness.merge(p.runs, p.incomplete_reasons);
  }

  get job(): string | null {
    if (this.jobOverride !== null) return this.jobOverride;
    if (this.jobs.size === 0) return null;
    return [...this.jobs].sort(cmp).join(',');
  }

  private generatedAt(): string {
    if (typeof this.now === 'function') return this.now();
    return this.now ?? new Date().toISOString();
  }

  private batchList(): UserBatch[] {
    const keys = [...this.batches.keys()].sort(cmp).slice(0, this.maxUsers);
    return keys.map((k) => {
      const b = this.batches.get(k)!;
      if (!b.sorted || b.errors.length > this.maxErrorsPerUser) compactErrors(b, this.maxErrorsPerUser);
      return {
        email: b.email,
        name: b.name,
        center_id: b.center,
        error_count: b.count,
        errors: b.errors.slice(),
        errors_omitted: b.count - b.errors.length,
      };
    });
  }

  private common(allUsers: boolean): Omit<Summary, 'kind'> {
    const users = [...this.users].sort(cmp);
    const shown = allUsers ? users : users.slice(0, this.maxUsers);
    this.compactSummaries();
    const batches = this.batchList();
    const errorsByCategory = countRecord(this.errorsByCategory);
    const fields: Record<string, number> = {};
    for (const [k, v] of Object.entries(errorsByCategory)) fields[toFieldName(k)] = (fields[toFieldName(k)] ?? 0) + v;
    // A partial carries the run counts and only the other reasons; a summary states them all.
    const reasons = allUsers ? this.completeness.fixedReasons() : this.completeness.incompleteReasons();
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
      summaries: this.summaryList.slice(),
      summaries_omitted: this.errors - this.summaryList.length,
      errors_over_time: this.timeline.toJSON(),
      input: { ...this.input },
      exports: this.exports,
      complete: reasons.length === 0,
      incomplete_reasons: reasons,
      limits: { max_users: this.maxUsers, max_summaries: this.maxSummaries, max_errors_per_user: this.maxErrorsPerUser },
    };
  }

  /** The summary record. */
  build(): Summary {
    return { kind: 'summary', ...this.common(false) };
  }

  /** The partial state record (--partial): complete user list, and every job seen. */
  partial(): SummaryPartial {
    const c = this.common(true);
    return { kind: 'summary_partial', ...c, complete: this.completeness.incompleteReasons().length === 0, jobs: [...this.jobs].sort(cmp), runs: {} };
  }
}

/** A known name beats "Unknown"; between two known names the smaller wins (order-free). */
function betterName(a: string, b: string): string {
  if (a === 'Unknown') return b;
  if (b === 'Unknown') return a;
  return b < a ? b : a;
}

function smallerCenter(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return b < a ? b : a;
}

function compactErrors(batch: BatchState, cap: number): void {
  batch.errors.sort(compareBatchErrors);
  if (batch.errors.length > cap) batch.errors.length = cap;
  batch.sorted = true;
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
