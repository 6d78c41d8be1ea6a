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

/**
 * Could this JSON text hold a number that a double changes? A number follows `:`, `[` or `,`
 * and ends before whitespace, `,`, `]` or `}`; risky ones have 16+ digits, an exponent, a
 * fraction ending in 0, six zeros after `0.`, or are -0. A hit inside a string is a false
 * positive (the slow path then finds nothing to keep); a risky number is never missed.
 */
const RISKY = /[:,[]\s*(?:-?(?:[0-9.]{16}|[0-9]+(?:\.[0-9]+)?[eE]|[0-9]+\.[0-9]*0(?=[\s,\]}])|0\.000000)|-0(?=[\s,\]}]))/;

export function mayHoldInexactNumber(text: string): boolean {
  return RISKY.test(text);
}

function exactOrNumber(text: string): number | ExactNumber {
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
