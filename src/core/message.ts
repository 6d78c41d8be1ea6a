// notify's message, rendered from a summary by pure functions: the same input gives the same
// subject, text and headers, so tests and the library API need no transport to check content.
import { createHash, randomUUID } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { defaultAction, isPlainObject, type JsonObject, type JsonValue } from './event.js';
import { invalidOption } from './errors.js';
import { REDACTED, SECRET_KEY, couldBeSecret, redactValue } from './redact.js';

export const DEFAULT_SUBJECT = '[{job}] {error_count} errors need attention';
// The default agrees in number ("1 error needs attention"); a custom --subject is used as written.
const DEFAULT_SUBJECT_ONE = '[{job}] {error_count} error needs attention';
export const DEFAULT_MAX_SUMMARIES = 10;
export const SUBJECT_FIELDS = ['job', 'error_count', 'success_count', 'total_events', 'affected_user_count', 'group', 'date'] as const;

/** The fields of an `export` record (export-csv) that a message names. */
export interface ExportRef {
  path: string;
  file: string;
  rows: number | null;
}

export interface RenderOptions {
  subject?: string;
  /** Where the CSV file is (seed 000: the Flywheel location), free text or a URL. */
  location?: string | null;
  /** How to get the file. */
  instructions?: string | null;
  maxSummaries?: number;
  /** Exports seen beside the summary (not inside it); merged with the summary's own, by path. */
  exports?: ExportRef[];
  /** File names attached to the message, so the body can say so. */
  attached?: string[];
  /** Files asked for (--attach, --attach-exports) but not attached, with why: named in the body instead. */
  notAttached?: NotAttached[];
  /** Job name when the summary has none. */
  job?: string | null;
}

export interface NotAttached {
  /** The path as given (--attach) or as the export record has it. */
  path: string;
  reason: string;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  /** Extra headers (already header-safe). */
  headers: Record<string, string>;
  job: string;
  errorCount: number;
  exports: ExportRef[];
}

/** Keeps data from ever ending a header line: CR, LF and other controls become one space. */
export function headerSafe(value: string, max = 250): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

// Redaction is export-csv's (src/core/redact.ts), so a secret hidden from the CSV is hidden
// from the mail too.
export { REDACTED };

export function redactText(text: string): string {
  return redactValue(text);
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Deep copy with secret-looking keys and secrets inside strings redacted (the webhook's summary). */
export function redactDeep(value: JsonValue): JsonValue {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (isPlainObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) && couldBeSecret(v) ? REDACTED : redactDeep(v);
    return out;
  }
  return value;
}

/** Checks a subject template up front, so a typo is a usage error rather than a strange mail. */
export function checkSubjectTemplate(template: string): void {
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    if (!(SUBJECT_FIELDS as readonly string[]).includes(m[1]!)) {
      throw invalidOption('subject', `may use ${SUBJECT_FIELDS.map((f) => `{${f}}`).join(' ')}`, `{${m[1]}}`);
    }
  }
}

function num(v: JsonValue | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function str(v: JsonValue | undefined): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function obj(v: JsonValue | undefined): JsonObject {
  return isPlainObject(v) ? v : {};
}

/** The job name as it leaves notify (subject, body, X-Batch-Job, outbox file name, webhook, record): redacted and one line. */
export function jobOf(summary: JsonObject, fallback?: string | null): string {
  return headerSafe(redactText(fallback ?? str(summary.job) ?? 'batch job'), 80);
}

function groupText(summary: JsonObject): string {
  const g = obj(summary.group);
  return g.by !== undefined && g.value !== undefined ? `${String(g.by)}=${String(g.value)}` : '';
}

/** An `export` record (or a summary's exports entry) as the message needs it; null if it is not one. */
export function toExportRef(rec: JsonValue): ExportRef | null {
  if (!isPlainObject(rec)) return null;
  const path = str(rec.path) ?? str(rec.file);
  if (!path) return null;
  return { path, file: str(rec.file) ?? basename(path), rows: typeof rec.rows === 'number' ? rec.rows : null };
}

export function exportsOf(summary: JsonObject, extra: ExportRef[] = []): ExportRef[] {
  const seen = new Map<string, ExportRef>();
  const listed = Array.isArray(summary.exports) ? summary.exports : [];
  for (const e of [...listed.map(toExportRef), ...extra]) if (e && !seen.has(e.path)) seen.set(e.path, e);
  return [...seen.values()];
}

export function renderSubject(template: string, summary: JsonObject, job: string): string {
  const values: Record<string, string> = {
    job,
    error_count: String(num(summary.error_count)),
    success_count: String(num(summary.success_count)),
    total_events: String(num(summary.total_events)),
    affected_user_count: String(num(summary.affected_user_count)),
    group: groupText(summary),
    date: (str(summary.last_event_at) ?? str(summary.generated_at) ?? new Date().toISOString()).slice(0, 10),
  };
  const text = template === DEFAULT_SUBJECT && values.error_count === '1' ? DEFAULT_SUBJECT_ONE : template;
  return headerSafe(redactText(text.replace(/\{([a-z_]+)\}/g, (m, k: string) => values[k] ?? m)));
}

function durationText(ms: number): string {
  if (!(ms >= 0)) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line of body text: no CR/LF from data, secrets redacted. */
function line(text: string): string {
  return redactText(text).replace(/[\r\n\u2028\u2029]+/g, ' ');
}

/** Seed 000, 3.3: job, run time, error count, categories with actions, CSV file, location, instructions, users, first summaries. */
export function renderMessage(summary: JsonObject, opts: RenderOptions = {}): RenderedMessage {
  const job = jobOf(summary, opts.job);
  const errorCount = num(summary.error_count);
  const exports = exportsOf(summary, opts.exports);
  const subject = renderSubject(opts.subject ?? DEFAULT_SUBJECT, summary, job);
  const maxSummaries = opts.maxSummaries ?? DEFAULT_MAX_SUMMARIES;
  const out: string[] = [];

  out.push(`Job: ${line(job)}${groupText(summary) ? ` (${line(groupText(summary))})` : ''}`);
  const first = str(summary.first_event_at);
  const last = str(summary.last_event_at);
  if (first && last) {
    const d = durationText(Date.parse(last) - Date.parse(first));
    out.push(`Run: ${first} to ${last}${d ? ` (${d})` : ''}`);
  } else if (str(summary.generated_at)) {
    out.push(`Run: summarized at ${str(summary.generated_at)}`);
  }
  const total = num(summary.total_events);
  out.push(`Errors: ${errorCount}${total ? ` of ${plural(total, 'event')} (${num(summary.success_count)} succeeded)` : ''}`);
  out.push(`Affected users: ${num(summary.affected_user_count)}`);

  const byCategory = Object.entries(obj(summary.errors_by_category))
    .map(([k, v]) => [k, num(v)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (byCategory.length) {
    const actions = obj(summary.actions_by_category);
    out.push('', 'Errors by category (action needed):');
    for (const [category, n] of byCategory) {
      const action = str(actions[category]) ?? defaultAction(category);
      out.push(line(`  ${category}: ${n}${action ? ` - ${action}` : ''}`));
    }
  }

  out.push('');
  if (exports.length) {
    out.push(exports.length === 1 ? 'Error file (CSV):' : 'Error files (CSV):');
    for (const e of exports) out.push(line(`  ${e.file}${e.rows !== null ? ` (${plural(e.rows, 'row')})` : ''}`));
    const where = opts.location ?? [...new Set(exports.map((e) => dirname(e.path)))].join(', ');
    out.push(line(`Location: ${where}`));
  } else {
    out.push('Error file (CSV): none was exported in this run');
    if (opts.location) out.push(line(`Location: ${opts.location}`));
  }
  if (opts.instructions) out.push(line(`How to get it: ${opts.instructions}`));
  if (opts.attached?.length) out.push(line(`Attached: ${opts.attached.join(', ')}`));
  for (const n of opts.notAttached ?? []) out.push(line(`Not attached: ${n.path} (${n.reason})`));

  const summaries = (Array.isArray(summary.summaries) ? summary.summaries : []).filter((s): s is string => typeof s === 'string');
  const omitted = num(summary.summaries_omitted);
  const shown = summaries.slice(0, maxSummaries);
  if (shown.length) {
    const all = summaries.length + omitted;
    out.push('', shown.length < all ? `First ${shown.length} of ${all} errors:` : 'Errors:');
    for (const s of shown) out.push(line(`  ${s}`));
    if (shown.length < all) out.push(`  ... and ${all - shown.length} more (see the CSV file)`);
  }
  out.push('', '-- ', 'Sent by notify (batch-events). Reply to the support team, not to this address.');

  return {
    subject,
    text: out.join('\n') + '\n',
    headers: {
      // jobOf: already redacted, one line, at most 80 characters.
      'X-Batch-Job': job,
      'X-Batch-Error-Count': String(errorCount),
    },
    job,
    errorCount,
    exports,
  };
}

/** The set of errors a message is about: job, group, error categories, affected users (sorted). */
export function fingerprint(summary: JsonObject, job?: string | null): string {
  const categories = Object.entries(obj(summary.errors_by_category))
    .filter(([, n]) => num(n) > 0)
    .map(([k]) => k)
    .sort();
  const users = (Array.isArray(summary.affected_users) ? summary.affected_users : []).map(String).sort();
  const key = { job: job ?? str(summary.job), group: groupText(summary), categories, users, omitted: num(summary.affected_users_omitted) };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex');
}

/** A Message-ID in the sender's domain, so replies and logs can be matched to the record. */
export function newMessageId(from: string): string {
  const m = /@([^\s>@]+)>?\s*$/.exec(from);
  const domain = m?.[1]?.replace(/[^a-z0-9.-]/gi, '') || 'batch-events.invalid';
  return `<${randomUUID()}@${domain}>`;
}

/** Plain address check for --to/--from: one address, no spaces or control characters; `Name <addr>` allowed. */
export function isAddress(text: string): boolean {
  if (/[\r\n\u0000-\u001f]/.test(text)) return false;
  const m = /^\s*(?:[^<>@]*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(text);
  const addr = m?.[1] ?? m?.[2];
  return !!addr && /^[^@\s,;"]+@[^@\s,;"]+$/.test(addr);
}
