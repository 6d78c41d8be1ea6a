import { describe, expect, it } from 'vitest';
import { KeyMemory } from '../../../src/rules/key-memory.js';

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
