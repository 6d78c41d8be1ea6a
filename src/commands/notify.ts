// notify: summaries (or events, summarized here) in, one message per summary delivered, one
// `notification` record per message out. Mail trouble never fails the job unless --strict.
// The flags are turned into NotifyOptions here; the core is src/notify/ (stage, compose, deliver).
import { parseIso } from '../cli/time.js';
import { commonArgs, defineCommand, filesArg, filterArgs } from '../cli/run.js';
import { runStage } from '../stream/stage.js';
import { invalidOption, UsageError, EXIT_FAILURE, EXIT_OK } from '../cli/errors.js';
import { durationOption, listOption } from '../cli/options.js';
import { checkSubjectTemplate, DEFAULT_MAX_SUMMARIES, DEFAULT_SUBJECT } from '../notify/message.js';
import { DEFAULT_REPEAT_INTERVAL, DEFAULT_TIMEOUT, defaultFrom } from '../notify/options.js';
import { isAddress } from '../notify/safe-text.js';
import { createNotifyStage } from '../notify/stage.js';
import { DEFAULT_SUCCESS_SUBJECT } from '../notify/success.js';
import { createTransportFor, DEFAULT_OUTBOX } from '../notify/transports/index.js';

/** NOTIFY_NOW (ISO time or epoch ms) fixes the clock of --state decisions, for tests and replays. */
function clockFromEnv(): (() => number) | undefined {
  const raw = process.env.NOTIFY_NOW;
  if (!raw) return undefined;
  const iso = /^\d+$/.test(raw) ? Number(raw) : parseIso(raw);
  const ms = typeof iso === 'number' ? iso : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`invalid NOTIFY_NOW: must be an ISO time or epoch milliseconds, got ${JSON.stringify(raw)}`);
  return () => ms;
}

/** The notify binary: its flags, checked and turned into NotifyOptions for the stage. */
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
