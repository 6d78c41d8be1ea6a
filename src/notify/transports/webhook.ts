// http(s):// — a JSON POST with a `text` field (what Slack, Mattermost, Teams-style incoming
// webhooks accept) plus the redacted summary for machines. 429/5xx are retried, other 4xx not.
import { DeliveryError, classifyHttpStatus } from '../retry.js';
import { stringifyExact } from '../../stream/exact-number.js';
import type { OutgoingMessage, SendContext, SendResult, Transport } from './types.js';

/** Webhook URLs often carry their token in the path or query: show only the origin. */
export function maskUrl(url: URL): string {
  const hidden = url.pathname.length > 1 || url.search ? '/***' : '';
  return `${url.protocol}//${url.username ? '***@' : ''}${url.host}${hidden}`;
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function webhookBody(msg: OutgoingMessage): string {
  return stringifyExact({
    text: `*${msg.subject}*\n\n${msg.text}`,
    subject: msg.subject,
    job: msg.job,
    error_count: msg.errorCount,
    fingerprint: msg.fingerprint,
    message_id: msg.messageId,
    recipients: msg.to,
    summary: msg.summary,
  });
}

/** The webhook transport: one JSON POST to the URL (credentials in the URL become Basic auth). */
export function createWebhook(url: URL): Transport {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'batch-events-notify' };
  if (url.username || url.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  const target = new URL(url.href);
  target.username = '';
  target.password = '';
  return {
    name: 'webhook',
    needsRecipients: false,
    carriesAttachments: false,
    display: maskUrl(url),
    async send(msg: OutgoingMessage, ctx: SendContext): Promise<SendResult> {
      let res: Response;
      try {
        res = await fetch(target, { method: 'POST', headers, body: webhookBody(msg), signal: ctx.signal, redirect: 'error' });
      } catch (err) {
        if (ctx.signal.aborted) throw new DeliveryError('webhook did not answer in time', 'transient', 'ETIMEDOUT', { cause: err });
        throw err;
      }
      const body = (await res.text().catch(() => '')).slice(0, 300).replace(/\s+/g, ' ').trim();
      if (!res.ok) {
        throw new DeliveryError(`webhook answered HTTP ${res.status}${body ? `: ${body}` : ''}`, classifyHttpStatus(res.status), res.status, {
          retryAfterMs: res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get('retry-after')) : undefined,
        });
      }
      return { messageId: res.headers.get('x-request-id') ?? res.headers.get('x-message-id') ?? msg.messageId };
    },
  };
}
