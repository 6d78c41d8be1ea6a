// Numbers keep their text: `9007199254740993` stays exact and `1.0` stays `1.0` through every
// binary. JSON.parse turns both into doubles, so a line whose text holds such a number (found by
// a cheap pre-scan, false hits only cost time) is parsed again with lossless-json, and those
// numbers become ExactNumber. Node 20 has no JSON.rawJSON, so toJSON() writes a marked string
// that restoreNumbers() turns back into the bare number text after JSON.stringify.
import { randomBytes } from 'node:crypto';
import { parse as losslessParse } from 'lossless-json';

const OPEN = `\uE000${randomBytes(6).toString('hex')}\uE001`;
const CLOSE = '\uE002';
const MARKED = new RegExp(`"${OPEN}(-?[0-9][0-9.eE+-]*)${CLOSE}"`, 'g');
let created = false;

/** A JSON number whose text a double would change (big integers, 1.0, 1e3, -0, 1E-7 …). */
export class ExactNumber {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
    created = true;
  }
  get text(): string {
    return this.#text;
  }
  toString(): string {
    return this.#text;
  }
  valueOf(): number {
    return Number(this.#text);
  }
  toJSON(): string {
    return OPEN + this.#text + CLOSE;
  }
}

/** False until the first ExactNumber exists: hot paths skip their instanceof checks until then. */
export function exactNumbersSeen(): boolean {
  return created;
}

/** Whether a value is a number kept as its input text (beyond 2^53, 1.0, 1e3). */
export function isExactNumber(v: unknown): v is ExactNumber {
  return created && v instanceof ExactNumber;
}

/** A number's text as it came in (ExactNumber) or as JavaScript writes it (number). */
export function numberText(v: number | ExactNumber): string {
  return typeof v === 'number' ? String(v) : v.text;
}

/** True when `s` is an ExactNumber after toJSON() (a JSON.stringify replacer sees these). */
export function isMarkedNumber(s: unknown): boolean {
  return typeof s === 'string' && s.startsWith(OPEN);
}

/** The JSON text with ExactNumbers written as their own text; free when none was ever made. */
export function restoreNumbers(json: string): string {
  return created && json.includes(OPEN) ? json.replace(MARKED, '$1') : json;
}

/** JSON.stringify that keeps ExactNumbers exact. */
export function stringifyExact(value: unknown, replacer?: (this: unknown, key: string, value: unknown) => unknown): string {
  const s = JSON.stringify(value, replacer);
  return s === undefined ? s : restoreNumbers(s);
}

/** Is the number token starting at `start` one whose text a double would change? */
function riskyToken(text: string, start: number): boolean {
  let i = start;
  let c = text.charCodeAt(i);
  if (c === 45) c = text.charCodeAt(++i);
  if (c < 48 || c > 57) return false;
  let plain = true;
  for (;;) {
    c = text.charCodeAt(++i);
    if (c >= 48 && c <= 57) continue;
    if (c === 46 || c === 101 || c === 69 || c === 43 || c === 45) {
      plain = false;
      continue;
    }
    break;
  }
  // A number ends at a delimiter (or the end); anything else (a time inside a string) is no number.
  if (!(c === 44 || c === 125 || c === 93 || c === 32 || c === 9 || c === 13 || c === 10 || Number.isNaN(c))) return false;
  const len = i - start;
  // Integers of up to 15 digits always print as written, except -0.
  if (plain && len < 16) return len === 2 && text.charCodeAt(start) === 45 && text.charCodeAt(start + 1) === 48;
  const tok = text.slice(start, i);
  return String(Number(tok)) !== tok;
}

function riskyAfter(text: string, sep: string): boolean {
  for (let p = text.indexOf(sep); p !== -1; p = text.indexOf(sep, p + 1)) {
    let q = p + 1;
    let c = text.charCodeAt(q);
    while (c === 32 || c === 9 || c === 10 || c === 13) c = text.charCodeAt(++q);
    if (((c >= 48 && c <= 57) || c === 45) && riskyToken(text, q)) return true;
  }
  return false;
}

/**
 * Could this JSON text hold a number that a double changes (16+ digits, an exponent, a fraction
 * ending in 0, -0, 1e-7 …)? A number follows `:` (or, in arrays, `[` or `,`) and ends at a
 * delimiter; each candidate is checked by printing it back. Candidates inside strings are false
 * positives (the slow path then finds nothing to keep); a risky number is never missed. Scanning
 * with indexOf instead of one regular expression: the regexp cost ~10k instructions per 540-byte
 * event line (callgrind), about 15 % of analyze.
 */
export function mayHoldInexactNumber(text: string): boolean {
  if (riskyAfter(text, ':')) return true;
  return text.includes('[') && (riskyAfter(text, '[') || riskyAfter(text, ','));
}

/** A number token's value as every reader keeps it: a double when it prints back as written, else its text. */
export function exactOrNumber(text: string): number | ExactNumber {
  const n = Number(text);
  return String(n) === text ? n : new ExactNumber(text);
}

/** Parses JSON text that JSON.parse accepted, keeping every number's text. */
export function parseExact(text: string): unknown {
  return losslessParse(text, null, { parseNumber: exactOrNumber, onDuplicateKey: ({ newValue }) => newValue });
}

/** JSON.parse (its errors, its speed) with numbers kept exact where a double would change them. */
export function parseJson(text: string): unknown {
  const value = JSON.parse(text);
  return mayHoldInexactNumber(text) ? parseExact(text) : value;
}
