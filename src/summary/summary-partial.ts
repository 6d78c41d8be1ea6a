// Reading a partial state back (analyze --merge): a `summary_partial` record, or a plain
// `summary` whose user list is complete. Checked field by field so a bad line names its fault.
import { isPlainObject, type JsonObject, type JsonValue } from '../event/event.js';
import { readErrorsOverTime } from './timeline.js';
import { readRunCounts } from '../stream/run-record.js';
import { isExactNumber } from '../stream/exact-number.js';
import type { BatchError, SummaryGroup, SummaryLimits, SummaryPartial, UserBatch } from './record.js';

/** A partial state that does not read back: its message names the field and what it must be. */
export class InvalidPartial extends Error {}

function fail(field: string, must: string): never {
  throw new InvalidPartial(`${field} must be ${must}`);
}

function count(rec: JsonObject, field: string): number {
  const v = rec[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(field, 'a whole number of 0 or more');
  return v;
}

function optString(rec: JsonObject, field: string): string | null {
  const v = rec[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') fail(field, 'a string or null');
  return v;
}

function strings(rec: JsonObject, field: string): string[] {
  const v = rec[field];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(field, 'an array of strings');
  return v as string[];
}

function counts(rec: JsonObject, field: string): Record<string, number> {
  const v = rec[field];
  if (!isPlainObject(v)) fail(field, 'an object of counts');
  for (const n of Object.values(v)) if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) fail(field, 'an object of counts');
  return v as Record<string, number>;
}

function batchError(v: JsonValue): BatchError {
  if (!isPlainObject(v) || typeof v.category !== 'string') fail('user_batches[].errors[]', 'objects with a category');
  return {
    category: v.category,
    message: typeof v.message === 'string' ? v.message : '',
    action_needed: typeof v.action_needed === 'string' ? v.action_needed : null,
    event_id: typeof v.event_id === 'string' ? v.event_id : null,
    timestamp: typeof v.timestamp === 'string' ? v.timestamp : null,
  };
}

function batch(v: JsonValue): UserBatch {
  if (!isPlainObject(v)) fail('user_batches[]', 'objects');
  const errors = v.errors;
  if (!Array.isArray(errors)) fail('user_batches[].errors', 'an array');
  const list = errors.map(batchError);
  const n = typeof v.error_count === 'number' && Number.isInteger(v.error_count) ? v.error_count : list.length;
  return {
    email: typeof v.email === 'string' ? v.email : null,
    name: typeof v.name === 'string' && v.name !== '' ? v.name : 'Unknown',
    // A center written exactly (1.0, 9007199254740993) comes back as an ExactNumber: kept, as the batch had it.
    center_id: typeof v.center_id === 'number' || isExactNumber(v.center_id) ? (v.center_id as number) : null,
    error_count: n,
    errors: list,
    errors_omitted: n - list.length,
  };
}

function group(v: JsonValue | undefined): SummaryGroup | null {
  if (v === undefined || v === null) return null;
  if (!isPlainObject(v) || (v.by !== 'user' && v.by !== 'category' && v.by !== 'center')) fail('group', 'null or {by: user|category|center, value}');
  if (v.value !== null && typeof v.value !== 'string') fail('group.value', 'a string or null');
  return { by: v.by, value: v.value };
}

function limits(v: JsonValue | undefined): SummaryLimits | null {
  if (!isPlainObject(v)) return null;
  const { max_users: u, max_summaries: s, max_errors_per_user: e } = v;
  if (typeof u !== 'number' || typeof s !== 'number' || typeof e !== 'number') fail('limits', '{max_users, max_summaries, max_errors_per_user}');
  return { max_users: u, max_summaries: s, max_errors_per_user: e };
}

/** True for the records --merge consumes. */
export function isMergeable(rec: JsonObject): boolean {
  return rec.kind === 'summary_partial' || rec.kind === 'summary';
}

/**
 * A partial state from a record. A plain summary qualifies only when its user list was not
 * capped: the distinct-user count of a merge needs every user key.
 */
export function readPartial(rec: JsonObject): SummaryPartial & { limitsGiven: boolean } {
  if (rec.version !== 1) fail('version', '1');
  const plain = rec.kind === 'summary';
  if (plain && rec.affected_users_omitted !== 0 && rec.affected_users_omitted !== undefined) {
    throw new InvalidPartial('a summary with a capped affected_users list cannot be merged exactly; make the pieces with analyze --partial');
  }
  const job = optString(rec, 'job');
  // A plain summary names several jobs joined sorted with ',' (summary.ts): split them again, so
  // merging it with a partial of one of those jobs does not count that job twice.
  const jobs = plain || rec.jobs === undefined ? (job === null ? [] : job.split(',')) : strings(rec, 'jobs');
  const first = optString(rec, 'first_event_at');
  const last = optString(rec, 'last_event_at');
  const input = isPlainObject(rec.input) ? rec.input : {};
  const num = (v: JsonValue | undefined) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
  const exportsV = rec.exports ?? [];
  if (!Array.isArray(exportsV) || !exportsV.every(isPlainObject)) fail('exports', 'an array of objects');
  const batchesV = rec.user_batches ?? [];
  if (!Array.isArray(batchesV)) fail('user_batches', 'an array');
  const actionsV = rec.actions_by_category ?? {};
  if (!isPlainObject(actionsV)) fail('actions_by_category', 'an object');
  const actions: Record<string, Record<string, number>> = {};
  for (const [k, v] of Object.entries(actionsV)) {
    // A summary from before actions had counts (one action per category) cannot be merged exactly.
    if (!isPlainObject(v)) fail(`actions_by_category[${JSON.stringify(k)}]`, 'an object of counts (a summary made before actions carried counts cannot be merged; rerun analyze)');
    for (const n of Object.values(v)) if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) fail(`actions_by_category[${JSON.stringify(k)}]`, 'an object of counts');
    actions[k] = v as Record<string, number>;
  }
  const lim = limits(rec.limits);
  const p: SummaryPartial & { limitsGiven: boolean } = {
    kind: 'summary_partial',
    version: 1,
    job,
    group: group(rec.group),
    generated_at: typeof rec.generated_at === 'string' ? rec.generated_at : '',
    first_event_at: first,
    last_event_at: last,
    total_events: count(rec, 'total_events'),
    error_count: count(rec, 'error_count'),
    success_count: count(rec, 'success_count'),
    events_by_category: counts(rec, 'events_by_category'),
    errors_by_category: counts(rec, 'errors_by_category'),
    errors_by_category_field: {},
    actions_by_category: actions,
    affected_users: strings(rec, 'affected_users'),
    affected_user_count: 0,
    affected_users_omitted: 0,
    user_batches: batchesV.map(batch),
    user_batches_omitted: 0,
    summaries: strings(rec, 'summaries'),
    summaries_omitted: 0,
    // A piece made before the histogram existed: its errors are counted, as untimed.
    errors_over_time: readErrorsOverTime(rec.errors_over_time) ?? { bucket: '1m', counts: {}, untimed: count(rec, 'error_count') },
    input: {
      records: num(input.records),
      bad_lines: num(input.bad_lines),
      filtered_out: num(input.filtered_out),
      passed_through: num(input.passed_through),
    },
    exports: exportsV as JsonObject[],
    limits: lim ?? { max_users: 0, max_summaries: 0, max_errors_per_user: 0 },
    limitsGiven: lim !== null,
    jobs,
    complete: rec.complete !== false,
    incomplete_reasons: rec.incomplete_reasons === undefined ? [] : strings(rec, 'incomplete_reasons'),
    skipped_lines: rec.skipped_lines === undefined ? [] : strings(rec, 'skipped_lines'),
    runs: readRunCounts(rec.runs),
  };
  p.affected_user_count = p.affected_users.length;
  return p;
}
