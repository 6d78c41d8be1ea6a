// The shape of a --jobs task: made once per worker from the command's settings, then called
// with each block's records; what it returns goes to the main thread (structured clone).
import type { Item } from '../../stream/ndjson-reader.js';
import type { BadLine } from '../../stream/bad-lines.js';
import type { Block } from '../blocks.js';
import type { ParsedBlock } from '../parse-block.js';

/** A task's result for one block, with the buffers moved rather than copied. */
export interface TaskOutput<R> {
  result: R;
  /** Buffers in the result handed over instead of copied (each must own its whole ArrayBuffer). */
  transfer?: ArrayBuffer[];
}

/** What a worker does with a block's records, one module per command under tasks/. */
export interface Task<R> {
  /** Each batch of a block's records, in order; `reject` reports a record as a bad line (in input order with the parser's). */
  add(items: Item[], reject: (bad: BadLine) => void): void;
  /**
   * A task that reads the block's bytes itself (import-csv's are CSV, not NDJSON): called
   * instead of the NDJSON parse and add(), with the block's bad lines to report, in order.
   */
  read?(block: Block, bad: BadLine[]): number;
  /**
   * A task that reads a block's NDJSON itself (instead of add() with parseBlock's records): the
   * records it read, and every bad line in input order, as parseBlock would report them.
   */
  block?(block: Block, maxLineBytes: number): ParsedBlock;
  /** The block's result; the task is then ready for the next block. */
  finish(): TaskOutput<R>;
  /** The worker's own result once every block is done (a task that keeps state across blocks; see pool.collect). */
  end?(): unknown;
}

/**
 * A worker's reusable output buffers: a result's buffers move to the main thread, which sends
 * them back once it has copied them, so a long run allocates none per block.
 */
export class Spares {
  private readonly free: ArrayBuffer[] = [];

  /** A buffer of at least `min` bytes (its whole ArrayBuffer may be transferred). */
  take(min: number): Uint8Array {
    const i = this.free.findIndex((ab) => ab.byteLength >= min);
    if (i !== -1) return new Uint8Array(this.free.splice(i, 1)[0]!);
    return new Uint8Array(Math.max(min, 1 << 20));
  }

  put(ab: ArrayBuffer): void {
    if (this.free.length < 4) this.free.push(ab);
  }
}
