import { describe, expect, it } from 'vitest';
import { KeyMemory } from '../../../src/rules/key-memory.js';
import fc from 'fast-check';

describe('KeyMemory (remember)', () => {
  it('finds every repeated key with the position it was first seen at, across growth', () => {
    const m = new KeyMemory();
    const n = 50_000;
    let repeated = 0;
    for (let i = 0; i < n; i++) if (m.seen(`user${i}@example.org`, i % 3, i + 1) !== -1) repeated++;
    expect(repeated).toBe(0);
    expect(m.size).toBe(n);
    for (let i = 0; i < n; i += 997) {
      const slot = m.seen(`user${i}@example.org`, 9, 1);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect([m.fileAt(slot), m.lineAt(slot)]).toEqual([i % 3, i + 1]);
    }
    expect(m.size).toBe(n);
  });

  it('tells apart keys that differ in one character, in case, or only in length', () => {
    const m = new KeyMemory();
    const keys = ['', 'a', 'A', 'aa', 'ab', 'ba', 'é', 'e\u0301', '\u0000', '\u0000\u0000', 'R-1', 'R-10', 'R-01'];
    for (const k of keys) expect(m.seen(k, 0, 1)).toBe(-1);
    for (const k of keys) expect(m.seen(k, 0, 2)).toBeGreaterThanOrEqual(0);
  });

  it('keeps line numbers past 2^31', () => {
    const m = new KeyMemory();
    m.seen('k', 0, 3_000_000_000);
    expect(m.lineAt(m.seen('k', 0, 1))).toBe(3_000_000_000);
  });
});

describe('KeyMemory is an exact set (compared with a Map of the keys)', () => {
  /** Every answer of the memory, compared with a Map's (one expect per run: vitest's expect is slow per key). */
  const check = (keys: string[]) => {
    const m = new KeyMemory();
    const first = new Map<string, [number, number]>();
    const wrong: string[] = [];
    keys.forEach((k, i) => {
      const file = i >> 4;
      const line = i + 1;
      const h = m.seen(k, file, line);
      const want = first.get(k);
      if (want === undefined) {
        if (h !== -1) wrong.push(`${JSON.stringify(k)} (line ${line}) taken for a repeat`);
        first.set(k, [file, line]);
      } else if (h < 0) wrong.push(`${JSON.stringify(k)} (line ${line}) not found`);
      else if (m.fileAt(h) !== want[0] || m.lineAt(h) !== want[1]) wrong.push(`${JSON.stringify(k)}: first seen at ${m.fileAt(h)}:${m.lineAt(h)}, not ${want.join(':')}`);
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(m.size).toBe(first.size);
  };

  it('over random keys: emails, an @ anywhere, wide characters, lone surrogates', () => {
    const part = fc.oneof(
      fc.constantFrom('', '@', 'a', 'A', 'user1', 'uni.example.edu', 'é', '\u{1F600}', '\ud800', '\udfff', '\u0100', '\u00ff'),
      fc.string({ maxLength: 6 }),
      fc.string({ unit: 'binary', maxLength: 4 }),
    );
    const key = fc.array(part, { maxLength: 5 }).map((p) => p.join(''));
    fc.assert(fc.property(fc.array(key, { maxLength: 300 }), (keys) => check([...keys, ...keys.slice().reverse()])), { numRuns: 300 });
  });

  it('across growth, 8-bit tag clashes and many chunks (200,000 keys, every third one repeated)', () => {
    const keys: string[] = [];
    for (let i = 0; i < 200_000; i++) keys.push(i % 3 === 0 && i > 0 ? `user${i - 3}@uni.example.edu` : `user${i}@uni.example.edu`);
    for (let i = 0; i < 20_000; i++) keys.push(`R-${i}`, `r-${i}`, `R-${i}`);
    check(keys);
  });

  it('when the domains no longer fit the dictionary (70,000 distinct ones), and for keys longer than a chunk', () => {
    const keys: string[] = [];
    for (let i = 0; i < 70_000; i++) keys.push(`a@d${i}.example`, `b@d${i}.example`);
    for (let i = 0; i < 70_000; i += 7) keys.push(`a@d${i}.example`, `c@d${i}.example`);
    const long = 'x'.repeat(1_500_000);
    keys.push(long, `${long}@x`, long.slice(1), `${long}@x`, long, 'y'.repeat(600_000) + '\u0100', 'y'.repeat(600_000) + '\u0100');
    check(keys);
  });

  it('keeps line numbers up to 2^53', () => {
    const m = new KeyMemory();
    m.seen('k', 0, 2 ** 53 - 1);
    expect(m.lineAt(m.seen('k', 0, 1))).toBe(2 ** 53 - 1);
  });
});
