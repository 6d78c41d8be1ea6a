// The capped lists of a summary, each "the first N in a fixed order" (the invariant summary.ts
// states): kept cheaply by collecting up to about 2N, then sorting and cutting back to N, after
// which a ceiling turns away whatever sorts after the N-th.
import { cmp, compareBatchErrors } from './order.js';
import type { BatchError, UserBatch } from './record.js';

/** The first `cap` texts in code-unit order, equal texts kept (the summaries list). */
export class FirstTexts {
  private list: string[] = [];
  private ceiling: string | null = null;

  constructor(public cap: number) {}

  /** One text; turned away when it cannot be among the first `cap`. */
  offer(text: string): void {
    if (this.cap === 0) return;
    if (this.ceiling !== null && text >= this.ceiling) return;
    this.list.push(text);
    if (this.list.length >= 2 * this.cap + 64) this.compact();
  }

  /** The first `cap` texts, in order. */
  first(): string[] {
    this.compact();
    return this.list.slice();
  }

  private compact(): void {
    this.list.sort(cmp);
    if (this.list.length > this.cap) {
      this.list.length = this.cap;
      // Equal texts may still enter (duplicates count), so the ceiling is exclusive of greater ones only.
      this.ceiling = this.list[this.cap - 1]! + '\u0000';
    }
  }
}

/** A user's batch while it is built: what is known of the user, the count, and the errors kept so far. */
export interface BatchState {
  email: string | null;
  name: string;
  center: number | null;
  count: number;
  errors: BatchError[];
  /** errors holds more than the cap until the next compaction. */
  sorted: boolean;
}

/** A known name beats "Unknown"; between two known names the smaller wins (order-free). */
function betterName(a: string, b: string): string {
  if (a === 'Unknown') return b;
  if (b === 'Unknown') return a;
  return b < a ? b : a;
}

/**
 * The smaller of two centers, the same whichever came first (partials merge in any order): by
 * value, then by text for one value written two ways (1e3 and 1000, 1.0 and 1: ExactNumbers).
 */
function smallerCenter(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  const x = Number(a);
  const y = Number(b);
  if (x !== y) return y < x ? b : a;
  return String(b) < String(a) ? b : a;
}

function compactErrors(batch: BatchState, cap: number): void {
  batch.errors.sort(compareBatchErrors);
  if (batch.errors.length > cap) batch.errors.length = cap;
  batch.sorted = true;
}

/** The batches of the first `maxUsers` user keys in code-unit order, each with its first `maxErrors` errors (compareBatchErrors). */
export class UserBatches {
  private readonly batches = new Map<string, BatchState>();
  /** Keys at or above this are never among the first maxUsers (set once the map overflows). */
  private ceiling: string | null = null;

  constructor(
    public maxUsers: number,
    public maxErrors: number,
  ) {}

  /**
   * Adds `count` errors to a user's batch, with what this piece knows of the user (merged in an
   * order-free way); returns the batch for its errors, or null when the key is not kept.
   */
  note(key: string, email: string | null, name: string, center: number | null, count: number): BatchState | null {
    if (this.maxUsers === 0) return null;
    let batch = this.batches.get(key);
    if (batch === undefined) {
      if (this.ceiling !== null && key >= this.ceiling) return null;
      batch = { email: null, name: 'Unknown', center: null, count: 0, errors: [], sorted: true };
      this.admit(key, batch);
    }
    // A user's key is their email when they have one, so any email seen for the key is the key.
    batch.email ??= email;
    batch.name = betterName(batch.name, name);
    batch.center = smallerCenter(batch.center, center);
    batch.count += count;
    return batch;
  }

  /** One error of a batch; kept while it can be among the batch's first `maxErrors`. */
  offerError(batch: BatchState, err: BatchError): void {
    if (this.maxErrors === 0) return;
    batch.errors.push(err);
    batch.sorted = false;
    if (batch.errors.length >= 2 * this.maxErrors + 4) compactErrors(batch, this.maxErrors);
  }

  /** The first `maxUsers` batches by key, each with its first `maxErrors` errors. */
  first(): UserBatch[] {
    const keys = [...this.batches.keys()].sort(cmp).slice(0, this.maxUsers);
    return keys.map((k) => {
      const b = this.batches.get(k)!;
      if (!b.sorted || b.errors.length > this.maxErrors) compactErrors(b, this.maxErrors);
      return {
        email: b.email,
        name: b.name,
        center_id: b.center,
        error_count: b.count,
        errors: b.errors.slice(),
        errors_omitted: b.count - b.errors.length,
      };
    });
  }

  private admit(key: string, batch: BatchState): void {
    this.batches.set(key, batch);
    if (this.batches.size >= 2 * this.maxUsers + 64) {
      const keys = [...this.batches.keys()].sort(cmp);
      for (let i = this.maxUsers; i < keys.length; i++) this.batches.delete(keys[i]!);
      this.ceiling = keys[this.maxUsers - 1]! + '\u0000';
    }
  }
}
