// RFC 5322 text of a message (outbox .eml, sendmail's stdin), built by nodemailer's composer,
// loaded only when a message is actually written so other paths start small.
import { headerSafe } from '../safe-text.js';
import type { OutgoingAttachment, OutgoingMessage } from './types.js';

/** Header values flattened to one line at the last step too, for messages built outside renderMessage (library API). */
export function safeHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (/^[A-Za-z0-9-]+$/.test(name)) out[name] = headerSafe(String(value), 998);
  return out;
}

/** nodemailer's form of an attachment: the bytes read up front when there are some, else the path. */
export function mailAttachment(a: OutgoingAttachment): { filename: string; content: Buffer } | { filename: string; path: string } {
  return a.content ? { filename: a.filename, content: a.content } : { filename: a.filename, path: a.path };
}

/** The message as MIME bytes (an .eml file, or sendmail's stdin). */
export async function composeMime(msg: OutgoingMessage, date = new Date()): Promise<Buffer> {
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const composer = new MailComposer({
    from: msg.from,
    to: msg.to.length ? msg.to : undefined,
    subject: headerSafe(msg.subject, 998),
    text: msg.text,
    headers: safeHeaders(msg.headers),
    messageId: msg.messageId,
    date,
    attachments: msg.attachments.map(mailAttachment),
  });
  return composer.compile().build();
}
