// notify's error message, rendered from a summary by pure functions: the same input gives the
// same subject, text and headers, so tests and the library API need no transport to check
// content. The success digest is success.ts; header and redaction helpers are safe-text.ts.
import { createHash } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { defaultAction, isPlainObject, num, obj, str, type JsonObject, type JsonValue } from '../event/event.js';
import { invalidOption } from '../cli/errors.js';
import { durationText } from '../cli/duration.js';
import { NO_ACTION } from '../summary/summary.js';
import { redactValue } from '../redact/redact.js';
import { bodyLine, headerSafe, jobOf } from './safe-text.js';

/** --subject's default. */
export const DEFAULT_SUBJECT = '[{job}] {error_count} errors need attention';
// The default agrees in number ("1 error needs attention"); a custom --subject is used as written.
const DEFAULT_SUBJECT_ONE = '[{job}] {error_count} error needs attention';
/** --max-summaries' default: the one-line error summaries a message lists. */
export const DEFAULT_MAX_SUMMARIES = 10;
const SUBJECT_FIELDS = ['job', 'error_count', 'success_count', 'total_events', 'affected_user_count', 'group', 'date'] as const;

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

/** What a message says beyond its summary (the flags of notify, the files attached or not). */
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
  /** notify's own input's runs that skipped malformed lines, beside the summary's skipped_lines. */
  skippedLines?: string[];
}

/** A file asked for and not attached: named in the body with the reason. */
export interface NotAttached {
  /** The path as given (--attach) or as the export record has it. */
  path: string;
  reason: string;
}

/** A rendered message: what a transport sends, and the job and count the record reports. */
export interface RenderedMessage {
  subject: string;
  text: string;
  /** Extra headers (already header-safe). */
  headers: Record<string, string>;
  job: string;
  errorCount: number;
  exports: ExportRef[];
}

/** Checks a subject template up front, so a typo is a usage error rather than a strange mail. */
export function checkSubjectTemplate(template: string): void {
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    if (!(SUBJECT_FIELDS as readonly string[]).includes(m[1]!)) {
      throw invalidOption('subject', `may use ${SUBJECT_FIELDS.map((f) => `{${f}}`).join(' ')}`, `{${m[1]}}`);
    }
  }
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
  const out = sentences(summary.incomplete_reasons, extra);
  if (summary.complete === false && out.length === 0) out.push('The summary says its input was incomplete (no reason given)');
  return out;
}

/** The runs that skipped malformed input lines: the summary's, then notify's own, each once. */
export function skippedLinesOf(summary: JsonObject, extra: string[] = []): string[] {
  return sentences(summary.skipped_lines, extra);
}

/** A summary's list of sentences (its strings only), then notify's own, each once. */
function sentences(listed: JsonValue | undefined, extra: string[]): string[] {
  const own = Array.isArray(listed) ? listed.filter((s): s is string => typeof s === 'string') : [];
  return [...new Set([...own, ...extra])];
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
function defaultInstructions(location: string): string {
  return `open or copy the file at ${location}; if you cannot reach it, ask the job's owner for access`;
}

/** The exports a message names: the summary's own, then those seen beside it, each path once. */
export function exportsOf(summary: JsonObject, extra: ExportRef[] = []): ExportRef[] {
  const seen = new Map<string, ExportRef>();
  const listed = Array.isArray(summary.exports) ? summary.exports : [];
  for (const e of [...listed.map(toExportRef), ...extra]) if (e && !seen.has(e.path)) seen.set(e.path, e);
  return [...seen.values()];
}

/** The subject from its template: the fields filled in, redacted, one header line. */
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
  return headerSafe(redactValue(text.replace(/\{([a-z_]+)\}/g, (m, k: string) => values[k] ?? m)));
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
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
    for (const r of reasons) out.push(bodyLine(`- ${r}`));
    out.push('');
  }
  const skipped = skippedLinesOf(summary, opts.skippedLines);
  if (skipped.length) {
    // A run may finish with lines it could not read (--max-bad): what they held is in no count below.
    out.push('NOTE: input lines that could not be read were skipped; what they held is not counted below:');
    for (const s of skipped) out.push(bodyLine(`- ${s}`));
    out.push('');
  }

  out.push(`Job: ${bodyLine(job)}${groupText(summary) ? ` (${bodyLine(groupText(summary))})` : ''}`);
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
        out.push(bodyLine(`  ${category}: ${n}`));
        // Events that name no action get the category's usual one (docs/rules.md), else are said to name none.
        for (const [a, k] of counts) out.push(bodyLine(`    ${a === NO_ACTION ? (defaultAction(category) ?? 'no action named (see the message)') : a}: ${k}`));
        continue;
      }
      const action = str(listed) ?? defaultAction(category);
      out.push(bodyLine(`  ${category}: ${n}${action ? ` - ${action}` : ''}`));
    }
  }

  out.push('');
  const written = exports.filter((e) => !e.failed);
  if (exports.length) {
    out.push(exports.length === 1 ? 'Error file (CSV):' : 'Error files (CSV):');
    for (const e of exports) out.push(bodyLine(!e.failed ? `  ${e.file}${rowsText(e)}` : `  ${e.file}: NOT WRITTEN (${e.failed})`));
  } else {
    out.push('Error file (CSV): none was exported in this run');
  }
  const where = opts.location ?? (written.length ? [...new Set(written.map((e) => dirname(e.path)))].join(', ') : null);
  if (where && (written.length || opts.location)) out.push(bodyLine(`Location: ${where}`));
  const how = opts.instructions ?? (opts.location ? defaultInstructions(opts.location) : null);
  if (how) out.push(bodyLine(`How to get it: ${how}`));
  if (opts.attached?.length) out.push(bodyLine(`Attached: ${opts.attached.join(', ')}`));
  for (const n of opts.notAttached ?? []) out.push(bodyLine(`Not attached: ${n.path} (${n.reason})`));

  const summaries = (Array.isArray(summary.summaries) ? summary.summaries : []).filter((s): s is string => typeof s === 'string');
  const omitted = num(summary.summaries_omitted);
  const shown = summaries.slice(0, maxSummaries);
  if (shown.length) {
    const all = summaries.length + omitted;
    out.push('', shown.length < all ? `First ${shown.length} of ${all} errors:` : 'Errors:');
    for (const s of shown) out.push(bodyLine(`  ${s}`));
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
