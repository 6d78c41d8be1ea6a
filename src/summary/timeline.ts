// Errors over time as a mergeable histogram. Buckets come from one chain of UTC units where each
// unit is a whole number of the one before (1m ⊂ 5m ⊂ 15m ⊂ 1h ⊂ 6h ⊂ 1d ⊂ 1mo ⊂ 1y), so rolling a
// histogram up to a coarser unit is exact, and the unit is "the finest at which the non-empty
// buckets fit the cap": a function of the set of error times, not of how the input was split.
import { isPlainObject, type JsonValue } from '../event/event.js';

/** The chain of bucket units, finest first, each a whole number of the one before. */
export const TIMELINE_UNITS = ['1m', '5m', '15m', '1h', '6h', '1d', '1mo', '1y'] as const;
/** One unit of the chain. */
export type TimelineUnit = (typeof TIMELINE_UNITS)[number];

/** Non-empty buckets kept at most: 4 hours by the minute, ~7 KB of JSON. */
export const TIMELINE_MAX_BUCKETS = 240;

/** The summary field: bucket start (canonical ISO) → error count, in time order. */
export interface ErrorsOverTime {
  bucket: TimelineUnit;
  counts: Record<string, number>;
  /** Errors without a usable timestamp (or from a merged piece that carried no histogram). */
  untimed: number;
}

const MINUTE = 60_000;
const FIXED_MS: Partial<Record<TimelineUnit, number>> = { '1m': MINUTE, '5m': 5 * MINUTE, '15m': 15 * MINUTE, '1h': 60 * MINUTE, '6h': 360 * MINUTE, '1d': 1440 * MINUTE };

/** The start (epoch ms) of the bucket of `unit` that holds `ms`. */
export function bucketStart(ms: number, unit: TimelineUnit): number {
  const fixed = FIXED_MS[unit];
  if (fixed !== undefined) return Math.floor(ms / fixed) * fixed;
  const d = new Date(ms);
  return unit === '1mo' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) : Date.UTC(d.getUTCFullYear(), 0, 1);
}

/** The start of the bucket after the one starting at `start`. */
export function nextBucket(start: number, unit: TimelineUnit): number {
  const fixed = FIXED_MS[unit];
  if (fixed !== undefined) return start + fixed;
  const d = new Date(start);
  return unit === '1mo' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) : Date.UTC(d.getUTCFullYear() + 1, 0, 1);
}

/** True for a unit of the chain (a partial read back is checked with it). */
export function isTimelineUnit(v: unknown): v is TimelineUnit {
  return typeof v === 'string' && (TIMELINE_UNITS as readonly string[]).includes(v);
}

function unitIndex(u: TimelineUnit): number {
  return TIMELINE_UNITS.indexOf(u);
}

/** The accumulator: counts by bucket start, rolled up whenever the non-empty buckets exceed the cap. */
export class Timeline {
  private unit = 0;
  private readonly counts = new Map<number, number>();
  untimed = 0;
  // The last minute seen (its ISO prefix) and its bucket: events arrive mostly in time order.
  private lastPrefix = '';
  private lastStart = 0;
  /** Errors in lastStart's bucket not yet added to the map (the hot path touches no map). */
  private pending = 0;

  constructor(private readonly maxBuckets = TIMELINE_MAX_BUCKETS) {}

  get bucket(): TimelineUnit {
    return TIMELINE_UNITS[this.unit]!;
  }

  /** One error at a canonical ISO time (dataTime's output), or null when it has none. */
  add(time: string | null): void {
    if (time === null) {
      this.untimed++;
      return;
    }
    // ":SS.sssZ" is the last 8 characters of a canonical time: the rest names its minute.
    const prefixLength = time.length - 8;
    if (this.lastPrefix.length === prefixLength && time.startsWith(this.lastPrefix)) {
      this.pending++;
      return;
    }
    this.flush();
    const ms = Date.parse(time);
    if (Number.isNaN(ms)) {
      this.untimed++;
      return;
    }
    this.addCount(ms, 1);
    this.lastPrefix = time.slice(0, prefixLength);
    this.lastStart = bucketStart(ms, this.bucket);
  }

  private flush(): void {
    if (this.pending === 0) return;
    this.counts.set(this.lastStart, (this.counts.get(this.lastStart) ?? 0) + this.pending);
    this.pending = 0;
  }

  /** n errors in the bucket (of this timeline's unit or a finer one) that holds `ms`. */
  private addCount(ms: number, n: number): void {
    const start = bucketStart(ms, this.bucket);
    this.counts.set(start, (this.counts.get(start) ?? 0) + n);
    // The coarsest unit has no cap: years are few.
    if (this.counts.size > this.maxBuckets && this.unit < TIMELINE_UNITS.length - 1) this.rollUp(this.unit + 1);
  }

  /** Coarsens to `to` (an index in TIMELINE_UNITS), and further while the buckets exceed the cap. */
  private rollUp(to: number): void {
    this.flush();
    to = Math.min(to, TIMELINE_UNITS.length - 1);
    while (to > this.unit) {
      this.unit = to;
      const old = [...this.counts];
      this.counts.clear();
      for (const [start, n] of old) {
        const s = bucketStart(start, this.bucket);
        this.counts.set(s, (this.counts.get(s) ?? 0) + n);
      }
      this.lastPrefix = '';
      if (this.counts.size > this.maxBuckets && this.unit < TIMELINE_UNITS.length - 1) to = this.unit + 1;
    }
  }

  /** Adds another histogram (a partial's): rolls both to the coarser unit first, so the sum is exact. */
  merge(other: ErrorsOverTime): void {
    this.flush();
    const u = unitIndex(other.bucket);
    if (u > this.unit) this.rollUp(u);
    for (const [iso, n] of Object.entries(other.counts)) {
      const ms = Date.parse(iso);
      if (!Number.isNaN(ms)) this.addCount(ms, n);
      else this.untimed += n;
    }
    this.untimed += other.untimed;
  }

  toJSON(): ErrorsOverTime {
    this.flush();
    const counts: Record<string, number> = {};
    for (const start of [...this.counts.keys()].sort((a, b) => a - b)) counts[new Date(start).toISOString()] = this.counts.get(start)!;
    return { bucket: this.bucket, counts, untimed: this.untimed };
  }
}

/** Reads the field back (a partial or an older summary); null when absent or not this shape. */
export function readErrorsOverTime(v: JsonValue | undefined): ErrorsOverTime | null {
  if (!isPlainObject(v) || !isTimelineUnit(v.bucket) || !isPlainObject(v.counts)) return null;
  const counts: Record<string, number> = {};
  for (const [k, n] of Object.entries(v.counts)) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || Number.isNaN(Date.parse(k))) return null;
    counts[k] = n;
  }
  const untimed = typeof v.untimed === 'number' && Number.isInteger(v.untimed) && v.untimed >= 0 ? v.untimed : 0;
  return { bucket: v.bucket, counts, untimed };
}
