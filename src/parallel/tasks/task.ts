// The shape of a --jobs task: made once per worker from the command's settings, then called
// with each block's records; what it returns goes to the main thread (structured clone).
import type { Item } from '../../stream/ndjson-reader.js';

export interface TaskOutput<R> {
  result: R;
  /** Buffers in the result handed over instead of copied (each must own its whole ArrayBuffer). */
  transfer?: ArrayBuffer[];
}

export interface Task<R> {
  /** Each batch of a block's records, in order. */
  add(items: Item[]): void;
  /** The block's result; the task is then ready for the next block. */
  finish(): TaskOutput<R>;
}

/** Bytes the main thread may take over: a copy when the buffer shares memory (Node's small-buffer pool). */
export function ownedBytes(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) return buf;
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  return copy;
}
