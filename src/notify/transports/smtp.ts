// smtp:// and smtps:// through nodemailer (loaded on first send): STARTTLS when the server
// offers it, implicit TLS for smtps://, AUTH from the URL or NOTIFY_SMTP_USER/PASSWORD.
// Socket timeouts come from the time left in the budget, so a silent server cannot hold a run.
import { readFileSync } from 'node:fs';
import { DeliveryError } from '../retry.js';
import { headerSafe } from '../safe-text.js';
import { mailAttachment, safeHeaders } from './mime.js';
import type { OutgoingMessage, SendContext, SendResult, Transport } from './types.js';

/** SMTP settings besides the URL: TLS trust and the login when the URL has none. */
export interface SmtpOptions {
  /** PEM file of a CA to trust (a self-signed test server). */
  tlsCa?: string;
  /** Accept any certificate: tests only. */
  insecureTls?: boolean;
  /** Credentials when the URL has none (NOTIFY_SMTP_USER / NOTIFY_SMTP_PASSWORD). */
  user?: string;
  password?: string;
}

/** The server and login an smtp:// or smtps:// URL names. */
export interface SmtpTarget {
  secure: boolean;
  host: string;
  port: number;
  user: string | null;
  password: string | null;
}

/** An smtp(s):// URL read: implicit TLS and port 465 for smtps, else 25; credentials from the URL or the options. */
export function parseSmtpUrl(url: URL, opts: SmtpOptions = {}): SmtpTarget {
  const secure = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    secure,
    host,
    port: url.port ? Number(url.port) : secure ? 465 : 25,
    user: url.username ? decodeURIComponent(url.username) : (opts.user ?? null),
    password: url.password ? decodeURIComponent(url.password) : (opts.password ?? null),
  };
}

/** The URL for logs: the password is always `***`. */
export function displaySmtp(t: SmtpTarget): string {
  const who = t.user ? `${encodeURIComponent(t.user)}${t.password ? ':***' : ''}@` : '';
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.secure ? 'smtps' : 'smtp'}://${who}${host}:${t.port}`;
}

/** The SMTP transport (nodemailer, loaded on the first send). */
export function createSmtp(url: URL, opts: SmtpOptions = {}): Transport {
  const target = parseSmtpUrl(url, opts);
  const ca = opts.tlsCa ? readFileSync(opts.tlsCa) : undefined;
  return {
    name: target.secure ? 'smtps' : 'smtp',
    needsRecipients: true,
    display: displaySmtp(target),
    async send(msg: OutgoingMessage, ctx: SendContext): Promise<SendResult> {
      const { createTransport } = await import('nodemailer');
      const budget = Math.max(1, ctx.remainingMs);
      const transporter = createTransport({
        host: target.host,
        port: target.port,
        secure: target.secure,
        auth: target.user ? { user: target.user, pass: target.password ?? '' } : undefined,
        tls: { ca, rejectUnauthorized: !opts.insecureTls, servername: /^[\d.]+$|:/.test(target.host) ? undefined : target.host },
        connectionTimeout: budget,
        greetingTimeout: budget,
        socketTimeout: budget,
        dnsTimeout: budget,
        logger: false,
        debug: false,
      });
      const abort = () => transporter.close();
      ctx.signal.addEventListener('abort', abort, { once: true });
      try {
        const info = await transporter.sendMail({
          from: msg.from,
          to: msg.to,
          subject: headerSafe(msg.subject, 998),
          text: msg.text,
          headers: safeHeaders(msg.headers),
          messageId: msg.messageId,
          attachments: msg.attachments.map(mailAttachment),
        });
        if (Array.isArray(info.accepted) && info.accepted.length === 0) {
          throw new DeliveryError(`no recipient was accepted: ${String(info.response ?? '')}`, 'permanent', 'EENVELOPE');
        }
        const rejected = (Array.isArray(info.rejected) ? (info.rejected as unknown[]) : []).map((r) => (typeof r === 'string' ? r : String((r as { address?: unknown }).address)));
        return { messageId: info.messageId ?? msg.messageId, rejected };
      } finally {
        ctx.signal.removeEventListener('abort', abort);
        transporter.close();
      }
    },
  };
}
