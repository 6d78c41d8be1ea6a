// Secrets never reach a CSV unless asked for: cells under secret-looking keys become
// [REDACTED], and secret-looking values (cloud keys, bearer tokens, JWTs, PEM private keys,
// passwords in URLs) are replaced wherever they appear, keeping the text around them.
/** What a redacted value becomes, in cells, file names and messages. */
export const REDACTED = '[REDACTED]';
import { isExactNumber, isMarkedNumber } from '../stream/exact-number.js';

// A key is secret by its name when its last word is a secret noun (`api_key`, `refreshToken`,
// `auth.key`, `client_secret`), or a secret noun is followed only by a word for its encoded form
// (`password_hash`). A noun followed by a metric or a flag is not (`token_usage`, `cookie_count`,
// `signature_valid`), nor is the plural `tokens` (`prompt_tokens`, `max_tokens`: usage counts).
const SECRET_NOUN = /^(?:.*token|.*secret|secrets|pass|password|passwords|passwd|passphrase|pwd|.*cookie|cookies|credentials?|signature|apikey|authorization|sessionid|privatekey|accesskey|secretkey)$/;
/** Words that make a following `key` (or `id` for session) a secret. */
const KEY_OWNER = new Set(['api', 'private', 'access', 'secret', 'auth', 'signing', 'encryption', 'ssh', 'master', 'client', 'app', 'service']);
const ENCODED_FORM = new Set(['hash', 'value', 'b64', 'base64', 'hex', 'raw', 'plain', 'plaintext', 'enc', 'encrypted', 'data', 'text', 'header']);

/** The words of a key path: split at `.`, `_`, `-`, spaces and camelCase, lower-cased. */
function wordsOf(path: string): string[] {
  return path
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function isSecretNoun(words: string[], i: number): boolean {
  const w = words[i]!;
  if (SECRET_NOUN.test(w)) return true;
  const before = words[i - 1];
  if (w === 'key' && before !== undefined && KEY_OWNER.has(before)) return true;
  return w === 'id' && before === 'session';
}

/** True when a key path names a secret (see the rule above). */
export function secretName(path: string): boolean {
  const words = wordsOf(path);
  const last = words.length - 1;
  if (last < 0) return false;
  if (isSecretNoun(words, last)) return true;
  return last > 0 && ENCODED_FORM.has(words[last]!) && isSecretNoun(words, last - 1);
}

// One alternation, tried once per string cell; each branch starts with a literal so the
// regexp engine rejects ordinary text quickly.
const SECRET_VALUE = new RegExp(
  [
    // PEM private keys, whole block (or to the end of the cell when the END line is missing).
    String.raw`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)`,
    // AWS access key ids.
    String.raw`\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b`,
    // Bearer tokens (the token must hold a digit or symbol, so "bearer instruments" stays).
    String.raw`\b(?:[Bb]earer|BEARER)\s+(?=[A-Za-z]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{8,}=*`,
    // JWTs (header.payload.signature, base64url, header starts with {" → eyJ).
    String.raw`\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`,
    // GitHub, Slack, Google, Stripe style tokens.
    String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|[sr]k_live_[0-9A-Za-z]{16,})`,
  ].join('|'),
  'g',
);

// user:password@ inside a URL: only the password is replaced.
const URL_PASSWORD = /([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s/:@?#]*:)([^\s/@?#]+)(@)/g;
// "Authorization: Basic …" and similar header lines: everything after the colon.
const AUTH_HEADER = /((?:proxy-)?authorization["']?\s*[:=]\s*["']?)([^"'\r\n,;]+)/gi;
// key=value / "key": "value" pairs inside free text, e.g. "password=hunter2".
const INLINE_PAIR = /((?:pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|client[-_]secret|access[-_]key)["']?\s*[:=]\s*["']?)([^\s"',;&]{3,})/gi;

// Cheap pre-check (measured ~2× faster than one case-insensitive alternation): key/value
// pairs, URLs and header lines need ':' or '=' right after a letter or quote (ISO timestamps,
// "T08:00", do not); the other patterns need one of these case-sensitive prefixes.
const TOKEN_PREFIX = /yJ|BEGIN|[Bb]earer|BEARER|A[KSBCGIRNP][A-Z]{2}[0-9A-Z]{16}|gh[pousr]_|github_pat|xox[abprs]-|AIza|k_live/;

function wordBefore(text: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x09)) j--;
  const c = text.charCodeAt(j) | 0x20;
  return (c >= 0x61 && c <= 0x7a) || c === 0x22 || c === 0x27 || c === 0x5f || c === 0x7f;
}

function sepAfterWord(text: string, sep: string): boolean {
  for (let i = text.indexOf(sep); i !== -1; i = text.indexOf(sep, i + 1)) if (wordBefore(text, i)) return true;
  return false;
}

/** False when no secret pattern can be in the text (a row's cells joined: one test per row). */
export function maybeSecret(text: string): boolean {
  return sepAfterWord(text, ':') || sepAfterWord(text, '=') || TOKEN_PREFIX.test(text);
}

/**
 * The characters at which a pattern maybeSecret looks for can show: the separators, and one
 * (rare) character of each TOKEN_PREFIX branch. A caller that reads a value's bytes anyway (the
 * sparse reader of export-csv) asks secretAtByte at these only, instead of maybeSecret after.
 */
export const SECRET_MARKS = ':=JBbA_x';

/**
 * True when a pattern of maybeSecret may show at bytes[i] (one of SECRET_MARKS, code c) of a
 * string whose UTF-8 bytes start at `start` and run on to a byte that is no letter, digit, `-`
 * or `_` (a JSON string's closing quote). Over all of a string's marks, true whenever
 * maybeSecret(string) is (a superset: a false hit only costs the exact check). UTF-8 keeps ASCII
 * characters and their neighbours as they are in the text, so a look at bytes is one at characters.
 */
export function secretAtByte(b: Uint8Array, start: number, i: number, c: number): boolean {
  switch (c) {
    case 0x3a: // ':' and '=' after a word, as sepAfterWord (no further back than the start)
    case 0x3d: {
      let j = i - 1;
      while (j >= start && (b[j] === 0x20 || b[j] === 0x09)) j--;
      if (j < start) return false;
      const w = b[j]! | 0x20;
      return (w >= 0x61 && w <= 0x7a) || w === 0x22 || w === 0x27 || w === 0x7f;
    }
    case 0x4a: // yJ
      return i > start && b[i - 1] === 0x79;
    case 0x42: // BEGIN, BEARER, Bearer
      return bytesAt(b, i + 1, 'EGIN') || bytesAt(b, i + 1, 'EARER') || bytesAt(b, i + 1, 'earer');
    case 0x62: // bearer
      return bytesAt(b, i + 1, 'earer');
    case 0x41: // A[KSBCGIRNP][A-Z]{2}…, AIza
      return bytesAt(b, i + 1, 'Iza') || (AWS_SECOND.includes(b[i + 1]!) && upper(b[i + 2]) && upper(b[i + 3]));
    case 0x5f: {
      // gh[pousr]_, github_pat, k_live
      const p = i > start ? b[i - 1]! : -1;
      if (p === 0x6b) return bytesAt(b, i + 1, 'live');
      if (p === 0x62) return i - 6 >= start && bytesAt(b, i - 6, 'github');
      return i - 3 >= start && b[i - 2] === 0x68 && b[i - 3] === 0x67 && GH_KIND.includes(p);
    }
    case 0x78: // xox[abprs]-
      return bytesAt(b, i + 1, 'ox') && XOX_KIND.includes(b[i + 3]!) && b[i + 4] === 0x2d;
    default:
      return false;
  }
}

const AWS_SECOND = [...'KSBCGIRNP'].map((ch) => ch.charCodeAt(0));
const GH_KIND = [...'pousr'].map((ch) => ch.charCodeAt(0));
const XOX_KIND = [...'abprs'].map((ch) => ch.charCodeAt(0));

function upper(c: number | undefined): boolean {
  return c !== undefined && c >= 0x41 && c <= 0x5a;
}

function bytesAt(b: Uint8Array, at: number, ascii: string): boolean {
  for (let k = 0; k < ascii.length; k++) if (b[at + k] !== ascii.charCodeAt(k)) return false;
  return true;
}

/** The value with every secret-looking part replaced by [REDACTED] (the same string when none). */
export function redactValue(text: string): string {
  if (text.length < 8 || !maybeSecret(text)) return text;
  let out = text.replace(SECRET_VALUE, REDACTED);
  if (out.includes('://')) out = out.replace(URL_PASSWORD, `$1${REDACTED}$3`);
  out = out.replace(AUTH_HEADER, `$1${REDACTED}`);
  out = out.replace(INLINE_PAIR, `$1${REDACTED}`);
  return out;
}

/** --redact-key and --keep-key: extra secret key patterns and exemptions. */
export interface RedactOptions {
  /** Extra key patterns (--redact-key REGEX), case-insensitive: any non-empty value is redacted. */
  keys?: RegExp[];
  /** Keys never redacted by name or value (--keep-key REGEX), case-insensitive. */
  keep?: RegExp[];
}

/** How a column is redacted: by its name (string and object values), always (--redact-key), never (--keep-key). */
export type KeyRule = 'name' | 'always' | 'keep' | 'none';

function anyMatch(res: RegExp[], path: string): boolean {
  if (!res.length) return false;
  if (res.some((re) => re.test(path))) return true;
  const segs = path.split('.');
  return segs.length > 1 && segs.some((seg) => res.some((re) => re.test(seg)));
}

/** The rule for a dotted column path. */
export function keyRule(path: string, opts: RedactOptions = {}): KeyRule {
  if (anyMatch(opts.keep ?? [], path)) return 'keep';
  if (anyMatch(opts.keys ?? [], path)) return 'always';
  return secretName(path) ? 'name' : 'none';
}

/** Could a value under a secret name be a secret? Strings and objects can; numbers and booleans never. */
export function couldBeSecret(v: unknown): boolean {
  return typeof v === 'string' || (typeof v === 'object' && v !== null && !isExactNumber(v));
}

/** A predicate on dotted column paths: true when the name makes a (string or object) value secret. */
export function secretKeyMatcher(opts: RedactOptions = {}): (path: string) => boolean {
  return (path) => {
    const rule = keyRule(path, opts);
    return rule === 'name' || rule === 'always';
  };
}

/** A JSON.stringify replacer that redacts secret keys and values inside nested cells. */
export function redactingReplacer(opts: RedactOptions = {}): (key: string, value: unknown) => unknown {
  return (key, value) => {
    if (key !== '' && value !== null) {
      const rule = keyRule(key, opts);
      if (rule === 'keep') return value;
      if (rule === 'always' || (rule === 'name' && couldBeSecret(value) && !isMarkedNumber(value))) return REDACTED;
    }
    if (typeof value === 'string') return isMarkedNumber(value) ? value : redactValue(value);
    return value;
  };
}
