// Text from the data made safe for a mail: one header line, one body line, secrets redacted as
// export-csv redacts them (src/redact/), so a secret hidden from the CSV is hidden from the mail
// too; and the address and Message-ID checks of the headers notify writes.
import { randomUUID } from 'node:crypto';
import { isPlainObject, setOwn, str, type JsonObject, type JsonValue } from '../event/event.js';
import { REDACTED, couldBeSecret, redactValue, secretName } from '../redact/redact.js';

/** Keeps data from ever ending a header line: CR, LF and other controls become one space. */
export function headerSafe(value: string, max = 250): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** One line of body text: no CR/LF from data, secrets redacted. */
export function bodyLine(text: string): string {
  return redactValue(text).replace(/[\r\n\u2028\u2029]+/g, ' ');
}

/** Deep copy with secret-looking keys and secrets inside strings redacted (the webhook's summary). */
export function redactDeep(value: JsonValue): JsonValue {
  if (typeof value === 'string') return redactValue(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (isPlainObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, secretName(k) && couldBeSecret(v) ? REDACTED : redactDeep(v));
    return out;
  }
  return value;
}

/** The job name as it leaves notify (subject, body, X-Batch-Job, outbox file name, webhook, record): redacted and one line. */
export function jobOf(summary: JsonObject, fallback?: string | null): string {
  return headerSafe(redactValue(fallback ?? str(summary.job) ?? 'batch job'), 80);
}

/** A Message-ID in the sender's domain, so replies and logs can be matched to the record. */
export function newMessageId(from: string): string {
  const m = /@([^\s>@]+)>?\s*$/.exec(from);
  const domain = m?.[1]?.replace(/[^a-z0-9.-]/gi, '') || 'batch-events.invalid';
  return `<${randomUUID()}@${domain}>`;
}

/** Plain address check for --to/--from: one address, no spaces or control characters; `Name <addr>` allowed. */
export function isAddress(text: string): boolean {
  if (/[\r\n\u0000-\u001f]/.test(text)) return false;
  const m = /^\s*(?:[^<>@]*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(text);
  const addr = m?.[1] ?? m?.[2];
  return !!addr && /^[^@\s,;"]+@[^@\s,;"]+$/.test(addr);
}
