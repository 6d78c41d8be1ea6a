// One NDJSON line's bytes read as JSON.parse reads them, but only the fields asked for become values;
// the rest is checked (grammar, UTF-8) and skipped. An optimisation only: unsure, it says so (false)
// and the caller parses the line the exact way (ndjson-reader.ts). It takes a strict subset of what
// that way takes (an object, no deeper than MAX_SPARSE_DEPTH, bytes checked as UTF-8) and gives the
// same values: last duplicate key wins, numbers as exact-number.ts keeps them, escapes decoded as
// JSON.parse does. A wanted field holding an object or array, or a wanted key with escapes: false.
import { exactOrNumber } from './exact-number.js';
import type { JsonValue } from './json.js';
import { matchKey, rememberKey, seenKey, type KeyLevel, type KeyTree } from './sparse-keys.js';
import { ESCAPED, LOOK, QUOTES, UNBUILT, type ValueClasses } from './sparse-classes.js';

export { keyTree, type KeyLevel, type KeyNode, type KeyTree } from './sparse-keys.js';
export { ESCAPED, LOOK, QUOTES, UNBUILT, type ValueClasses } from './sparse-classes.js';

/** Objects nested deeper than this are left to the exact parser (it checks the real limit). */
export const MAX_SPARSE_DEPTH = 64;

/** Thrown-free failure: the scanner's functions return FAIL and every caller passes it up. */
const FAIL = -1;

/** 1 for the bytes a string holds as they are: printable ASCII but the quote and the backslash. */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === 0x22 || c === 0x5c ? 0 : 1;

/** Reads lines against one key tree; reuse it for every line. */
export class SparseScanner {
  private buf: Buffer = Buffer.alloc(0);
  private end = 0;
  /** The bytes of `textOf` as a one-byte string: ASCII values are cut from it (one decode per buffer, not per value). */
  private text = '';
  private textOf: Buffer | null = null;
  /** The last string scanned: it held an escape, a non-ASCII byte; its only escapes were quotes (value()). */
  private escaped = false;
  private wide = false;
  private quoted = false;

  /** Each slot's value after a scan (undefined: the line has no such field; UNBUILT: see `raw`). */
  readonly values: (JsonValue | undefined | typeof UNBUILT)[];
  /** Each primitive value's token in the line's buffer, [starts, ends) (a string's quotes included). */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** With ValueClasses: a string value's flags (its bytes' classes, LOOK, ESCAPED); other values' are stale. */
  readonly flags: Uint8Array;
  private readonly top: KeyLevel;
  /** With ValueClasses: 1 for the bytes a string value's loop passes over (plain, and no class; raw: and over 0x7f). */
  private readonly plainValue: Uint8Array | null = null;
  private readonly plainRaw: Uint8Array | null = null;

  /** `raw` (with ValueClasses, 1 per slot): strings there with no escape but `\"` are left UNBUILT (stringAt() builds one). */
  constructor(tree: KeyTree, private readonly valueClasses?: ValueClasses, private readonly raw?: Uint8Array) {
    this.top = tree.top;
    this.values = new Array<JsonValue | undefined>(tree.slots).fill(undefined);
    this.flags = new Uint8Array(tree.slots);
    this.starts = new Int32Array(tree.slots);
    this.ends = new Int32Array(tree.slots);
    if (valueClasses) {
      const plain = new Uint8Array(256);
      for (let c = 0; c < 0x80; c++) plain[c] = PLAIN[c]! === 1 && valueClasses.classes[c] === 0 ? 1 : 0;
      this.plainValue = plain;
      this.plainRaw = plain.slice().fill(1, 0x80);
    }
  }

  /**
   * Reads a line into `values`; false: parse this line the exact way instead. The bytes must be
   * valid UTF-8 (the caller checks a whole block at once with isUtf8: far cheaper than here).
   */
  scan(buf: Buffer, start: number, end: number): boolean {
    this.buf = buf;
    this.end = end;
    this.values.fill(undefined);
    let i = this.ws(start);
    if (i >= end || buf[i] !== 0x7b) return false;
    i = this.object(i, this.top, 1);
    return i !== FAIL && this.ws(i) === end;
  }

  private ws(i: number): number {
    const b = this.buf;
    const end = this.end;
    while (i < end) {
      const c = b[i]!;
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
      i++;
    }
    return i;
  }

  /** An object at i (its `{`) whose wanted keys go into their slots; returns the index after its `}`. */
  private object(i: number, level: KeyLevel, depth: number): number {
    const b = this.buf;
    i = this.ws(i + 1);
    if (i >= this.end) return FAIL;
    if (b[i] === 0x7d) return i + 1;
    for (let place = 0; ; place++) {
      if (i >= this.end || b[i] !== 0x22) return FAIL;
      let node = level.seenNode[place]!;
      const seen = seenKey(level, place, b, i, this.end);
      if (seen !== -1) i = seen;
      else {
        const ks = i + 1;
        i = this.string(i);
        if (i === FAIL) return FAIL;
        node = matchKey(level, b, ks, i - 1);
        // An escaped key might spell a wanted one.
        if (this.escaped && node === -1 && level.bytes.length > 0) return FAIL;
        if (!this.escaped) rememberKey(level, place, b, ks, i - 1, node);
      }
      i = this.ws(i);
      if (i >= this.end || b[i] !== 0x3a) return FAIL;
      i = this.ws(i + 1);
      if (i >= this.end) return FAIL;
      if (node === -1) {
        i = this.skip(i, depth);
      } else {
        const want = level.nodes[node]!;
        const values = this.values;
        // A key seen again replaces all it held (JSON.parse keeps the last).
        for (let k = want.first; k < want.last; k++) values[k] = undefined;
        const c = b[i];
        if (c === 0x7b) {
          // A wanted object: walked into (its wanted keys), unless its whole value is a cell.
          if (want.leaf || want.children === null) return FAIL;
          if (depth >= MAX_SPARSE_DEPTH) return FAIL;
          i = this.object(i, want.children, depth + 1);
        } else if (c === 0x5b) {
          if (want.leaf) return FAIL;
          // Only walked: an array has no keys to read, as a string or null has none.
          i = this.skip(i, depth);
        } else {
          const s = i;
          const slot = want.slot;
          i = want.leaf && c === 0x22 && this.plainValue !== null ? this.value(i, slot) : this.skip(i, depth);
          if (i === FAIL) return FAIL;
          if (want.leaf) {
            this.starts[slot] = s;
            this.ends[slot] = i;
            values[slot] = c === 0x22 && this.raw !== undefined && this.raw[slot] === 1 && (this.flags[slot]! & ESCAPED) === 0 ? UNBUILT : this.primitive(s, i);
          }
        }
      }
      if (i === FAIL) return FAIL;
      i = this.ws(i);
      if (i >= this.end) return FAIL;
      const c = b[i];
      if (c === 0x7d) return i + 1;
      if (c !== 0x2c) return FAIL;
      i = this.ws(i + 1);
    }
  }

  /** The string an UNBUILT slot holds (from the last scan's buffer): rare (a cell made the exact way), decoded alone. */
  stringAt(slot: number): string {
    const text = this.buf.toString('utf8', this.starts[slot]! + 1, this.ends[slot]! - 1);
    return (this.flags[slot]! & QUOTES) !== 0 ? text.replaceAll('\\"', '"') : text;
  }

  /** A primitive value's token [s, e) as JSON.parse (with exact numbers) gives it. */
  private primitive(s: number, e: number): JsonValue {
    const b = this.buf;
    const c = b[s]!;
    if (c === 0x22) {
      if (this.escaped) return JSON.parse(b.toString('utf8', s, e)) as string;
      let text: string;
      if (this.wide) text = b.toString('utf8', s + 1, e - 1);
      else {
        if (this.textOf !== b) {
          this.textOf = b;
          this.text = b.toString('latin1');
        }
        text = this.text.slice(s + 1, e - 1);
      }
      // Every backslash began an escaped quote (value()): no other escape to undo.
      return this.quoted ? text.replaceAll('\\"', '"') : text;
    }
    if (c === 0x74) return true;
    if (c === 0x66) return false;
    if (c === 0x6e) return null;
    // A plain integer of up to 15 digits prints back as written (except -0): no text needed.
    if (e - s < 16) {
      let n = 0;
      let k = c === 0x2d ? s + 1 : s;
      for (; k < e; k++) {
        const d = b[k]! - 0x30;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
      }
      if (k === e && !(c === 0x2d && n === 0)) return c === 0x2d ? -n : n;
    }
    return exactOrNumber(b.toString('latin1', s, e)) as JsonValue;
  }

  /** Checks any value at i and returns the index after it. */
  private skip(i: number, depth: number): number {
    const b = this.buf;
    if (i >= this.end) return FAIL;
    const c = b[i];
    if (c === 0x22) return this.string(i);
    if (c === 0x7b || c === 0x5b) {
      if (depth >= MAX_SPARSE_DEPTH) return FAIL;
      const close = c === 0x7b ? 0x7d : 0x5d;
      i = this.ws(i + 1);
      if (i >= this.end) return FAIL;
      if (b[i] === close) return i + 1;
      for (;;) {
        if (c === 0x7b) {
          if (i >= this.end || b[i] !== 0x22) return FAIL;
          i = this.string(i);
          if (i === FAIL) return FAIL;
          i = this.ws(i);
          if (i >= this.end || b[i] !== 0x3a) return FAIL;
          i = this.ws(i + 1);
        }
        i = this.skip(i, depth + 1);
        if (i === FAIL) return FAIL;
        i = this.ws(i);
        if (i >= this.end) return FAIL;
        const d = b[i];
        if (d === close) return i + 1;
        if (d !== 0x2c) return FAIL;
        i = this.ws(i + 1);
      }
    }
    if (c === 0x74) return i + 4 <= this.end && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 ? i + 4 : FAIL;
    if (c === 0x66) return i + 5 <= this.end && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65 ? i + 5 : FAIL;
    if (c === 0x6e) return i + 4 <= this.end && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c ? i + 4 : FAIL;
    return this.number(i);
  }

  /** A number per the JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number(i: number): number {
    const b = this.buf;
    if (b[i] === 0x2d) i++;
    let c = b[i];
    if (c === 0x30) c = b[++i];
    else if (c !== undefined && c >= 0x31 && c <= 0x39) {
      do c = b[++i];
      while (c !== undefined && c >= 0x30 && c <= 0x39);
    } else return FAIL;
    if (c === 0x2e) {
      c = b[++i];
      if (c === undefined || c < 0x30 || c > 0x39) return FAIL;
      do c = b[++i];
      while (c !== undefined && c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45) {
      c = b[++i];
      if (c === 0x2b || c === 0x2d) c = b[++i];
      if (c === undefined || c < 0x30 || c > 0x39) return FAIL;
      do c = b[++i];
      while (c !== undefined && c >= 0x30 && c <= 0x39);
    }
    return i > this.end ? FAIL : i;
  }

  /** A wanted string value at i (its opening quote), as string() reads it, its flags collected (ValueClasses). */
  private value(i: number, slot: number): number {
    const b = this.buf;
    const end = this.end;
    // A raw slot's string is not decoded here: whether it is ASCII does not matter, its other bytes pass too.
    const plain = this.raw !== undefined && this.raw[slot] === 1 ? this.plainRaw! : this.plainValue!;
    const { classes, look } = this.valueClasses!;
    const start = i + 1;
    let flags = 0;
    let wide = false;
    let quoted = false;
    i = start;
    for (;;) {
      while (plain[b[i]!] === 1) i++;
      if (i >= end) return FAIL;
      const c = b[i]!;
      if (c === 0x22) break;
      if (c === 0x5c) {
        // An escaped quote (its class is the quote's); any other escape: read the plain way, the
        // text is JSON.parse's and its classes unknown.
        const k = classes[0x22]!;
        if (b[i + 1] === 0x22 && (k & LOOK) === 0) {
          flags |= k;
          quoted = true;
          i += 2;
          continue;
        }
        this.flags[slot] = ESCAPED;
        return this.string(start - 1);
      }
      if (c >= 0x80) wide = true;
      else if (c < 0x20) return FAIL;
      else {
        const k = classes[c]!;
        flags |= k & ~LOOK;
        if ((k & LOOK) !== 0 && (flags & LOOK) === 0 && look(b, start, i, c)) flags |= LOOK;
      }
      i++;
    }
    this.escaped = false;
    this.wide = wide;
    this.quoted = quoted;
    this.flags[slot] = flags | (quoted ? QUOTES : 0);
    return i + 1;
  }

  /** A string at i (its opening quote): checked (escapes, control bytes, UTF-8); the index after its closing quote. */
  private string(i: number): number {
    const b = this.buf;
    const end = this.end;
    let escaped = false;
    let wide = false;
    i++;
    for (;;) {
      // Plain ASCII runs in one tight loop; it stops at any byte of another class (or past the buffer).
      while (PLAIN[b[i]!] === 1) i++;
      if (i >= end) return FAIL;
      const c = b[i]!;
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        const n = b[i + 1];
        if (n === 0x75) {
          for (let k = 2; k < 6; k++) {
            const h = b[i + k];
            if (h === undefined || !((h >= 0x30 && h <= 0x39) || ((h | 0x20) >= 0x61 && (h | 0x20) <= 0x66))) return FAIL;
          }
          i += 6;
        } else if (n === 0x22 || n === 0x5c || n === 0x2f || n === 0x62 || n === 0x66 || n === 0x6e || n === 0x72 || n === 0x74) {
          i += 2;
        } else return FAIL;
      } else if (c < 0x80) {
        // A control byte (the quote and backslash were taken above).
        return FAIL;
      } else {
        // Part of a UTF-8 sequence (the caller has checked the bytes are valid UTF-8).
        wide = true;
        i++;
      }
    }
    this.escaped = escaped;
    this.wide = wide;
    this.quoted = false;
    return i + 1;
  }
}
