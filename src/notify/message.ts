// notify's message, rendered from a summary by pure functions: the same input gives the same
// subject, text and headers, so tests and the library API need no transport to check content.
// Length: over 350 lines, not split yet: the error message, the success digest and the header
// and redaction helpers are three files to be (left whole for now).
import { createHash, randomUUID } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { defaultAction, isPlainObject, num, obj, str, type JsonObject, type JsonValue } from '../event/event.js';
import { invalidOption } from '../cli/errors.js';
import { durationText } from '../cli/duration.js';
import { NO_ACTION } from '../summary/summary.js';
import { REDACTED, SECRET_KEY, couldBeSecret, redactValue } from '../redact/redact.js';

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
  /** Rows by event type (export-csv counts them), so the message never calls successes errors. */
  rowsByType: Record<string, number> | null;
  /** Set when export-csv could not write the file: the reason. */
  failed: string | null;
}

export interface RenderOptions {
  subject?: string;
  /** Where the CSV file is (docs/notify.md: the Flywheel location), free text or a URL. */
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
  /** Reasons the input is incomplete beyond the summary's own (notify's check of its input). */
  incompleteReasons?: string[];
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

// Redaction is export-csv's (src/redact/redact.ts), so a secret hidden from the CSV is hidden
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
  const byType = isPlainObject(rec.rows_by_type) ? (rec.rows_by_type as Record<string, number>) : null;
  const failed = rec.status === 'failed' ? (str(rec.error) ?? 'unknown error') : null;
  return { path, file: str(rec.file) ?? basename(path), rows: typeof rec.rows === 'number' ? rec.rows : null, rowsByType: byType, failed };
}

/** Every reason the run is incomplete: the summary's, then notify's own, each once. */
export function incompleteReasonsOf(summary: JsonObject, extra: string[] = []): string[] {
  const listed = Array.isArray(summary.incomplete_reasons) ? summary.incomplete_reasons.filter((s): s is string => typeof s === 'string') : [];
  const out = [...new Set([...listed, ...extra])];
  if (summary.complete === false && out.length === 0) out.push('The summary says its input was incomplete (no reason given)');
  return out;
}

/** "15 rows: 15 errors" / "17 rows: 15 errors, 2 successes": what the file holds, by type. */
function rowsText(e: ExportRef): string {
  if (e.rows === null) return '';
  const parts: string[] = [];
  const t = e.rowsByType ?? {};
  if (num(t.error)) parts.push(plural(num(t.error), 'error'));
  if (num(t.success)) parts.push(plural(num(t.success), 'success', 'successes'));
  if (num(t.other)) parts.push(plural(num(t.other), 'other record'));
  const only = parts.length === 1 && num(t.error) === e.rows;
  return ` (${plural(e.rows, 'row')}${parts.length && !only ? `: ${parts.join(', ')}` : only ? ', all errors' : ''})`;
}

/** The line a message gives for where the file is when --instructions is not given. */
export function defaultInstructions(location: string): string {
  return `open or copy the file at ${location}; if you cannot reach it, ask the job's owner for access`;
}

export function exportsOf(summary: JsonObject, extra: ExportRef[] = []): ExportRef[] {
  const seen = new Map<string, ExportRef>();
  const listed = Array.isArray(summary.exports) ? summary.exports : [];
  for (const e of [...listed.map(toExportRef), ...extra]) if (e && !seen.has(e.path)) seen.set(e.path, e);
  return [...seen.values()];
}

export function renderSubject(template: string, summary: JsonObject, job: string, extraReasons: string[] = []): string {
  const values: Record<string, string> = {
    job,
    error_count: String(num(summary.error_count)),
    success_count: String(num(summary.success_count)),
    total_events: String(num(summary.total_events)),
    affected_user_count: String(num(summary.affected_user_count)),
    group: groupText(summary),
    date: (str(summary.last_event_at) ?? str(summary.generated_at) ?? new Date().toISOString()).slice(0, 10),
  };
  let text = template === DEFAULT_SUBJECT && values.error_count === '1' ? DEFAULT_SUBJECT_ONE : template;
  if (template === DEFAULT_SUBJECT && incompleteReasonsOf(summary, extraReasons).length) text = `${text} (INCOMPLETE RUN)`;
  return headerSafe(redactText(text.replace(/\{([a-z_]+)\}/g, (m, k: string) => values[k] ?? m)));
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line of body text: no CR/LF from data, secrets redacted. */
function line(text: string): string {
  return redactText(text).replace(/[\r\n\u2028\u2029]+/g, ' ');
}

/** docs/notify.md, the message: job, run time, error count, categories with actions, CSV file, location, instructions, users, first summaries. */
export function renderMessage(summary: JsonObject, opts: RenderOptions = {}): RenderedMessage {
  const job = jobOf(summary, opts.job);
  const errorCount = num(summary.error_count);
  const exports = exportsOf(summary, opts.exports);
  const subject = renderSubject(opts.subject ?? DEFAULT_SUBJECT, summary, job, opts.incompleteReasons);
  const maxSummaries = opts.maxSummaries ?? DEFAULT_MAX_SUMMARIES;
  const out: string[] = [];
  const reasons = incompleteReasonsOf(summary, opts.incompleteReasons);
  if (reasons.length) {
    // First lines: whoever reads only the top must not take a partial count for the whole run.
    out.push('WARNING: this run did not complete; what follows may be missing errors or files:');
    for (const r of reasons) out.push(line(`- ${r}`));
    out.push('');
  }

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
  // Errors that name nobody (an unknown log line) are keyed "Unknown": not a person to contact.
  const nobody = Array.isArray(summary.affected_users) && summary.affected_users.includes('Unknown');
  const users = num(summary.affected_user_count) - (nobody ? 1 : 0);
  out.push(`Affected users: ${users}${nobody ? ' (and errors that name no user)' : ''}`);

  const byCategory = Object.entries(obj(summary.errors_by_category))
    .map(([k, v]) => [k, num(v)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (byCategory.length) {
    const actions = obj(summary.actions_by_category);
    out.push('', 'Errors by category, with each action needed and how many errors need it:');
    for (const [category, n] of byCategory) {
      const listed = actions[category];
      // Every action of the category with its count; an old summary (one action as text) or none: the category's default.
      const counts = isPlainObject(listed) ? Object.entries(listed).map(([a, k]) => [a, num(k)] as const).filter(([, k]) => k > 0) : [];
      if (counts.length) {
        out.push(line(`  ${category}: ${n}`));
        // Events that name no action get the category's usual one (docs/rules.md), else are said to name none.
        for (const [a, k] of counts) out.push(line(`    ${a === NO_ACTION ? (defaultAction(category) ?? 'no action named (see the message)') : a}: ${k}`));
        continue;
      }
      const action = str(listed) ?? defaultAction(category);
      out.push(line(`  ${category}: ${n}${action ? ` - ${action}` : ''}`));
    }
  }

  out.push('');
  const written = exports.filter((e) => !e.failed);
  if (exports.length) {
    out.push(exports.length === 1 ? 'Error file (CSV):' : 'Error files (CSV):');
    for (const e of exports) out.push(line(!e.failed ? `  ${e.file}${rowsText(e)}` : `  ${e.file}: NOT WRITTEN (${e.failed})`));
  } else {
    out.push('Error file (CSV): none was exported in this run');
  }
  const where = opts.location ?? (written.length ? [...new Set(written.map((e) => dirname(e.path)))].join(', ') : null);
  if (where && (written.length || opts.location)) out.push(line(`Location: ${where}`));
  const how = opts.instructions ?? (opts.location ? defaultInstructions(opts.location) : null);
  if (how) out.push(line(`How to get it: ${how}`));
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

/** The success outcomes a success notification is about: a user created (or ready to be) in Flywheel. */
export const CREATED_OUTCOMES = ['created', 'claimed'] as const;

/** One created user, as the success notification shows it (docs/rules.md). */
export interface CreatedUser {
  email: string | null;
  name: string;
  center_id: JsonValue;
  registry_id: string | null;
  auth_email: string | null;
  timestamp: string | null;
  authorizations: Array<{ study_id: string; activities: string[] }>;
}

function authorizationsOf(v: JsonValue | undefined): CreatedUser['authorizations'] {
  if (!Array.isArray(v)) return [];
  const out: CreatedUser['authorizations'] = [];
  for (const a of v) {
    if (isPlainObject(a) && typeof a.study_id === 'string') {
      out.push({ study_id: a.study_id, activities: Array.isArray(a.activities) ? a.activities.filter((x): x is string => typeof x === 'string') : [] });
    }
  }
  return out;
}

/**
 * Collects the created users of a run from its success events: outcome `created` (the job's log)
 * or `claimed` (an entry ready to be created). One user reported by both (the entry and the log
 * line) is one user: the fields one lacks come from the other, the log's time (the creation) wins.
 */
export class CreatedUsers {
  private readonly users = new Map<string, CreatedUser>();

  add(event: JsonObject): boolean {
    if (event.event_type !== 'success') return false;
    const details = obj(event.details);
    const outcome = str(details.outcome);
    if (!outcome || !(CREATED_OUTCOMES as readonly string[]).includes(outcome)) return false;
    const uc = obj(event.user_context);
    const email = str(uc.email);
    const name = str(uc.name) ?? 'Unknown';
    const key = (email ?? name).trim().toLowerCase();
    const next: CreatedUser = {
      email,
      name,
      center_id: uc.center_id ?? null,
      registry_id: str(uc.registry_id),
      auth_email: str(uc.auth_email),
      timestamp: str(event.timestamp),
      authorizations: authorizationsOf(details.authorizations),
    };
    const known = this.users.get(key);
    if (!known) {
      this.users.set(key, next);
      return true;
    }
    if (known.name === 'Unknown') known.name = next.name;
    known.email ??= next.email;
    known.center_id ??= next.center_id;
    known.registry_id ??= next.registry_id;
    known.auth_email ??= next.auth_email;
    if (known.authorizations.length === 0) known.authorizations = next.authorizations;
    if (outcome === 'created' && next.timestamp) known.timestamp = next.timestamp;
    return true;
  }

  get size(): number {
    return this.users.size;
  }

  list(): CreatedUser[] {
    return [...this.users.values()].sort((a, b) => ((a.email ?? a.name) < (b.email ?? b.name) ? -1 : 1));
  }
}

export const DEFAULT_SUCCESS_SUBJECT = '[{job}] {success_count} users created';

/** the one standard template of a success notification (a digest of the run's created users). */
export function renderSuccessMessage(users: CreatedUser[], job: string, opts: { subject?: string } = {}): RenderedMessage {
  const n = users.length;
  const template = opts.subject ?? DEFAULT_SUCCESS_SUBJECT;
  const text0 = template === DEFAULT_SUCCESS_SUBJECT && n === 1 ? '[{job}] 1 user created' : template;
  const subject = headerSafe(redactText(text0.replace(/\{job\}/g, job).replace(/\{success_count\}/g, String(n))));
  const out: string[] = [`Job: ${line(job)}`, `Users created: ${n}`, ''];
  for (const u of users) {
    out.push(line(`${u.name}${u.email ? ` <${u.email}>` : ''}`));
    out.push(line(`  Email: ${u.email ?? 'none'}`));
    if (u.auth_email && u.auth_email !== u.email) out.push(line(`  Login email: ${u.auth_email}`));
    out.push(line(`  Registry ID: ${u.registry_id ?? 'none'}`));
    out.push(line(`  Center: ${u.center_id === null ? 'none' : String(u.center_id)}`));
    out.push(line(`  Time: ${u.timestamp ?? 'unknown'}`));
    if (u.authorizations.length) {
      out.push('  Authorizations:');
      for (const a of u.authorizations) out.push(line(`    ${a.study_id}: ${a.activities.length ? a.activities.join(', ') : 'no activities listed'}`));
    } else {
      out.push('  Authorizations: none listed');
    }
    out.push('');
  }
  out.push('-- ', 'Sent by notify --successes (batch-events).');
  return {
    subject,
    text: out.join('\n') + '\n',
    headers: { 'X-Batch-Job': job, 'X-Batch-Success-Count': String(n) },
    job,
    errorCount: 0,
    exports: [],
  };
}
