// sendmail — hands the message to the local MTA binary on stdin (`sendmail -i -f FROM -- TO...`).
// Exit 75 (EX_TEMPFAIL) is transient, as MTAs mean it; any other non-zero exit is permanent.
import { spawn } from 'node:child_process';
import { DeliveryError } from '../retry.js';
import { composeMime } from './mime.js';
import type { OutgoingMessage, SendContext, SendResult, Transport } from './types.js';

/** --sendmail-path's default. */
export const DEFAULT_SENDMAIL_PATH = '/usr/sbin/sendmail';
const EX_TEMPFAIL = 75;

function bareAddress(a: string): string {
  const m = /<([^<>]+)>\s*$/.exec(a);
  return (m ? m[1]! : a).trim();
}

/** The sendmail transport: the local MTA program, fed the message on stdin. */
export function createSendmail(path = DEFAULT_SENDMAIL_PATH): Transport {
  return {
    name: 'sendmail',
    needsRecipients: true,
    display: `sendmail (${path})`,
    async send(msg: OutgoingMessage, ctx: SendContext): Promise<SendResult> {
      const data = await composeMime(msg);
      const args = ['-i', '-f', bareAddress(msg.from), '--', ...msg.to.map(bareAddress)];
      await new Promise<void>((resolvePromise, reject) => {
        const child = spawn(path, args, { stdio: ['pipe', 'ignore', 'pipe'], signal: ctx.signal });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          if (stderr.length < 2000) stderr += d;
        });
        child.stdin.on('error', () => {
          // the exit status says what happened
        });
        child.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') reject(new DeliveryError(`${path}: no such program (set --sendmail-path)`, 'permanent', 'ENOENT'));
          else if (err.name === 'AbortError') reject(new DeliveryError('sendmail did not finish in time', 'transient', 'ETIMEDOUT'));
          else reject(err);
        });
        child.on('close', (code, signal) => {
          if (code === 0) return resolvePromise();
          const why = stderr.trim().split('\n')[0] || (signal ? `killed by ${signal}` : `exit status ${code}`);
          reject(new DeliveryError(`sendmail: ${why}`, code === EX_TEMPFAIL || signal ? 'transient' : 'permanent', code ?? signal ?? undefined));
        });
        child.stdin.end(data);
      });
      return { messageId: msg.messageId };
    },
  };
}
