// One NDJSON line's bytes read as JSON.parse reads them, but only the fields asked for become
// values: the rest of the line is checked (grammar, UTF-8) and skipped. export-csv needs ten
// fields of a ~540-byte event; building all of it (JSON.parse), decoding the whole line and
// scanning it for inexact numbers first cost ~6 µs a line, this ~1.5 µs (BENCHMARKS.md, issue 16).
//
// It is an optimisation only: whenever the scanner is not sure, it says so (false) and the caller
// parses the line the one exact way (ndjson-reader.ts). It accepts a strict subset of what that
// way accepts (a JSON object, no deeper than MAX_SPARSE_DEPTH; the caller has checked the bytes
// are valid UTF-8), and gives the same
// values for the fields it builds: last duplicate key wins, numbers as exact-number.ts keeps them,
// strings with escapes through JSON.parse itself. A wanted field holding an object or array, or a
// wanted key written with escapes, also gives false: the caller then has the whole record.
import { exactOrNumber } from './exact-number.js';
import type { JsonValue } from './json.js';

/** Which keys of one object level to build: a leaf is built as a value, a walk is read into. */
export interface KeyLevel {
  /** Each key as UTF-8 bytes, beside its name and node. */
  bytes: Uint8Array[];
  names: string[];
  nodes: KeyNode[];
}

/** One wanted key: its value is built (leaf), and/or its object's wanted keys are (walk). */
export interface KeyNode {
  leaf: boolean;
  children: KeyLevel | null;
  /** Where its value goes in the scan's values (a leaf). */
  slot: number;
  /** Its descendants' slots, [first, last): cleared at each occurrence of the key (the last one wins). */
  first: number;
  last: number;
}

/** Objects nested deeper than this are left to the exact parser (it checks the real limit). */
export const MAX_SPARSE_DEPTH = 64;

function newLevel(): KeyLevel {
  return { bytes: [], names: [], nodes: [] };
}

/**
 * The key tree for a list of paths (each a list of keys: the last one's value is built, the
 * ones before are objects walked into). Null when a key is a name every object inherits
 * (`constructor`, `__proto__`…): a record without that key would not read as JSON.parse's does.
 */
export function keyTree(paths: readonly (readonly string[])[]): KeyTree | null {
  const top = newLevel();
  for (const path of paths) {
    let level = top;
    for (let k = 0; k < path.length; k++) {
      const name = path[k]!;
      if (name in Object.prototype || name === '__proto__') return null;
      let at = level.names.indexOf(name);
      if (at === -1) {
        at = level.names.length;
        level.names.push(name);
        level.bytes.push(Buffer.from(name, 'utf8'));
        level.nodes.push({ leaf: false, children: null, slot: -1, first: 0, last: 0 });
      }
      const node = level.nodes[at]!;
      if (k === path.length - 1) node.leaf = true;
      else level = node.children ??= newLevel();
    }
  }
  let slots = 0;
  const number = (level: KeyLevel): void => {
    for (const node of level.nodes) {
      node.slot = slots++;
      node.first = slots;
      if (node.children) number(node.children);
      node.last = slots;
    }
  };
  number(top);
  return { top, slots, slotOf: (path) => slotOf(top, path) };
}

/** A key tree with its slots numbered: a scan fills one value per slot (undefined: absent). */
export interface KeyTree {
  top: KeyLevel;
  slots: number;
  /** The slot of a path given to keyTree. */
  slotOf(path: readonly string[]): number;
}

function slotOf(level: KeyLevel, path: readonly string[]): number {
  let node: KeyNode | undefined;
  for (const name of path) {
    node = level.nodes[level.names.indexOf(name)];
    if (node === undefined) throw new Error(`no slot for ${path.join('.')}`);
    level = node.children!;
  }
  return node!.slot;
}

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
  /** The last string scanned: it held an escape, a non-ASCII byte. */
  private escaped = false;
  private wide = false;

  /** Each slot's value after a scan (undefined: the line has no such field). */
  readonly values: (JsonValue | undefined)[];
  private readonly top: KeyLevel;

  constructor(tree: KeyTree) {
    this.top = tree.top;
    this.values = new Array<JsonValue | undefined>(tree.slots).fill(undefined);
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
    for (;;) {
      if (i >= this.end || b[i] !== 0x22) return FAIL;
      const ks = i + 1;
      i = this.string(i);
      if (i === FAIL) return FAIL;
      const node = this.match(level, ks, i - 1);
      if (node === FAIL) return FAIL;
      i = this.ws(i);
      if (i >= this.end || b[i] !== 0x3a) return FAIL;
      i = this.ws(i + 1);
      if (i >= this.end) return FAIL;
      if (node === null) {
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
          i = this.skip(i, depth);
          if (i === FAIL) return FAIL;
          if (want.leaf) values[want.slot] = this.primitive(s, i);
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

  /** The wanted key the bytes [s, e) name: its index, null (not wanted) or FAIL (escaped: unsure). */
  private match(level: KeyLevel, s: number, e: number): number | null {
    const n = e - s;
    const b = this.buf;
    const keys = level.bytes;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      if (key.length !== n) continue;
      let j = 0;
      while (j < n && key[j] === b[s + j]) j++;
      if (j === n) return k;
    }
    // An escaped key might spell a wanted one.
    return this.escaped && keys.length > 0 ? FAIL : null;
  }

  /** A primitive value's token [s, e) as JSON.parse (with exact numbers) gives it. */
  private primitive(s: number, e: number): JsonValue {
    const b = this.buf;
    const c = b[s]!;
    if (c === 0x22) {
      if (this.escaped) return JSON.parse(b.toString('utf8', s, e)) as string;
      if (this.wide) return b.toString('utf8', s + 1, e - 1);
      if (this.textOf !== b) {
        this.textOf = b;
        this.text = b.toString('latin1');
      }
      return this.text.slice(s + 1, e - 1);
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
    return i + 1;
  }
}
