// One message composed from one summary (or, with --successes, the run's created users): the
// files it carries or names, its text, and the record that will report it. Nothing is sent here.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { JsonObject } from '../event/event.js';
import { loadAttachment, type Unattached } from './attachments.js';
import {
  DEFAULT_MAX_SUMMARIES,
  DEFAULT_SUBJECT,
  exportsOf,
  fingerprint,
  incompleteReasonsOf,
  renderMessage,
  type ExportRef,
  type RenderedMessage,
} from './message.js';
import { quietLog, type NotificationRecord, type NotifyOptions } from './options.js';
import { jobOf } from './safe-text.js';
import { renderSuccessMessage } from './success.js';
import type { OutgoingAttachment } from './transports/types.js';

/** A message ready for delivery, and the record that reports it (status `skipped` until delivered). */
export interface ComposedMessage {
  message: RenderedMessage;
  attachments: OutgoingAttachment[];
  record: NotificationRecord;
  /** False when there is nothing to say: no errors (or no users created) and no --always. */
  newsworthy: boolean;
  /** --successes: how many users the digest names (null for the error message). */
  createdCount: number | null;
  /** --attach/--attach-exports paths that were missing or unreadable (a size limit is not counted). */
  missingAttachments: number;
}

/** The report attachment's name: the job (already one redacted line) made file-safe. */
function reportFileName(job: string): string {
  const safe = job.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80);
  return `${safe || 'batch-job'}-report.html`;
}

/**
 * Composes the message of one summary: loads the files asked for, renders the text once (naming
 * every file not attached, with why), and fills the record. `ownReasons` are notify's own
 * reasons the input is incomplete, beside the summary's; `ownSkipped` the runs in its input that
 * skipped malformed lines (run-record.ts), beside the summary's skipped_lines.
 */
export async function composeMessage(summary: JsonObject, looseExports: ExportRef[], ownReasons: string[], opts: NotifyOptions, ownSkipped: string[] = []): Promise<ComposedMessage> {
  const log = opts.log ?? quietLog;
  const transport = opts.transport;
  const job = jobOf(summary, opts.job);
  // --successes: the run's created users, in the success template (summary is then a stand-in with the job).
  const created = opts.successes ? (opts.createdUsers ?? []) : null;
  const fp = created ? createHash('sha256').update(JSON.stringify({ job, successes: created.map((u) => u.email ?? u.name) })).digest('hex') : fingerprint(summary, job);
  const errorCount = typeof summary.error_count === 'number' ? summary.error_count : 0;

  const attachments: OutgoingAttachment[] = [];
  const notAttached: Unattached[] = [];
  // --attach-exports: the files the message will name (the summary's exports and those beside it).
  const exported = opts.attachExports ? exportsOf(summary, looseExports).map((e) => e.path) : [];
  const wanted = [...(opts.attach ?? []), ...exported];
  const seen = new Set<string>();
  const reasons = created ? [] : incompleteReasonsOf(summary, ownReasons);
  // An incomplete run is news even with no errors counted: the errors may be in what is missing.
  const newsworthy = created ? created.length > 0 || opts.always === true : errorCount > 0 || reasons.length > 0 || opts.always === true;
  for (const p of newsworthy ? wanted : []) {
    if (seen.has(resolve(p))) continue;
    seen.add(resolve(p));
    const a = await loadAttachment(p);
    if ('missing' in a) notAttached.push(a);
    else if (transport.carriesAttachments === false) notAttached.push({ path: p, reason: `a ${transport.name} message carries no files`, missing: false });
    else attachments.push(a);
  }
  const reportName = newsworthy && opts.attachReport ? reportFileName(job) : null;
  if (reportName !== null && transport.carriesAttachments === false) notAttached.push({ path: reportName, reason: `a ${transport.name} message carries no files`, missing: false });
  // Every file asked for and not attached is named in the body with its reason, and warned about.
  for (const n of notAttached) log.warn(`${n.path}: ${n.reason}; not attached (the message names it)`);
  const message = created
    ? renderSuccessMessage(created, job, { subject: opts.successSubject })
    : renderMessage(summary, {
        subject: opts.subject ?? DEFAULT_SUBJECT,
        location: opts.location ?? null,
        instructions: opts.instructions ?? null,
        maxSummaries: opts.maxSummaries ?? DEFAULT_MAX_SUMMARIES,
        exports: looseExports,
        attached: attachments.map((a) => a.filename),
        notAttached: notAttached.map(({ path, reason }) => ({ path, reason })),
        job: opts.job,
        incompleteReasons: ownReasons,
        skippedLines: ownSkipped,
      });
  // Added after the text is rendered, so the text part is the same with or without the report.
  if (reportName !== null && transport.carriesAttachments !== false) {
    // Loaded only when a report is attached: the renderer is the largest module notify has, and
    // start-up pays for every module loaded (BENCHMARKS.md).
    const { renderHtmlReport } = await import('../summary/report-html.js');
    attachments.push({ filename: reportName, path: reportName, content: Buffer.from(renderHtmlReport(summary), 'utf8') });
  }
  const record: NotificationRecord = {
    kind: 'notification',
    status: 'skipped',
    reason: null,
    transport: transport.name,
    recipients: opts.to ?? [],
    subject: message.subject,
    message_id: null,
    attempts: 0,
    fingerprint: fp,
    job,
    error_count: errorCount,
    path: null,
    complete: reasons.length === 0,
    ...(created ? { success_count: created.length } : {}),
  };
  return { message, attachments, record, newsworthy, createdCount: created ? created.length : null, missingAttachments: notAttached.filter((n) => n.missing).length };
}
