// What notify is given (NotifyOptions, from the flags or a library caller) and what it reports
// for each message (NotificationRecord): shared by the stage, the composer and the delivery.
import { hostname } from 'node:os';
import type { JsonObject } from '../event/event.js';
import type { Predicate } from '../stream/filters.js';
import type { RetryPolicy } from './retry.js';
import type { CreatedUser } from './success.js';
import type { Transport } from './transports/types.js';

/** --timeout's default: the time for all attempts of one message. */
export const DEFAULT_TIMEOUT = '30s';
/** --repeat-interval's default: how long the same errors stay quiet under --state. */
export const DEFAULT_REPEAT_INTERVAL = '4h';

/** Where notify says what happened (the CLI's logger; silent for library callers by default). */
export interface NotifyLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
}

/** A library caller's logger when it gives none. */
export const quietLog: NotifyLog = { info() {}, warn() {}, error() {}, debug() {} };

/** Everything that shapes notify's messages and their delivery (the CLI builds it from the flags). */
export interface NotifyOptions {
  transport: Transport;
  to?: string[];
  from?: string;
  subject?: string;
  location?: string | null;
  instructions?: string | null;
  attach?: string[];
  attachExports?: boolean;
  /** Attach the HTML report of the summary (analyze --format html's page); the text body stays as it is. */
  attachReport?: boolean;
  always?: boolean;
  dryRun?: boolean;
  timeoutMs?: number;
  statePath?: string | null;
  repeatIntervalMs?: number;
  maxSummaries?: number;
  job?: string | null;
  filter?: Predicate | null;
  /** The clock of --state decisions (NOTIFY_NOW in tests). */
  now?: () => number;
  retry?: Partial<RetryPolicy>;
  log?: NotifyLog;
  /** Where --dry-run prints the message (stderr in the CLI). */
  print?: (text: string) => void;
  /** Said once, before the first delivery (the CLI: "using the default outbox"). */
  beforeFirstDelivery?: () => void;
  /** --successes: send the success notification (the run's created users) instead of the error message. */
  successes?: boolean;
  /** --successes: its subject (default DEFAULT_SUCCESS_SUBJECT). */
  successSubject?: string;
  /** Filled by the stage from the events (internal). */
  createdUsers?: CreatedUser[];
}

/** The `notification` record notify writes for each message: what was sent, skipped or failed, and why. */
export interface NotificationRecord extends JsonObject {
  kind: 'notification';
  status: 'sent' | 'written' | 'skipped' | 'failed';
  reason: string | null;
  transport: string;
  recipients: string[];
  subject: string;
  message_id: string | null;
  attempts: number;
  fingerprint: string;
  job: string;
  error_count: number;
  path: string | null;
  /** False when the message said the run was incomplete. */
  complete: boolean;
}

/** The sender when neither --from nor NOTIFY_FROM is given: batch-events@ this host. */
export function defaultFrom(): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '') || 'localhost';
  return `batch-events@${host}`;
}
