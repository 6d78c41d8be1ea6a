// Run-wide duplicate memory for `EntryContext.remember`: an exact set of the keys, with where
// each was first seen, kept off the JS heap (a Map of strings costs ~100 bytes a key and a large
// GC heap at a million distinct emails).
//
// - The keys themselves are appended to an arena of 1 MiB byte chunks, one record each:
//   [line][domain][length][code units]. A key's part from its last '@' (an email's domain) is
//   interned, up to 65,536 distinct ones, so `user123@uni.example.edu` stores 7 bytes of text.
//   Code units are one byte each when every one is below 256, else two (UTF-16 as it is: two
//   different strings never share a record, lone surrogates included).
// - The table is open addressing with linear probing over two typed arrays: a record's arena
//   offset (4 bytes) and 8 bits of its 64-bit hash (1 byte). A probe reads the arena only when
//   those 8 bits agree, and then compares the whole key: no false duplicates, no missed ones.
// - Growing rebuilds the table from the arena (hashes recomputed), after the old table is
//   dropped: no transient doubling. At 10^6 distinct emails like the benchmark's: ~15 MB of
//   arena + 2^21 slots × 5 bytes = 10 MB (BENCHMARKS.md).
// The file of a record is not stored per record: the files of a run change rarely, so the
// arena offsets where the file changes are listed once.

const CHUNK = 1 << 20;
const MIN_SLOTS = 1024;
const MAX_DOMAINS = 1 << 16;
/** Arena offsets are 32-bit; offset 0 is never a record (0 marks an empty slot). */
const MAX_ARENA = 2 ** 32 - 1;

// 64 bits of a key's identity, (domain id, the n code units before the domain): cyrb53's mixing
// in two 32-bit lanes, both kept. Only the part before the domain is hashed, which keeps both
// the lookup and the rebuild on growth short. Three loops over where the units are: a string,
// the arena's one-byte units, its two-byte units.
const M1 = 2654435761;
const M2 = 1597334677;

function hashString(key: string, n: number, domain: number, out: Int32Array): void {
  let h1 = Math.imul(0xdeadbeef ^ n ^ domain, M1);
  let h2 = Math.imul(0x41c6ce57 ^ n ^ domain, M2);
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, M1);
    h2 = Math.imul(h2 ^ c, M2);
  }
  finish(h1, h2, out);
}

function hashBytes(b: Uint8Array, p: number, n: number, domain: number, out: Int32Array): void {
  let h1 = Math.imul(0xdeadbeef ^ n ^ domain, M1);
  let h2 = Math.imul(0x41c6ce57 ^ n ^ domain, M2);
  for (let i = p; i < p + n; i++) {
    const c = b[i]!;
    h1 = Math.imul(h1 ^ c, M1);
    h2 = Math.imul(h2 ^ c, M2);
  }
  finish(h1, h2, out);
}

function hashWide(b: Uint8Array, p: number, n: number, domain: number, out: Int32Array): void {
  let h1 = Math.imul(0xdeadbeef ^ n ^ domain, M1);
  let h2 = Math.imul(0x41c6ce57 ^ n ^ domain, M2);
  for (let i = p; i < p + 2 * n; i += 2) {
    const c = b[i]! | (b[i + 1]! << 8);
    h1 = Math.imul(h1 ^ c, M1);
    h2 = Math.imul(h2 ^ c, M2);
  }
  finish(h1, h2, out);
}

function finish(h1: number, h2: number, out: Int32Array): void {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[0] = h1;
  out[1] = h2;
}

const home = (h: Int32Array, mask: number): number => (h[0]! ^ (h[1]! >>> 7)) & mask;
const tag = (h: Int32Array): number => h[1]! >>> 24;

/** An exact set of strings, each with the (file, line) where it was first seen. */
export class KeyMemory {
  private offsets = new Uint32Array(MIN_SLOTS);
  private tags = new Uint8Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private used = 0;
  private readonly h = new Int32Array(2);
  /** Arena chunks, each with the global offset of its first byte and how much of it is used. */
  private readonly chunks: Uint8Array[] = [];
  private readonly starts: number[] = [];
  private readonly fills: number[] = [];
  private chunk: Uint8Array;
  /** The next free byte of `chunk`, and the global offset of the chunk's first byte. */
  private pos: number;
  private base = 0;
  private readonly domains: string[] = [];
  private readonly domainIds = new Map<string, number>();
  private lastDomain = 0;
  /** Arena offsets where the file changes, and the file from there on. */
  private readonly fileFrom: number[] = [];
  private readonly fileOf: number[] = [];
  /** Where `read` left off: the decoded record's domain id, unit count and width. */
  private rDomain = 0;
  private rUnits = 0;
  private rWide = 0;

  constructor() {
    this.chunk = new Uint8Array(CHUNK);
    this.chunks.push(this.chunk);
    this.starts.push(0);
    this.fills.push(1);
    this.pos = 1;
  }

  get size(): number {
    return this.used;
  }

  /**
   * Remembers `key` at (file, line) unless it is already known; returns a handle when it was
   * (read the first position with fileAt/lineAt), or -1 when the key is new.
   */
  seen(key: string, file: number, line: number): number {
    const at = key.lastIndexOf('@');
    const domain = this.domainOf(key, at);
    const n = domain === 0 ? key.length : at;
    const h = this.h;
    hashString(key, n, domain, h);
    const t = tag(h);
    const offsets = this.offsets;
    const tags = this.tags;
    let i = home(h, this.mask);
    for (;;) {
      const off = offsets[i]!;
      if (off === 0) break;
      if (tags[i] === t && this.equals(off, key, n, domain)) return off;
      i = (i + 1) & this.mask;
    }
    offsets[i] = this.append(key, n, domain, file, line);
    tags[i] = t;
    // Grow at 3/4 full: linear probing stays short.
    if (++this.used * 4 > (this.mask + 1) * 3) this.grow();
    return -1;
  }

  fileAt(handle: number): number {
    const from = this.fileFrom;
    let lo = 0;
    let hi = from.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (from[mid]! <= handle) lo = mid;
      else hi = mid - 1;
    }
    return this.fileOf[lo]!;
  }

  lineAt(handle: number): number {
    const c = this.chunkAt(handle);
    let p = handle - this.starts[c]!;
    const bytes = this.chunks[c]!;
    let line = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[p++]!;
      line += (b & 0x7f) * scale;
      if (b < 0x80) return line;
      scale *= 128;
    }
  }

  /**
   * The interned id + 1 of the key's part from `at` (0: the key is stored in full: it has no '@',
   * or the dictionary was full when its domain first came). A domain is interned the first time
   * it is seen or never, so every key has one way of being stored.
   */
  private domainOf(key: string, at: number): number {
    if (at < 0) return 0;
    // Most keys of a run share a few domains: the last one is checked without slicing the key.
    const last = this.lastDomain;
    if (last !== 0 && key.length - at === this.domains[last - 1]!.length && key.endsWith(this.domains[last - 1]!)) return last;
    const d = key.slice(at);
    const id = this.domainIds.get(d);
    if (id !== undefined) return (this.lastDomain = id);
    if (this.domains.length >= MAX_DOMAINS) return 0;
    this.domains.push(d);
    this.domainIds.set(d, this.domains.length);
    return (this.lastDomain = this.domains.length);
  }

  private chunkAt(offset: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private append(key: string, n: number, domain: number, file: number, line: number): number {
    let wide = 0;
    for (let i = 0; i < n; i++) if (key.charCodeAt(i) > 0xff) { wide = 1; break; }
    const size = 8 + 3 + 6 + n * (1 + wide);
    if (this.pos + size > this.chunk.length) this.newChunk(size);
    const off = this.base + this.pos;
    if (off > MAX_ARENA) throw new RangeError('duplicate memory: more than 4 GiB of distinct keys');
    const b = this.chunk;
    let p = varint(b, this.pos, line);
    p = varint(b, p, domain);
    p = varint(b, p, n * 2 + wide);
    if (wide) for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      b[p++] = c & 0xff;
      b[p++] = c >>> 8;
    }
    else for (let i = 0; i < n; i++) b[p++] = key.charCodeAt(i);
    this.pos = p;
    this.fills[this.fills.length - 1] = p;
    const files = this.fileOf;
    if (files.length === 0 || files[files.length - 1] !== file) {
      this.fileFrom.push(off);
      files.push(file);
    }
    return off;
  }

  private newChunk(size: number): void {
    this.base += this.pos;
    this.chunk = new Uint8Array(Math.max(CHUNK, size));
    this.chunks.push(this.chunk);
    this.starts.push(this.base);
    this.fills.push(0);
    this.pos = 0;
  }

  /** Reads the record at `p` (after its line) into rDomain, rUnits, rWide; returns where its units start. */
  private read(bytes: Uint8Array, p: number): number {
    while (bytes[p++]! >= 0x80);
    let d = bytes[p++]!;
    if (d >= 0x80) {
      d = (d & 0x7f) | ((bytes[p++]! & 0x7f) << 7);
      if (bytes[p - 1]! >= 0x80) d |= bytes[p++]! << 14;
    }
    let len = 0;
    for (let s = 1; ; s *= 128) {
      const b = bytes[p++]!;
      len += (b & 0x7f) * s;
      if (b < 0x80) break;
    }
    this.rDomain = d;
    this.rWide = len % 2;
    this.rUnits = Math.floor(len / 2);
    return p;
  }

  private equals(off: number, key: string, n: number, domain: number): boolean {
    const c = this.chunkAt(off);
    const bytes = this.chunks[c]!;
    const p = this.read(bytes, off - this.starts[c]!);
    if (this.rDomain !== domain || this.rUnits !== n) return false;
    if (this.rWide) {
      for (let i = 0; i < n; i++) if (key.charCodeAt(i) !== (bytes[p + 2 * i]! | (bytes[p + 2 * i + 1]! << 8))) return false;
    } else {
      for (let i = 0; i < n; i++) if (key.charCodeAt(i) !== bytes[p + i]) return false;
    }
    return true;
  }

  /** Doubles the table and fills it again from the arena, in record order (the old table is dropped first). */
  private grow(): void {
    const slots = (this.mask + 1) * 2;
    this.offsets = new Uint32Array(0);
    this.tags = new Uint8Array(0);
    const offsets = new Uint32Array(slots);
    const tags = new Uint8Array(slots);
    const mask = slots - 1;
    const h = this.h;
    for (let c = 0; c < this.chunks.length; c++) {
      const bytes = this.chunks[c]!;
      const fill = this.fills[c]!;
      const start = this.starts[c]!;
      for (let p = c === 0 ? 1 : 0; p < fill;) {
        const off = start + p;
        p = this.read(bytes, p);
        const n = this.rUnits;
        if (this.rWide) {
          hashWide(bytes, p, n, this.rDomain, h);
          p += 2 * n;
        } else {
          hashBytes(bytes, p, n, this.rDomain, h);
          p += n;
        }
        let i = home(h, mask);
        while (offsets[i] !== 0) i = (i + 1) & mask;
        offsets[i] = off;
        tags[i] = tag(h);
      }
    }
    this.offsets = offsets;
    this.tags = tags;
    this.mask = mask;
  }
}

/** Writes `v` (a whole number up to 2^53) as 7-bit groups, low first; returns the next position. */
function varint(b: Uint8Array, p: number, v: number): number {
  if (v < 0x80) {
    b[p] = v;
    return p + 1;
  }
  while (v >= 0x80) {
    b[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
}
