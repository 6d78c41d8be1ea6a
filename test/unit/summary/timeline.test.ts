import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bucketStart, nextBucket, Timeline, TIMELINE_UNITS } from '../../../src/summary/timeline.js';
import { summarizeEvents } from '../../../src/summary/summary.js';
import { readPartial } from '../../../src/summary/summary-partial.js';

const T0 = Date.parse('2026-11-21T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function oneRun(times: Array<string | null>, cap: number) {
  const t = new Timeline(cap);
  for (const x of times) t.add(x);
  return t.toJSON();
}

describe('errors over time (mergeable histogram)', () => {
  it('counts by minute, and every error is in a bucket or untimed', () => {
    const h = oneRun([iso(T0 + 1000), iso(T0 + 59_999), iso(T0 + 60_000), null], 240);
    expect(h).toEqual({ bucket: '1m', counts: { '2026-11-21T00:00:00.000Z': 2, '2026-11-21T00:01:00.000Z': 1 }, untimed: 1 });
  });

  it('rolls up to the finest unit at which the non-empty buckets fit the cap', () => {
    // 10 errors, one per 7 minutes: 10 minutes > 4, 10 five-minute buckets > 4, 5 quarter hours > 4, 2 hours fit.
    const times = Array.from({ length: 10 }, (_, i) => iso(T0 + i * 7 * 60_000));
    const h = oneRun(times, 4);
    expect(h.bucket).toBe('1h');
    expect(h.counts).toEqual({ '2026-11-21T00:00:00.000Z': 9, '2026-11-21T01:00:00.000Z': 1 });
  });

  it('units nest: every bucket of a unit lies inside one bucket of the next', () => {
    fc.assert(
      fc.property(fc.integer({ min: -4e12, max: 8e12 }), fc.integer({ min: 0, max: TIMELINE_UNITS.length - 2 }), (ms, u) => {
        const fine = TIMELINE_UNITS[u]!;
        const coarse = TIMELINE_UNITS[u + 1]!;
        const s = bucketStart(ms, fine);
        expect(s).toBeLessThanOrEqual(ms);
        expect(nextBucket(s, fine)).toBeGreaterThan(ms);
        expect(bucketStart(s, coarse)).toBe(bucketStart(ms, coarse));
        expect(bucketStart(nextBucket(s, fine) - 1, coarse)).toBe(bucketStart(ms, coarse));
      }),
      { numRuns: 300 },
    );
  });

  it('merging the histograms of any split equals one pass over all (any cap)', () => {
    const arbTime = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 3 * 86_400_000 }).map((d) => iso(T0 + d)) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 2_000 * 86_400_000 }).map((d) => iso(T0 + d)) },
      { weight: 1, arbitrary: fc.constant(null) },
    );
    fc.assert(
      fc.property(
        fc.array(arbTime, { maxLength: 200 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 5 }),
        fc.integer({ min: 1, max: 12 }),
        (times, cuts, cap) => {
          const whole = oneRun(times, cap);
          const bounds = [0, ...cuts.filter((c) => c <= times.length).sort((a, b) => a - b), times.length];
          const merged = new Timeline(cap);
          for (let i = 0; i + 1 < bounds.length; i++) merged.merge(oneRun(times.slice(bounds[i], bounds[i + 1]), cap));
          expect(merged.toJSON()).toEqual(whole);
          const sum = Object.values(whole.counts).reduce((a, b) => a + b, 0) + whole.untimed;
          expect(sum).toBe(times.length);
          expect(Object.keys(whole.counts).length <= cap || whole.bucket === '1y').toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is part of the summary; a summary without it merges with its errors counted as untimed', () => {
    const ev = (ts: string | undefined, type = 'error') => ({ event_type: type, category: 'Unverified Email', message: 'm', timestamp: ts, user_context: { email: 'a@x.org' } });
    const s = summarizeEvents([ev('2026-11-21T10:15:30Z'), ev('2026-11-21T10:15:59.999Z'), ev(undefined), ev('2026-11-21T10:16:00Z', 'success')]);
    expect(s.errors_over_time).toEqual({ bucket: '1m', counts: { '2026-11-21T10:15:00.000Z': 2 }, untimed: 1 });
    const old = JSON.parse(JSON.stringify(s));
    delete old.errors_over_time;
    expect(readPartial(old).errors_over_time).toEqual({ bucket: '1m', counts: {}, untimed: 3 });
  });
});
