// file:DIR — the embedded default: each message becomes one .eml file in an outbox folder,
// written atomically, so a mail client, a cron'd `sendmail -t`, or a person can pick it up.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../durable/atomic-file.js';
import { redactValue } from '../../redact/redact.js';
import { composeMime } from './mime.js';
import type { OutgoingMessage, SendContext, SendResult, Transport } from './types.js';

/** The job as a file name: redacted like the subject (a token in a job name must not land in `ls`), then plain characters only. */
export function safeName(text: string): string {
  return redactValue(text).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 60) || 'job';
}

/** The outbox transport: each message written as an .eml file into the folder, for something else to send. */
export function createFileOutbox(dir: string): Transport {
  const folder = resolve(dir);
  return {
    name: 'file',
    needsRecipients: true,
    display: `file:${dir}`,
    async send(msg: OutgoingMessage, _ctx: SendContext): Promise<SendResult> {
      await mkdir(folder, { recursive: true });
      const now = new Date();
      const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const path = join(folder, `${stamp}-${safeName(msg.job)}-${msg.fingerprint.slice(0, 12)}-${msg.messageId.slice(1, 9)}.eml`);
      await writeFileAtomic(path, await composeMime(msg, now), { mode: 0o644 });
      return { messageId: msg.messageId, path };
    },
  };
}
