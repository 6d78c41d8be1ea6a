// notify's retry policy as pure functions with an injectable clock: which failures are worth
// retrying, how long to wait between attempts, and when to give up. (Whether a set of errors was
// already sent recently is repeat-state.ts.)

/** Whether another attempt may succeed (transient) or cannot (permanent). */
export type FailureKind = 'transient' | 'permanent';

/** A delivery failure with its classification; transports throw these (or plain errors, classified below). */
export class DeliveryError extends Error {
  constructor(message: string, readonly kind: FailureKind, readonly code?: string | number, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.name = 'DeliveryError';
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs?: number;
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
  'ECONNABORTED', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  // nodemailer's own codes for a dropped or silent connection
  'ECONNECTION', 'ESOCKET', 'EDNS', 'ABORT_ERR', 'ETIMEOUT',
]);

const CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH/;

/** HTTP: 408, 425, 429 and 5xx are worth another try; other 4xx are not. */
export function classifyHttpStatus(status: number): FailureKind {
  return status === 408 || status === 425 || status === 429 || status >= 500 ? 'transient' : 'permanent';
}

/** SMTP: 4xx replies are temporary by definition (RFC 5321), 5xx permanent. */
function classifySmtpCode(code: number): FailureKind {
  return code >= 400 && code < 500 ? 'transient' : 'permanent';
}

/** Transient: connection refused/reset, timeouts, SMTP 4xx, HTTP 429/5xx. Everything else is permanent. */
export function classify(err: unknown): FailureKind {
  if (err instanceof DeliveryError) return err.kind;
  const e = err as { code?: unknown; originalCode?: unknown; responseCode?: unknown; cause?: unknown; name?: unknown } | null;
  if (!e || typeof e !== 'object') return 'permanent';
  if (typeof e.responseCode === 'number') return classifySmtpCode(e.responseCode);
  // A certificate that does not verify will not verify on the next try either.
  for (const c of [e.originalCode, e.code]) if (typeof c === 'string' && CERT_CODE.test(c)) return 'permanent';
  if (typeof e.originalCode === 'string' && TRANSIENT_CODES.has(e.originalCode)) return 'transient';
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'transient';
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return 'transient';
  if (e.cause) return classify(e.cause);
  return 'permanent';
}

/** One line naming the failure, with the SMTP reply or the errno code when there is one. */
function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown; originalCode?: unknown; responseCode?: unknown; response?: unknown; cause?: unknown };
  if (typeof e.response === 'string' && e.response) return e.response.split('\n')[0]!.trim();
  let msg = e.message.split('\n')[0]!;
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause.code === 'string' && !msg.includes(cause.code)) msg += ` (${cause.code})`;
  else if (typeof e.originalCode === 'string' && !msg.includes(e.originalCode)) msg += ` (${e.originalCode})`;
  else if (typeof e.code === 'string' && !msg.includes(e.code)) msg += ` (${e.code})`;
  return msg;
}

/** How long and how often to retry; the clock, sleep and randomness are injectable for tests. */
export interface RetryPolicy {
  /** Total budget for every attempt and wait, in ms (--timeout). */
  timeoutMs: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxAttempts?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** What one attempt is given: its number, the time left, and the signal that ends it. */
export interface AttemptContext {
  attempt: number;
  /** Ms left in the budget for this attempt. */
  remainingMs: number;
  /** Aborted when the budget runs out; transports close their connection on it. */
  signal: AbortSignal;
}

/** The outcome of all attempts: the value, or the last failure with its kind and reason. */
export type RetryResult<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: unknown; kind: FailureKind; attempts: number; reason: string };

/** Exponential backoff with "equal jitter": half the step fixed, half random, so runs spread out. */
export function backoffDelay(attempt: number, random: () => number, base = 250, max = 5000): number {
  const step = Math.min(max, base * 2 ** (attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it succeeds, fails permanently, or the budget is spent; each attempt is cut off at the deadline. */
export async function withRetry<T>(attempt: (ctx: AttemptContext) => Promise<T>, policy: RetryPolicy): Promise<RetryResult<T>> {
  const now = policy.now ?? Date.now;
  const sleep = policy.sleep ?? realSleep;
  const random = policy.random ?? Math.random;
  const deadline = now() + policy.timeoutMs;
  const maxAttempts = policy.maxAttempts ?? Infinity;
  let n = 0;
  for (;;) {
    n++;
    const remainingMs = Math.max(0, deadline - now());
    let error: unknown;
    try {
      return { ok: true, value: await withDeadline(attempt, { attempt: n, remainingMs }), attempts: n };
    } catch (err) {
      error = err;
    }
    const kind = classify(error);
    const reason = describeFailure(error);
    if (kind === 'permanent') return { ok: false, error, kind, attempts: n, reason };
    const retryAfter = error instanceof DeliveryError ? error.retryAfterMs : undefined;
    const delayMs = Math.max(backoffDelay(n, random, policy.baseDelayMs, policy.maxDelayMs), retryAfter ?? 0);
    // Stop when the next attempt could not even start inside the budget.
    if (n >= maxAttempts || now() + delayMs + 50 >= deadline) {
      return { ok: false, error, kind, attempts: n, reason: `${reason}; gave up after ${n} attempt${n === 1 ? '' : 's'}` };
    }
    policy.onRetry?.({ attempt: n, delayMs, error });
    await sleep(delayMs);
  }
}

async function withDeadline<T>(attempt: (ctx: AttemptContext) => Promise<T>, base: { attempt: number; remainingMs: number }): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DeliveryError(`no answer within the time left (${base.remainingMs} ms)`, 'transient', 'ETIMEDOUT');
      controller.abort(err);
      reject(err);
    }, base.remainingMs);
  });
  try {
    return await Promise.race([attempt({ ...base, signal: controller.signal }), expired]);
  } finally {
    clearTimeout(timer);
    if (!controller.signal.aborted) controller.abort(new DeliveryError('attempt finished', 'permanent'));
  }
}
