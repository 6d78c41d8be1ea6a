// JSON values as records carry them. Format-neutral, so the stream layer and every domain share
// them; event/event.ts re-exports them beside the v1 event.
import { ExactNumber, exactNumbersSeen } from './exact-number.js';

/** Any JSON value (an ExactNumber stands in for a number whose text must stay exact). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** One JSON object: a record, an event, a nested field. */
export type JsonObject = { [key: string]: JsonValue };

/** A JSON object: not null, not an array, not an exact number. */
export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(exactNumbersSeen() && v instanceof ExactNumber);
}

/**
 * obj[key] = value, also for a key named `__proto__`: data from JSON (where JSON.parse makes it
 * an own field) stays a key and survives JSON.stringify, instead of setting the prototype.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
