// The report's text helpers, shared by the page (report-html.ts) and its charts (report-charts.ts):
// a summary read defensively (any summary-shaped record), every data string redacted as the CSV
// is, then escaped, and numbers and times written one way.
import { defaultAction, isPlainObject, num, obj, type JsonObject, type JsonValue } from '../event/event.js';
import { redactValue } from '../redact/redact.js';

/** An array field, or none. */
export function arr(v: JsonValue | undefined): JsonValue[] {
  return Array.isArray(v) ? v : [];
}

/** Category → count, largest first then by name (the order the summary writes). */
export function countsOf(v: JsonValue | undefined): Array<[string, number]> {
  return Object.entries(obj(v))
    .map(([k, n]) => [k, num(n)] as [string, number])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * The actions of a category with their counts. Two shapes are read: `{category: {action: count}}`
 * (the current summary) and the older `{category: action}`, whose count is not known (null).
 */
export function actionsOf(summary: JsonObject, category: string): Array<[string, number | null]> {
  const a = obj(summary.actions_by_category)[category];
  if (typeof a === 'string' && a !== '') return [[a, null]];
  if (isPlainObject(a)) return countsOf(a);
  const d = defaultAction(category);
  return d ? [[d, null]] : [];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes for text and attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A string from the data: secrets redacted (as in the CSV), then escaped. */
export function t(v: JsonValue | undefined | null): string {
  return escapeHtml(redactValue(v === null || v === undefined ? '' : String(v)));
}

/** Data text isolated from its surroundings, so a right-to-left name cannot reorder the line. */
export function bdi(v: JsonValue | undefined | null): string {
  return `<bdi>${t(v)}</bdi>`;
}

const NUMBER = new Intl.NumberFormat('en-US');
/** A count with thousands separators (en-US, so the page reads the same everywhere). */
export function fmt(n: number): string {
  return NUMBER.format(n);
}

/** "1 error", "1,234 errors". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmt(n)} ${n === 1 ? one : many}`;
}

/** "2026-11-21 10:15 UTC" (seconds when they are not zero). */
export function timeText(iso: string | null): string {
  if (iso === null) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return t(iso);
  const s = new Date(ms).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, s.slice(17, 19) === '00' ? 16 : 19)} UTC`;
}
