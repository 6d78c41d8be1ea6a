// RFC 5322 text of a message (outbox .eml, sendmail's stdin), built by nodemailer's composer,
// loaded only when a message is actually written so other paths start small.
import type { OutgoingMessage } from './types.js';

export async function composeMime(msg: OutgoingMessage, date = new Date()): Promise<Buffer> {
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const composer = new MailComposer({
    from: msg.from,
    to: msg.to.length ? msg.to : undefined,
    subject: msg.subject,
    text: msg.text,
    headers: msg.headers,
    messageId: msg.messageId,
    date,
    attachments: msg.attachments.map((a) => ({ filename: a.filename, path: a.path })),
  });
  return composer.compile().build();
}
