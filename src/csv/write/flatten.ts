// Records → CSV cells: nested objects flattened with '.', arrays and objects in a cell as
// compact JSON, nulls empty, booleans true/false, dates ISO. docs/csv.md names the event columns.
import type { JsonObject, JsonValue } from '../../event/event.js';
import { isExactNumber, stringifyExact } from '../../stream/exact-number.js';

/** The event columns, in the order of docs/csv.md. */
export const EVENT_COLUMNS = [
  'email', 'name', 'center_id', 'registry_id', 'auth_email',
  'category', 'message', 'action_needed', 'timestamp', 'event_id',
] as const;

/** Event columns that live under user_context (docs/csv.md flattens them to the top). */
export const USER_FIELDS: ReadonlySet<string> = new Set(['email', 'name', 'center_id', 'registry_id', 'auth_email']);

/** A JSON.stringify replacer applied inside JSON cells (redaction). */
export type Replacer = (key: string, value: unknown) => unknown;

/** The text of one cell; `replacer` (redaction) applies inside JSON cells. */
export function cellText(v: unknown, replacer?: Replacer): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (isExactNumber(v)) return v.text;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  return stringifyExact(v, replacer as (this: unknown, key: string, value: unknown) => unknown) ?? '';
}

function isLeaf(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date || isExactNumber(v)) return true;
  for (const _ in v as object) return false;
  // An empty object keeps its column, written as {}.
  return true;
}

/** Calls visit(path, value) for every leaf in first-seen key order. */
export function forEachLeaf(rec: JsonObject, visit: (path: string, value: unknown) => void, prefix = ''): void {
  for (const key in rec) {
    const v = rec[key];
    const path = prefix === '' ? key : prefix + '.' + key;
    if (isLeaf(v)) visit(path, v);
    else forEachLeaf(v as JsonObject, visit, path);
  }
}

/** The flattened record: dotted paths to leaf values (arrays and empty objects are leaves). */
export function flattenRecord(rec: JsonObject): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  forEachLeaf(rec, (path, value) => {
    out[path] = value as JsonValue;
  });
  return out;
}

/** Reads one column's value from a record (compiled once per column). */
export type Accessor = (rec: JsonObject) => unknown;

function child(o: unknown, key: string): unknown {
  return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as JsonObject)[key] : undefined;
}

/**
 * Where columnAccessor looks, as key paths: the top-level key of the column's own name first,
 * then the nested path it falls back to (user_context for the event's user fields), if any.
 */
export function columnPaths(name: string): { own: string[]; nested: string[] | null } {
  const parts = name.split('.');
  if (USER_FIELDS.has(name)) return { own: [name], nested: ['user_context', name] };
  return { own: [name], nested: parts.length > 1 ? parts : null };
}

/**
 * A compiled reader for one column: a top-level key of that exact name wins; the event's user
 * fields fall back to user_context; a dotted name walks nested objects.
 */
export function columnAccessor(name: string): Accessor {
  const parts = name.split('.');
  if (USER_FIELDS.has(name)) {
    return (r) => {
      const v = r[name];
      return v !== undefined ? v : child(r.user_context, name);
    };
  }
  if (parts.length === 1) return (r) => r[name];
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    return (r) => {
      const v = r[name];
      return v !== undefined ? v : child(r[a], b);
    };
  }
  return (r) => {
    const v = r[name];
    if (v !== undefined) return v;
    let cur: unknown = r;
    for (const p of parts) cur = child(cur, p);
    return cur;
  };
}
