// The fixed orders and keys a summary is built on: the same on every machine and locale, so
// every piece of a split input picks the same "first N" (summary.ts says why that makes merges exact).
import { ExactNumber } from '../stream/exact-number.js';
import { isPlainObject, setOwn, UNKNOWN_CATEGORY, type JsonObject, type JsonValue } from '../event/event.js';
import type { BatchError, GroupBy } from './record.js';

/** Code-unit order: the same on every machine and locale, so merges pick the same items. */
export function cmp(a: string, b: string): number {
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

/** A stable text for any JSON value (keys sorted), to order and de-duplicate export records. */
export function stableStringify(v: JsonValue): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (v instanceof ExactNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableStringify(v[k]!)}`).join(',')}}`;
}

/** Keys by count (largest first), then name: the order a person reads a breakdown in. */
export function countRecord(map: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]))) setOwn(out, k, v);
  return out;
}
