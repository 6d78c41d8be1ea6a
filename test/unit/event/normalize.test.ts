import { describe, expect, it } from 'vitest';
import { normalizeEvent } from '../../../src/event/normalize.js';
import type { JsonObject } from '../../../src/event/event.js';
import { ExactNumber } from '../../../src/stream/exact-number.js';

const ctx = { file: 'stdin', line: 1, now: '2026-11-21T00:00:00.000Z' };

describe('normalizeEvent keeps unknown fields in details', () => {
  it('a field named __proto__ is data kept in details, never the prototype', () => {
    const rec = JSON.parse('{"category":"Unclaimed Records","__proto__":{"x":1},"y":2}') as JsonObject;
    const ev = normalizeEvent(rec, ctx);
    expect(Object.getPrototypeOf(ev.details)).toBe(Object.prototype);
    expect(JSON.stringify(ev.details)).toBe('{"__proto__":{"x":1},"y":2}');
  });
});

describe('normalizeEvent says what was wrong with the value as written', () => {
  it('an event_type or timestamp kept exact (1.0) is named by its text, never by its private marker', () => {
    expect(() => normalizeEvent({ event_type: new ExactNumber('1.0') } as unknown as JsonObject, ctx)).toThrow('event_type must be "error" or "success", got 1.0');
    expect(() => normalizeEvent({ event_type: 'error', timestamp: new ExactNumber('1e3') } as unknown as JsonObject, ctx)).toThrow('timestamp is not a date: 1e3');
  });
});
