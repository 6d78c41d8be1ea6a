// Run-wide duplicate memory for `EntryContext.remember`: each key is kept as a 64-bit hash and
// the position where it was first seen, 16 bytes per slot in one typed array, instead of a
// Map of strings (~100 bytes per key and a large GC heap at a million distinct emails).
// Memory still grows with the number of distinct keys (exact duplicate detection needs that),
// about 20–40 bytes per key. Two different keys are taken for the same one only if their 64-bit
// hashes agree: for a run of 10^6 distinct keys the chance of any such false duplicate is about
// 3·10^-8 (n²/2^65).

const EMPTY = 0;
const MIN_SLOTS = 1024;

/** 64 bits of a string (two 32-bit lanes of cyrb53's mixing, both kept); never (0, 0). */
export function hash64(key: string, out: Int32Array): void {
  let h1 = 0xdeadbeef ^ key.length;
  let h2 = 0x41c6ce57 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[0] = h1;
  out[1] = h2 === 0 && h1 === 0 ? 1 : h2;
}

/** Open addressing, linear probing; a slot is [hash hi, hash lo, line, file + 1] (file + 1 = 0: empty). */
export class KeyMemory {
  private slots = new Int32Array(MIN_SLOTS * 4);
  private mask = MIN_SLOTS - 1;
  private used = 0;
  private readonly h = new Int32Array(2);

  get size(): number {
    return this.used;
  }

  /**
   * Remembers `key` at (file, line) unless it is already known; returns the slot's index when
   * it was (read the first position with fileAt/lineAt), or -1 when the key is new.
   */
  seen(key: string, file: number, line: number): number {
    const h = this.h;
    hash64(key, h);
    const h1 = h[0]!;
    const h2 = h[1]!;
    const s = this.slots;
    let i = (h1 ^ (h2 >>> 7)) & this.mask;
    for (;;) {
      const at = i * 4;
      if (s[at + 3] === EMPTY) break;
      if (s[at] === h1 && s[at + 1] === h2) return i;
      i = (i + 1) & this.mask;
    }
    const at = i * 4;
    s[at] = h1;
    s[at + 1] = h2;
    s[at + 2] = line | 0;
    s[at + 3] = file + 1;
    // Grow at 3/4 full: linear probing stays short, and a slot costs 16 bytes.
    if (++this.used * 4 > (this.mask + 1) * 3) this.grow();
    return -1;
  }

  fileAt(slot: number): number {
    return this.slots[slot * 4 + 3]! - 1;
  }

  lineAt(slot: number): number {
    return this.slots[slot * 4 + 2]! >>> 0;
  }

  private grow(): void {
    const old = this.slots;
    const n = (this.mask + 1) * 2;
    const s = new Int32Array(n * 4);
    const mask = n - 1;
    for (let at = 0; at < old.length; at += 4) {
      if (old[at + 3] === EMPTY) continue;
      const h1 = old[at]!;
      const h2 = old[at + 1]!;
      let i = (h1 ^ (h2 >>> 7)) & mask;
      while (s[i * 4 + 3] !== EMPTY) i = (i + 1) & mask;
      const to = i * 4;
      s[to] = h1;
      s[to + 1] = h2;
      s[to + 2] = old[at + 2]!;
      s[to + 3] = old[at + 3]!;
    }
    this.slots = s;
    this.mask = mask;
  }
}
