// Turns a partial event into a v1 event: defaults filled, categories checked, nothing dropped
// (unknown keys and an unknown category's original text move into `details`).
import { dataTime } from '../cli/time.js';
import {
  defaultAction,
  isKnownCategory,
  isPlainObject,
  setOwn,
  stableEventId,
  SUCCESS_CATEGORY,
  UNKNOWN_CATEGORY,
  type Event,
  type JsonObject,
  type JsonValue,
  type UserContext,
} from './event.js';
import { ExactNumber, stringifyExact } from '../stream/exact-number.js';

/** Where the record was read (file, line, job) and the clock, for the fields the record leaves out. */
export interface NormalizeContext {
  file: string | null;
  line: number | null;
  job?: string | null;
  /** Used when the record has no timestamp; fixed per run so output is reproducible. */
  now: string;
}

const EVENT_KEYS = new Set([
  'event_id', 'timestamp', 'event_type', 'category', 'message', 'action_needed', 'user_context', 'details', 'source',
  'email', 'name', 'center_id', 'registry_id', 'auth_email',
]);

/** "None", "null" and empty strings are absent values, written as null (never "None"). */
export function absent(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === 'None' || v === 'null';
}

/** A string field, or null when it is absent, empty or the Python None the original job wrote. */
export function optionalString(v: unknown): string | null {
  if (absent(v)) return null;
  // Trimmed before the absent test, as personName does: " None" is the Python None too.
  if (typeof v === 'string') return absent(v.trim()) ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof ExactNumber) return v.text;
  return null;
}

/** A person's name from a string or {first_name, last_name}; "Unknown" when there is none. */
export function personName(v: unknown): string {
  // Trimmed before the absent test: " None " is the Python None too, never a name.
  if (typeof v === 'string' && !absent(v.trim())) return v.trim();
  if (isPlainObject(v)) {
    // Part by part, without the arrays a filter/map/join makes: once per entry on process's hot path.
    const first = namePart(v.first_name);
    const last = namePart(v.last_name);
    if (first !== null) return last !== null ? first + ' ' + last : first;
    if (last !== null) return last;
  }
  return 'Unknown';
}

function namePart(p: unknown): string | null {
  if (typeof p !== 'string') return null;
  const t = p.trim();
  return absent(t) ? null : t;
}

/** center_id as an integer (also from "42"); null when absent; undefined when malformed. */
export function centerId(v: unknown): number | null | undefined {
  if (absent(v)) return null;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  // A big or 42.0-style integer keeps its text (ExactNumber) rather than a rounded double.
  if (v instanceof ExactNumber) return Number.isInteger(Number(v.text)) ? (v as unknown as number) : undefined;
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  return undefined;
}

/** User fields from `nested` (user_context) first, then the record's top level. */
export function userContext(src: JsonObject, details: JsonObject, nested?: JsonObject): UserContext {
  // Field by field instead of an object spread: this runs once per record on the hot path.
  const pick = (k: string): JsonValue | undefined => (nested !== undefined && nested[k] !== undefined ? nested[k] : src[k]);
  const rawCenter = pick('center_id') ?? pick('adcid');
  const cid = centerId(rawCenter);
  if (cid === undefined) details.invalid_center_id = rawCenter as JsonValue;
  return {
    email: optionalString(pick('email')),
    name: personName(pick('name')),
    center_id: cid ?? null,
    registry_id: optionalString(pick('registry_id')),
    auth_email: optionalString(pick('auth_email')),
  };
}

/** A record that cannot be an event (reported as a bad line with its message). */
export class InvalidEvent extends Error {}

/** A record claiming to be an event, made a complete v1 event: defaults filled, unknown fields kept in details. */
export function normalizeEvent(rec: JsonObject, ctx: NormalizeContext): Event {
  const details: JsonObject = isPlainObject(rec.details) ? { ...rec.details } : {};
  if (rec.details !== undefined && !isPlainObject(rec.details)) details.original_details = rec.details;
  for (const key of Object.keys(rec)) {
    if (EVENT_KEYS.has(key)) continue;
    // A field named __proto__ (an own field after JSON.parse) is data too, never the prototype.
    setOwn(details, key, rec[key]!);
  }

  let eventType = rec.event_type;
  if (eventType === undefined || eventType === null) eventType = rec.category === SUCCESS_CATEGORY ? 'success' : 'error';
  if (eventType !== 'error' && eventType !== 'success') {
    throw new InvalidEvent(`event_type must be "error" or "success", got ${stringifyExact(eventType)}`);
  }

  let category = typeof rec.category === 'string' ? rec.category.trim() : '';
  if (!isKnownCategory(category)) {
    details.original_category = (rec.category ?? null) as JsonValue;
    category = eventType === 'success' && category === '' ? SUCCESS_CATEGORY : UNKNOWN_CATEGORY;
  }

  let timestamp = ctx.now;
  if (!absent(rec.timestamp)) {
    // No offset means UTC; an impossible date (2026-11-31) is not rolled over to the next month.
    const t = dataTime(rec.timestamp);
    if (t === null) throw new InvalidEvent(`timestamp is not a date: ${stringifyExact(rec.timestamp)}`);
    timestamp = t;
  }

  const user = userContext(rec, details, isPlainObject(rec.user_context) ? rec.user_context : undefined);

  const message =
    typeof rec.message === 'string' ? rec.message : typeof details.message === 'string' ? (details.message as string) : '';
  const action = optionalString(rec.action_needed) ?? (eventType === 'error' ? defaultAction(category) : null);

  const src = isPlainObject(rec.source) ? rec.source : {};
  const source = {
    job: optionalString(src.job) ?? ctx.job ?? null,
    file: optionalString(src.file) ?? ctx.file,
    line: typeof src.line === 'number' ? src.line : ctx.line,
  };

  const eventId =
    optionalString(rec.event_id) ?? stableEventId(source.job, source.file, source.line, category, user.email, message);

  return {
    event_id: eventId,
    timestamp,
    event_type: eventType,
    category,
    message,
    action_needed: action,
    user_context: user,
    details,
    source,
  };
}
