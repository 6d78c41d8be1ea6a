// What every notify transport takes and gives back, so the delivery policy (retries, deadline)
// stays in one place and each transport only knows how to hand one message over once.
import type { JsonObject } from '../../event/event.js';

/** The transports notify knows. */
export type TransportName = 'smtp' | 'smtps' | 'sendmail' | 'webhook' | 'file';

/** A file a message carries. */
export interface OutgoingAttachment {
  filename: string;
  path: string;
  /** The file as read when the message was composed (notify reads it up front, so a file removed
   *  or unreadable afterwards cannot fail the delivery); without it, transports read `path`. */
  content?: Buffer;
}

/** One message as every transport takes it. */
export interface OutgoingMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
  messageId: string;
  attachments: OutgoingAttachment[];
  /** The (redacted) summary, for transports that carry structured data (webhook). */
  summary: JsonObject;
  job: string;
  errorCount: number;
  fingerprint: string;
}

/** What one attempt of a send is given by the retry loop. */
export interface SendContext {
  signal: AbortSignal;
  /** Ms left in the delivery budget; a transport sets its own socket timeouts from it. */
  remainingMs: number;
}

/** What a transport reports after handing a message over. */
export interface SendResult {
  messageId: string | null;
  /** The outbox file, for file:DIR. */
  path?: string | null;
  /** Recipients the server refused while accepting the others. */
  rejected?: string[];
}

/** One way to hand a message over, once; the retry policy stays in retry.ts. */
export interface Transport {
  name: TransportName;
  /** Email transports and the outbox need recipients (a message with no To: is not sent); a webhook does not: its URL is where it goes. */
  needsRecipients: boolean;
  /** For logs: never contains a password (`smtp://user:***@host:25`). */
  display: string;
  /** False when the transport cannot carry files (a webhook): notify then names them in the text instead. */
  carriesAttachments?: boolean;
  send(msg: OutgoingMessage, ctx: SendContext): Promise<SendResult>;
}
