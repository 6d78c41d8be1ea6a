// One composed message delivered, or skipped with the reason: no news, no recipients, the same
// errors already sent within --repeat-interval (--state), or --dry-run. Delivery retries within
// --timeout (retry.ts); mail trouble is reported in the record, never thrown.
import { parseDuration } from '../cli/duration.js';
import type { JsonObject } from '../event/event.js';
import type { ComposedMessage } from './compose.js';
import { DEFAULT_REPEAT_INTERVAL, DEFAULT_TIMEOUT, defaultFrom, quietLog, type NotificationRecord, type NotifyOptions } from './options.js';
import { lockState, readState, recentSend, recordSend, writeStateAtomic } from './repeat-state.js';
import { withRetry } from './retry.js';
import { newMessageId, redactDeep } from './safe-text.js';
import type { OutgoingAttachment, Transport } from './transports/types.js';

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

/** Delivers a composed message (or says why not) and returns its final record; `announce` runs just before a real send. */
export async function deliverMessage(composed: ComposedMessage, summary: JsonObject, opts: NotifyOptions, announce: () => void): Promise<NotificationRecord> {
  const { message: msg, attachments, record } = composed;
  const log = opts.log ?? quietLog;
  const transport = opts.transport;
  const to = opts.to ?? [];
  const from = opts.from ?? defaultFrom();
  const { job, fingerprint: fp, error_count: errorCount } = record;
  const skip = (reason: string): NotificationRecord => ({ ...record, status: 'skipped', reason });

  if (!composed.newsworthy) {
    const created = composed.createdCount !== null;
    log.info(`${job}: no ${created ? 'users created' : 'errors'}, nothing to send`);
    return skip(created ? 'no successes' : 'no errors');
  }
  if (to.length === 0 && transport.needsRecipients) {
    log.warn(`${job}: no recipients (--to or NOTIFY_TO), message not sent`);
    return skip('no recipients');
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
        return skip(`repeat: the same errors were sent at ${prior.sent_at}`);
      }
    }
    if (opts.dryRun) {
      (opts.print ?? (() => {}))(dryRunText(from, to, msg.subject, attachments, msg.text, transport));
      return skip('dry run');
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
      return { ...record, status: 'failed', reason: result.reason, attempts: result.attempts };
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
    return sent;
  } finally {
    await lock?.release();
  }
}
