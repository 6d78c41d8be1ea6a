// notify: summaries (or events, summarized here) in, one message per summary delivered, one
// `notification` record per message out. Mail trouble never fails the job unless --strict.
// Length: over 350 lines, not split yet: the stage, composeAndDeliver and the flags are to be split.
import { parseIso } from '../cli/time.js';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { commonArgs, defineCommand, filesArg, filterArgs } from '../cli/run.js';
import { runStage, runStageOver, type Emit, type Stage } from '../stream/stage.js';
import { isEvent, type JsonObject, type JsonValue } from '../event/event.js';
import { invalidOption, UsageError, EXIT_FAILURE, EXIT_OK } from '../cli/errors.js';
import { parseDuration } from '../cli/duration.js';
import { durationOption, listOption } from '../cli/options.js';
import { createSummaryBuilder } from '../summary/summary.js';
import { Completeness } from '../stream/run-record.js';
import type { Predicate } from '../stream/filters.js';
import {
  checkSubjectTemplate,
  DEFAULT_MAX_SUMMARIES,
  DEFAULT_SUBJECT,
  CreatedUsers,
  DEFAULT_SUCCESS_SUBJECT,
  exportsOf,
  fingerprint,
  incompleteReasonsOf,
  renderSuccessMessage,
  type CreatedUser,
  isAddress,
  jobOf,
  newMessageId,
  redactDeep,
  renderMessage,
  toExportRef,
  type ExportRef,
  type NotAttached,
} from '../notify/message.js';
import { withRetry, type RetryPolicy } from '../notify/retry.js';
import { lockState, readState, recentSend, recordSend, writeStateAtomic } from '../notify/repeat-state.js';
import { loadAttachment, type Unattached } from '../notify/attachments.js';
import { createTransportFor, DEFAULT_OUTBOX, type Transport } from '../notify/transports/index.js';
import type { OutgoingAttachment } from '../notify/transports/types.js';

export const DEFAULT_TIMEOUT = '30s';
export const DEFAULT_REPEAT_INTERVAL = '4h';

export interface NotifyLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
}

export interface NotifyOptions {
  transport: Transport;
  to?: string[];
  from?: string;
  subject?: string;
  location?: string | null;
  instructions?: string | null;
  attach?: string[];
  attachExports?: boolean;
  /** Attach the HTML report of the summary (analyze --format html's page); the text body stays as it is. */
  attachReport?: boolean;
  always?: boolean;
  dryRun?: boolean;
  timeoutMs?: number;
  statePath?: string | null;
  repeatIntervalMs?: number;
  maxSummaries?: number;
  job?: string | null;
  filter?: Predicate | null;
  /** The clock of --state decisions (NOTIFY_NOW in tests). */
  now?: () => number;
  retry?: Partial<RetryPolicy>;
  log?: NotifyLog;
  /** Where --dry-run prints the message (stderr in the CLI). */
  print?: (text: string) => void;
  /** Said once, before the first delivery (the CLI: "using the default outbox"). */
  beforeFirstDelivery?: () => void;
  /** --successes: send the success notification (the run's created users) instead of the error message. */
  successes?: boolean;
  /** --successes: its subject (default DEFAULT_SUCCESS_SUBJECT). */
  successSubject?: string;
  /** Filled by the stage from the events (internal). */
  createdUsers?: CreatedUser[];
}

export interface NotificationRecord extends JsonObject {
  kind: 'notification';
  status: 'sent' | 'written' | 'skipped' | 'failed';
  reason: string | null;
  transport: string;
  recipients: string[];
  subject: string;
  message_id: string | null;
  attempts: number;
  fingerprint: string;
  job: string;
  error_count: number;
  path: string | null;
  /** False when the message said the run was incomplete. */
  complete: boolean;
}

const quietLog: NotifyLog = { info() {}, warn() {}, error() {}, debug() {} };

export function defaultFrom(): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '') || 'localhost';
  return `batch-events@${host}`;
}

/** The pure core: consumes summaries, events and export records; passes other kinds through; delivers at the end. */
export function createNotifyStage(opts: NotifyOptions): Stage & { failed: number; missingAttachments: number; noRecipients: number; incomplete: number } {
  const summaries: JsonObject[] = [];
  const looseExports: ExportRef[] = [];
  const builder = createSummaryBuilder({ job: opts.job ?? null, maxSummaries: Math.max(opts.maxSummaries ?? DEFAULT_MAX_SUMMARIES, DEFAULT_MAX_SUMMARIES) });
  const filter = opts.filter ?? null;
  // notify's own check of its input: a summary's producer (analyze) killed, or a failed export beside it.
  const runs = new Completeness();
  const createdUsers = new CreatedUsers();
  const stage = {
    failed: 0,
    /** Messages skipped for want of recipients (with --strict: exit 1). */
    noRecipients: 0,
    /** Messages that said the run was incomplete (with --strict: exit 1). */
    incomplete: 0,
    /** --attach/--attach-exports paths that were missing or unreadable (with --strict: exit 1). */
    missingAttachments: 0,
    push(item: { value: JsonObject }, emit: Emit) {
      const rec = item.value;
      if (opts.successes) {
        // The success notification is made from events; other records go on.
        if (isEvent(rec)) {
          if (filter === null || filter(rec)) {
            createdUsers.add(rec);
            builder.add(rec);
          }
        } else {
          runs.observe(rec);
          emit(rec);
        }
        return;
      }
      if (rec.kind === 'summary') summaries.push(rec);
      else if (rec.kind === 'export') {
        runs.observe(rec);
        const ref = toExportRef(rec);
        if (ref) looseExports.push(ref);
        builder.addExport(rec);
      } else if (isEvent(rec)) {
        if (filter === null || filter(rec)) builder.add(rec);
        else builder.addFiltered();
      } else {
        if (runs.observe(rec)) builder.completeness.observe(rec);
        emit(rec);
      }
    },
    async end(emit: Emit) {
      if (opts.successes) {
        const stand = { job: builder.job, error_count: 0 } as JsonObject;
        const { record: rec } = await composeAndDeliver(stand, [], [], { ...opts, createdUsers: createdUsers.list() }, () => opts.beforeFirstDelivery?.());
        if (rec.status === 'failed') stage.failed++;
        if (rec.status === 'skipped' && rec.reason === 'no recipients') stage.noRecipients++;
        emit(rec);
        return;
      }
      const list = summaries.length ? summaries : [builder.build() as unknown as JsonObject];
      let announced = false;
      for (const summary of list) {
        const { record: rec, missingAttachments } = await composeAndDeliver(summary, looseExports, runs.incompleteReasons(), opts, () => {
          if (!announced) opts.beforeFirstDelivery?.();
          announced = true;
        });
        if (rec.status === 'failed') stage.failed++;
        if (rec.status === 'skipped' && rec.reason === 'no recipients') stage.noRecipients++;
        if (!rec.complete) stage.incomplete++;
        stage.missingAttachments += missingAttachments;
        emit(rec);
      }
    },
  };
  return stage;
}

function dryRunText(from: string, to: string[], subject: string, attachments: OutgoingAttachment[], text: string, transport: Transport): string {
  const head = [
    `--- notify --dry-run (would send via ${transport.display}) ---`,
    `From: ${from}`,
    `To: ${to.join(', ') || '(none)'}`,
    `Subject: ${subject}`,
    ...(attachments.length ? [`Attachments: ${attachments.map((a) => a.filename).join(', ')}`] : []),
    '',
  ];
  return head.join('\n') + '\n' + text + '--- end ---\n';
}

async function composeAndDeliver(
  summary: JsonObject,
  looseExports: ExportRef[],
  ownReasons: string[],
  opts: NotifyOptions,
  announce: () => void,
): Promise<{ record: NotificationRecord; missingAttachments: number }> {
  const log = opts.log ?? quietLog;
  const transport = opts.transport;
  const to = opts.to ?? [];
  const from = opts.from ?? defaultFrom();
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
  const composing = created ? created.length > 0 || opts.always === true : errorCount > 0 || reasons.length > 0 || opts.always === true;
  for (const p of composing ? wanted : []) {
    if (seen.has(resolve(p))) continue;
    seen.add(resolve(p));
    const a = await loadAttachment(p);
    if ('missing' in a) notAttached.push(a);
    else if (transport.carriesAttachments === false) notAttached.push({ path: p, reason: `a ${transport.name} message carries no files`, missing: false });
    else attachments.push(a);
  }
  const reportName = composing && opts.attachReport ? reportFileName(job) : null;
  if (reportName !== null && transport.carriesAttachments === false) notAttached.push({ path: reportName, reason: `a ${transport.name} message carries no files`, missing: false });
  // Every file asked for and not attached is named in the body with its reason, and warned about.
  for (const n of notAttached) log.warn(`${n.path}: ${n.reason}; not attached (the message names it)`);
  const missingAttachments = notAttached.filter((n) => n.missing).length;
  const done = (rec: NotificationRecord) => ({ record: rec, missingAttachments });
  const msg = created ? renderSuccessMessage(created, job, { subject: opts.successSubject }) : renderMessage(summary, {
    subject: opts.subject ?? DEFAULT_SUBJECT,
    location: opts.location ?? null,
    instructions: opts.instructions ?? null,
    maxSummaries: opts.maxSummaries ?? DEFAULT_MAX_SUMMARIES,
    exports: looseExports,
    attached: attachments.map((a) => a.filename),
    notAttached: notAttached.map(({ path, reason }) => ({ path, reason })),
    job: opts.job,
    incompleteReasons: ownReasons,
  });
  // Added after the text is rendered, so the text part is the same with or without the report.
  if (reportName !== null && transport.carriesAttachments !== false) {
    // Loaded only when a report is attached: the renderer is the largest module notify has, and
    // start-up pays for every module loaded (issue 16).
    const { renderHtmlReport } = await import('../summary/report-html.js');
    attachments.push({ filename: reportName, path: reportName, content: Buffer.from(renderHtmlReport(summary), 'utf8') });
  }
  const record: NotificationRecord = {
    kind: 'notification',
    status: 'skipped',
    reason: null,
    transport: transport.name,
    recipients: to,
    subject: msg.subject,
    message_id: null,
    attempts: 0,
    fingerprint: fp,
    job,
    error_count: errorCount,
    path: null,
    complete: reasons.length === 0,
    ...(created ? { success_count: created.length } : {}),
  };
  const skip = (reason: string): NotificationRecord => ({ ...record, status: 'skipped', reason });

  if (!composing) {
    log.info(`${job}: no ${created ? 'users created' : 'errors'}, nothing to send`);
    return done(skip(created ? 'no successes' : 'no errors'));
  }
  if (to.length === 0 && transport.needsRecipients) {
    log.warn(`${job}: no recipients (--to or NOTIFY_TO), message not sent`);
    return done(skip('no recipients'));
  }

  const nowMs = () => (opts.now ?? Date.now)();
  const intervalMs = opts.repeatIntervalMs ?? parseDuration(DEFAULT_REPEAT_INTERVAL)!;
  const timeoutMs = opts.timeoutMs ?? parseDuration(DEFAULT_TIMEOUT)!;
  // Held from the repeat check to the state update, so a second notify decides after this one.
  // --timeout bounds the whole delivery: the wait for the --state lock comes out of the same budget.
  const budgetStart = Date.now();
  const lock = opts.statePath && !opts.dryRun ? await lockState(opts.statePath, timeoutMs) : null;
  if (opts.statePath && !opts.dryRun && !lock) log.warn(`${opts.statePath}: locked by another notify for too long; deciding without the lock`);
  try {
    if (opts.statePath) {
      const prior = recentSend(readState(opts.statePath), fp, intervalMs, nowMs());
      if (prior) {
        log.info(`${job}: the same errors were sent at ${prior.sent_at}, within --repeat-interval; not sent again`);
        return done(skip(`repeat: the same errors were sent at ${prior.sent_at}`));
      }
    }
    if (opts.dryRun) {
      (opts.print ?? (() => {}))(dryRunText(from, to, msg.subject, attachments, msg.text, transport));
      return done(skip('dry run'));
    }

    announce();
    const outgoing = {
      from,
      to,
      subject: msg.subject,
      text: msg.text,
      headers: msg.headers,
      messageId: newMessageId(from),
      attachments,
      summary: redactDeep(summary) as JsonObject,
      job,
      errorCount,
      fingerprint: fp,
    };
    log.debug(`delivering via ${transport.display} to ${to.join(', ') || '(no recipients)'}, budget ${timeoutMs} ms`);
    const result = await withRetry((ctx) => transport.send(outgoing, ctx), {
      timeoutMs: Math.max(1, timeoutMs - (Date.now() - budgetStart)),
      onRetry: ({ attempt, delayMs, error }) =>
        log.debug(`attempt ${attempt} failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); retrying in ${delayMs} ms`),
      ...opts.retry,
    });
    if (!result.ok) {
      log.error(`${job}: delivery via ${transport.display} failed: ${result.reason}`);
      return done({ ...record, status: 'failed', reason: result.reason, attempts: result.attempts });
    }
    const sent: NotificationRecord = {
      ...record,
      // Left in a folder is not delivered: someone or something still has to send it.
      status: transport.name === 'file' ? 'written' : 'sent',
      message_id: result.value.messageId,
      attempts: result.attempts,
      path: result.value.path ?? null,
    };
    if (result.value.rejected?.length) log.warn(`${job}: the server refused ${result.value.rejected.join(', ')}; sent to the others`);
    log.info(`${job}: ${sent.status} via ${transport.display}${to.length ? ` to ${to.join(', ')}` : ''}${sent.path ? ` (${sent.path})` : ''}`);
    if (opts.statePath) {
      try {
        // Re-read under the lock: another notify may have recorded its own send meanwhile.
        const state = recordSend(readState(opts.statePath), fp, { sent_at: new Date(nowMs()).toISOString(), job, subject: msg.subject, transport: transport.name }, nowMs(), Math.max(intervalMs, 86_400_000));
        await writeStateAtomic(opts.statePath, state);
      } catch (err) {
        log.warn(`${opts.statePath}: could not record the send (${(err as Error).message}); the next run may send it again`);
      }
    }
    return done(sent);
  } finally {
    await lock?.release();
  }
}

/** The report attachment's name: the job (already one redacted line) made file-safe. */
export function reportFileName(job: string): string {
  const safe = job.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80);
  return `${safe || 'batch-job'}-report.html`;
}

/** Library form: records in, pass-through records and `notification` records out. */
export function notifyRecords(source: Iterable<JsonObject> | AsyncIterable<JsonObject>, opts: NotifyOptions) {
  return runStageOver(createNotifyStage(opts), source);
}

/** NOTIFY_NOW (ISO time or epoch ms) fixes the clock of --state decisions, for tests and replays. */
function clockFromEnv(): (() => number) | undefined {
  const raw = process.env.NOTIFY_NOW;
  if (!raw) return undefined;
  const iso = /^\d+$/.test(raw) ? Number(raw) : parseIso(raw);
  const ms = typeof iso === 'number' ? iso : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`invalid NOTIFY_NOW: must be an ISO time or epoch milliseconds, got ${JSON.stringify(raw)}`);
  return () => ms;
}

export default defineCommand({
  meta: {
    name: 'notify',
    description: 'Send one message per summary (events are summarized first): SMTP, sendmail, webhook or an outbox folder',
  },
  args: {
    ...filesArg,
    to: { type: 'string', valueHint: 'ADDR', description: 'Recipient (repeatable, or a comma list; default: NOTIFY_TO)' },
    from: { type: 'string', valueHint: 'ADDR', description: 'Sender (default: NOTIFY_FROM, else batch-events@HOSTNAME)' },
    subject: { type: 'string', valueHint: 'TEMPLATE', default: DEFAULT_SUBJECT, description: 'Subject; may use {job} {error_count} {success_count} {total_events} {affected_user_count} {group} {date}' },
    via: { type: 'string', valueHint: 'URL', description: `smtp://[USER:PASS@]HOST[:PORT], smtps://…, sendmail[:PATH], http(s)://… (webhook), file:DIR (default: NOTIFY_VIA, else file:${DEFAULT_OUTBOX} or file:$NOTIFY_OUTBOX)` },
    job: { type: 'string', valueHint: 'NAME', description: 'Job name in the message (default: the summary\'s job)' },
    location: { type: 'string', valueHint: 'TEXT', description: 'Where the CSV file is (a path, a URL, a project in a data platform)' },
    instructions: { type: 'string', valueHint: 'TEXT', description: 'How to get the CSV file' },
    attach: { type: 'string', valueHint: 'PATH', description: 'Attach a file (repeatable); one over 10 MiB or missing is named in the message instead, with a warning' },
    'attach-exports': { type: 'boolean', description: 'Attach the CSV files named by the export records' },
    'attach-report': { type: 'boolean', description: 'Attach the HTML report of the summary (JOB-report.html, as analyze --format html draws it); the text is unchanged' },
    always: { type: 'boolean', description: 'Send even when there are no errors' },
    successes: { type: 'boolean', description: 'Send the success notification instead: one digest of the users created in the run (events in: outcome created or claimed), with details, time and authorizations' },
    'success-subject': { type: 'string', valueHint: 'TEMPLATE', description: `Subject of --successes; may use {job} {success_count} (default "${DEFAULT_SUCCESS_SUBJECT}")` },
    'dry-run': { type: 'boolean', description: 'Print the message on stderr and send nothing' },
    strict: { type: 'boolean', description: 'Exit 1 when a delivery fails, an --attach file is missing, there are no recipients, or the run was incomplete (default: log it and exit 0)' },
    timeout: { type: 'string', valueHint: 'DURATION', default: DEFAULT_TIMEOUT, description: 'Time for all attempts of one message, retries included' },
    state: { type: 'string', valueHint: 'FILE', description: 'Remember what was sent, so the same errors are not sent again within --repeat-interval' },
    'repeat-interval': { type: 'string', valueHint: 'DURATION', description: `With --state: how long the same errors stay quiet (default ${DEFAULT_REPEAT_INTERVAL})` },
    'max-summaries': { type: 'string', valueHint: 'N', default: String(DEFAULT_MAX_SUMMARIES), description: 'One-line error summaries listed in the body' },
    'sendmail-path': { type: 'string', valueHint: 'PATH', description: 'The sendmail program for --via sendmail (default /usr/sbin/sendmail)' },
    'tls-ca': { type: 'string', valueHint: 'FILE', description: 'Trust this CA certificate (PEM) for SMTP TLS, e.g. a self-signed server' },
    'insecure-tls': { type: 'boolean', description: 'Accept any SMTP TLS certificate (tests only)' },
    ...filterArgs,
    ...commonArgs,
  },
  examples: [
    { text: 'Look at the message first, send nothing', command: 'process ev.ndjson | analyze | notify --dry-run --to support@example.org' },
    { text: 'Send by SMTP, the same errors at most once a day', command: 'notify --via smtp://mail.example.org --to support@example.org --state notify.state summary.ndjson' },
    { text: 'Write .eml files to a folder instead of sending', command: 'notify --via file:outbox --always summary.ndjson' },
  ],
  seeAlso: 'Transports, templates and repeat state: docs/notify.md in the package.',
  csvHint: 'notify reads events or summaries: process --from csv | analyze first',
  async run(ctx) {
    const args = ctx.args;
    const to = listOption(ctx.list('to').length ? ctx.list('to') : process.env.NOTIFY_TO ? [process.env.NOTIFY_TO] : []);
    for (const a of to) if (!isAddress(a)) throw invalidOption('to', 'must be an email address', a);
    const from = args.from ?? (process.env.NOTIFY_FROM || defaultFrom());
    if (!isAddress(from)) throw invalidOption('from', 'must be an email address (or Name <address>)', from);
    const subject = args.subject;
    checkSubjectTemplate(subject);
    const timeoutMs = durationOption('timeout', args.timeout, DEFAULT_TIMEOUT);
    const statePath = args.state ?? null;
    if (args['repeat-interval'] !== undefined && !statePath) throw invalidOption('repeat-interval', 'needs --state FILE to remember what was sent');
    const repeatIntervalMs = durationOption('repeat-interval', args['repeat-interval'], DEFAULT_REPEAT_INTERVAL);
    const maxSummaries = ctx.int('max-summaries') ?? DEFAULT_MAX_SUMMARIES;
    const now = clockFromEnv();

    const configured = args.via ?? (process.env.NOTIFY_VIA || undefined);
    const via = configured ?? `file:${process.env.NOTIFY_OUTBOX || DEFAULT_OUTBOX}`;
    const transport = createTransportFor(via, {
      sendmailPath: args['sendmail-path'],
      tlsCa: args['tls-ca'],
      insecureTls: args['insecure-tls'] === true,
      user: process.env.NOTIFY_SMTP_USER || undefined,
      password: process.env.NOTIFY_SMTP_PASSWORD || undefined,
    });
    ctx.log.debug(`transport: ${transport.display}${configured ? '' : ' (the default)'}`);

    const stage = createNotifyStage({
      transport,
      to,
      from,
      subject,
      location: args.location ?? null,
      instructions: args.instructions ?? null,
      attach: ctx.list('attach'),
      attachExports: args['attach-exports'] === true,
      attachReport: args['attach-report'] === true,
      always: args.always === true,
      successes: args.successes === true,
      successSubject: args['success-subject'],
      dryRun: args['dry-run'] === true,
      timeoutMs,
      statePath,
      repeatIntervalMs,
      maxSummaries,
      job: args.job ?? null,
      filter: ctx.filter,
      now,
      log: {
        info: (m) => ctx.log.info(m),
        warn: (m) => ctx.log.warn(m),
        error: (m) => ctx.log.error(m),
        debug: (m) => ctx.log.debug(m),
      },
      print: (text) => process.stderr.write(text),
      beforeFirstDelivery: configured
        ? undefined
        : () => ctx.log.info(`no --via or NOTIFY_VIA given: writing to the outbox folder ${via.slice('file:'.length)} (the default)`),
    });
    await runStage(ctx, stage);
    if (args.strict !== true) return EXIT_OK;
    const problems = [
      stage.failed ? 'a delivery failed' : '',
      stage.missingAttachments ? 'an --attach file is missing' : '',
      stage.noRecipients ? 'no recipients (--to or NOTIFY_TO)' : '',
      stage.incomplete ? 'the run was incomplete' : '',
    ].filter(Boolean);
    if (problems.length) {
      ctx.fail(`--strict: ${problems.join('; ')}`);
      ctx.log.error(`--strict: ${problems.join('; ')}`);
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  },
});
