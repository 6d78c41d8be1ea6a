// --via URL → a transport. One place that knows the schemes, so the command, the docs and the
// library API agree: smtp://, smtps://, sendmail[:PATH], http(s)://, file:DIR.
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidOption } from '../../cli/errors.js';
import { createFileOutbox } from './file-outbox.js';
import { createSendmail, DEFAULT_SENDMAIL_PATH } from './sendmail.js';
import { createSmtp, type SmtpOptions } from './smtp.js';
import { createWebhook } from './webhook.js';
import type { Transport } from './types.js';

export type { Transport } from './types.js';

/** The outbox folder when neither --via nor NOTIFY_VIA is given (NOTIFY_OUTBOX overrides it). */
export const DEFAULT_OUTBOX = './outbox';

/** What --via needs besides the URL: the sendmail program and SMTP's TLS and login settings. */
export interface ViaOptions extends SmtpOptions {
  sendmailPath?: string;
}

/** The --via value for an error message: any password in it replaced by ***. */
export function maskVia(via: string): string {
  return via.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/** The transport a --via value names (a usage error naming --via when it names none). */
export function createTransportFor(via: string, opts: ViaOptions = {}): Transport {
  const text = via.trim();
  const bad = (why: string) => invalidOption('via', why, maskVia(text));
  if (text === 'sendmail' || text.startsWith('sendmail:')) {
    return createSendmail(text.slice('sendmail:'.length) || opts.sendmailPath || DEFAULT_SENDMAIL_PATH);
  }
  if (/^file:/i.test(text)) {
    const dir = /^file:\/\//i.test(text) ? fileURLToPath(text) : text.slice('file:'.length);
    if (!dir) throw bad('file: needs a folder, as in file:./outbox');
    return createFileOutbox(dir);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(`must be smtp://HOST[:PORT], smtps://…, sendmail, http(s)://… or file:DIR${isAbsolute(text) ? ' (a folder is written file:DIR)' : ''}`);
  }
  switch (url.protocol) {
    case 'smtp:':
    case 'smtps:':
      if (!url.hostname) throw bad('needs a host, as in smtp://mail.example.org:587');
      return createSmtp(url, opts);
    case 'http:':
    case 'https:':
      return createWebhook(url);
    default:
      throw bad('must be smtp://HOST[:PORT], smtps://…, sendmail, http(s)://… or file:DIR');
  }
}
