// The v1 wire format: one event or one `kind` record per NDJSON line (README.md, "The event (wire format v1)").
import * as cryptoModule from 'node:crypto';
import { createHash } from 'node:crypto';

import { isPlainObject, type JsonObject, type JsonValue } from '../stream/json.js';

export { isPlainObject, setOwn, type JsonObject, type JsonValue } from '../stream/json.js';

/** An event is an error or a success. */
export type EventType = 'error' | 'success';

/** Who an event is about; the user fields of the CSV (docs/csv.md). */
export interface UserContext {
  email: string | null;
  name: string;
  center_id: number | null;
  registry_id: string | null;
  auth_email: string | null;
}

/** Where an event came from: the job, the input file and line. */
export interface EventSource {
  job: string | null;
  file: string | null;
  line: number | null;
}

/** The v1 event (schema/event.v1.json): one categorized outcome of a batch job. */
export interface Event {
  event_id: string;
  timestamp: string;
  event_type: EventType;
  category: string;
  message: string;
  action_needed: string | null;
  user_context: UserContext;
  details: JsonObject;
  source: EventSource;
}

/** The original job's EventCategory display values, with the action each one needs by default. */
export const SUCCESS_CATEGORY = 'User Successfully Created';
/** The category of an error no rule recognised. */
export const UNKNOWN_CATEGORY = 'Unknown Error';

/** The eleven error categories, each with the action support takes by default. */
export const ERROR_CATEGORIES = {
  'Unclaimed Records': 'check_registry_record_status',
  'Authentication Email Mismatch': 'update_directory_auth_email_or_claim_with_matching_email',
  'Unverified Email': 'check_email_verification_in_comanage',
  'Incomplete Claim': 'verify_identity_provider_configuration_and_reclaim',
  'Bad ORCID Claims': 'delete_bad_record_and_reclaim_with_institutional_idp',
  'Missing Directory Permissions': 'update_directory_auth_email',
  'Missing Directory Data': 'complete_directory_entry',
  'Missing Registry Data': 'verify_registry_record_exists_or_was_deleted',
  'Insufficient Permissions': 'contact_center_administrator_for_permissions',
  'Duplicate/Wrong User Records': 'deactivate_duplicate_and_clear_cache',
  'Flywheel Error': 'check_flywheel_logs_and_service_status',
} as const satisfies Record<string, string>;

/** One of the eleven error category names. */
export type ErrorCategory = keyof typeof ERROR_CATEGORIES;

/** Every category a built-in event may carry: the 11 errors, the success, and the fallback. */
export const CATEGORIES: readonly string[] = [
  SUCCESS_CATEGORY,
  ...Object.keys(ERROR_CATEGORIES),
  UNKNOWN_CATEGORY,
];

const KNOWN = new Set(CATEGORIES);

/** Whether a category is one of the built-in ones (errors, success, the fallback). */
export function isKnownCategory(name: string): boolean {
  return KNOWN.has(name);
}

/** The original job's EventCategory.to_field_name: "Duplicate/Wrong User Records" → "duplicate_wrong_user_records". */
export function toFieldName(category: string): string {
  return category.toLowerCase().replaceAll(' ', '_').replaceAll('/', '_');
}

/** The default action of an error category; null for the success and unknown categories. */
export function defaultAction(category: string): string | null {
  return (ERROR_CATEGORIES as Record<string, string>)[category] ?? null;
}

/** Deterministic id (a UUID-shaped SHA-256 digest) so re-runs produce the same ids and --dedupe resumes. */
export function stableEventId(...parts: Array<string | number | null | undefined>): string {
  let key = '';
  for (let i = 0; i < parts.length; i++) key += (i ? '\u0000' : '') + (parts[i] == null ? '' : String(parts[i]));
  return eventIdOfKey(key);
}

/** One part of an id's key as stableEventId writes it (null and undefined: empty). */
export function idKeyPart(part: string | number | null | undefined): string {
  return part == null ? '' : String(part);
}

// The variant nibble (8, 9, a or b) for each hex digit of the digest.
const VARIANT = '89ab89ab89ab89ab';

/**
 * stableEventId of parts already joined by NUL (idKeyPart each): the rule engine keeps the parts
 * that repeat for a file joined once instead of joining five parts per event.
 */
export function eventIdOfKey(key: string): string {
  const h = oneShotSha256(key);
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-5' + h.slice(13, 16) + '-' + VARIANT[parseInt(h[16]!, 16)]! + h.slice(17, 20) + '-' + h.slice(20, 32);
}

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per event.
const oneShotSha256: (data: string) => string =
  typeof (cryptoModule as { hash?: unknown }).hash === 'function'
    ? (data) => (cryptoModule as unknown as { hash(a: string, d: string, e: string): string }).hash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data).digest('hex');

/** A record is an event when it has no `kind` (or kind "event") and carries an event_type. */
export function isEvent(rec: JsonObject): boolean {
  return (rec.kind === undefined || rec.kind === 'event') && (rec.event_type === 'error' || rec.event_type === 'success');
}

/**
 * The identity of a failure (docs/analyze.md): job, user (email, else name; case-insensitive),
 * category and action. The directory check and the job's log can report the same failure;
 * analyze and export-csv count and write it once. Null for a success.
 */
export function failureKey(event: JsonObject): string | null {
  if (event.event_type !== 'error') return null;
  const uc = event.user_context;
  let user = '';
  if (isPlainObject(uc)) {
    if (typeof uc.email === 'string' && uc.email !== '') user = uc.email;
    else if (typeof uc.name === 'string' && uc.name !== '' && uc.name !== 'Unknown') user = uc.name;
  }
  // An error naming nobody (an unknown log line) is its own failure: nothing says two are the same.
  if (user === '') return null;
  const src = event.source;
  const job = isPlainObject(src) && typeof src.job === 'string' ? src.job : '';
  const category = typeof event.category === 'string' ? event.category : '';
  const action = typeof event.action_needed === 'string' ? event.action_needed : '';
  return JSON.stringify([job, user.trim().toLowerCase(), category, action]);
}

/** Reading a record written by another tool (or another version) defensively: a number, else 0. */
export function num(v: JsonValue | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** A non-empty string, else null. */
export function str(v: JsonValue | undefined): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** A plain object, else an empty one. */
export function obj(v: JsonValue | undefined): JsonObject {
  return isPlainObject(v) ? v : {};
}
