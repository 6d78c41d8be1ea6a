import { describe, expect, it } from 'vitest';
import { normalizeEvent } from '../../../src/event/normalize.js';
import type { JsonObject } from '../../../src/event/event.js';

const ctx = { file: 'stdin', line: 1, now: '2026-11-21T00:00:00.000Z' };

describe('normalizeEvent keeps unknown fields in details', () => {
  it('a field named __proto__ is data kept in details, never the prototype', () => {
    const rec = JSON.parse('{"category":"Unclaimed Records","__proto__":{"x":1},"y":2}') as JsonObject;
    const ev = normalizeEvent(rec, ctx);
    expect(Object.getPrototypeOf(ev.details)).toBe(Object.prototype);
    expect(JSON.stringify(ev.details)).toBe('{"__proto__":{"x":1},"y":2}');
  });
});
