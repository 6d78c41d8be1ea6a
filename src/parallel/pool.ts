// Worker threads for --jobs: blocks of whole lines go out in turn to the least busy worker, and
// their results come back in input order. A bounded number of blocks is in flight, so a slow
// consumer (stdout, a disk) holds the reader back and memory stays flat.
import { Worker } from 'node:worker_threads';
import type { BadLine } from '../stream/bad-lines.js';
import type { Block } from './blocks.js';

/** What a worker sends back for one block. */
export interface BlockResult<R> {
  /** Records parsed (progress counts them). */
  records: number;
  bad: BadLine[];
  csvLike: boolean;
  result: R;
  /** The block's buffer, back from the worker. */
  input: ArrayBuffer;
  /** The result's buffers: give them back (giveBack) once they are copied. */
  recycle: ArrayBuffer[];
  /** The worker that made it. */
  slot: number;
}

/** A worker's young generation, as the main thread's (cli/heap-limits.ts: 4 MB semi-spaces): flat memory. */
const YOUNG_GENERATION_MB = Number(process.env.BATCH_EVENTS_WORKER_YOUNG_MB ?? 12);

/**
 * The worker's module, dist/parallel/worker.js. Found from one level under dist/, which holds
 * for this file (dist/parallel/pool.js) and for the bundled binaries (dist/bin/NAME.js) alike.
 */
const WORKER_URL = new URL('../parallel/worker.js', import.meta.url);

interface Waiting {
  resolve(r: BlockResult<unknown>): void;
  reject(e: Error): void;
  worker: Slot;
}

interface Slot {
  worker: Worker;
  busy: number;
}

/** Worker threads running one task module; blocks go to the least busy worker, results come back in input order. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private seq = 0;
  private failure: Error | null = null;

  constructor(jobs: number, task: string, config: unknown, maxLineBytes: number) {
    for (let i = 0; i < jobs; i++) {
      const worker = new Worker(WORKER_URL, { workerData: { task, config, maxLineBytes }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
      const slot: Slot = { worker, busy: 0 };
      const index = i;
      worker.on('message', (msg: { seq: number; error?: string; out?: BlockResult<unknown>; final?: unknown }) => {
        const w = this.waiting.get(msg.seq);
        if (!w) return;
        this.waiting.delete(msg.seq);
        slot.busy--;
        if (msg.error !== undefined) w.reject(new Error(msg.error));
        else if ('final' in msg) w.resolve(msg.final as BlockResult<unknown>);
        else w.resolve({ ...msg.out!, slot: index });
      });
      const fail = (err: Error) => {
        this.failure ??= err;
        for (const [seq, w] of this.waiting) {
          if (w.worker !== slot) continue;
          this.waiting.delete(seq);
          w.reject(err);
        }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (code !== 0) fail(new Error(`a worker thread exited with status ${code}`));
      });
      this.slots.push(slot);
    }
  }

  run<R>(block: Block): Promise<BlockResult<R>> {
    if (this.failure) return Promise.reject(this.failure);
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    const seq = this.seq++;
    slot.busy++;
    return new Promise<BlockResult<R>>((resolve, reject) => {
      this.waiting.set(seq, { resolve: resolve as (r: BlockResult<unknown>) => void, reject, worker: slot });
      // The block's buffer moves to the worker (and comes back with the result).
      slot.worker.postMessage({ seq, block }, [block.bytes.buffer as ArrayBuffer]);
    });
  }

  /** Each worker's own result (its task's end()), once every block sent has come back. */
  async collect(): Promise<unknown[]> {
    if (this.failure) throw this.failure;
    return Promise.all(
      this.slots.map((slot) => {
        const seq = this.seq++;
        slot.busy++;
        return new Promise<unknown>((resolve, reject) => {
          this.waiting.set(seq, { resolve: resolve as (r: BlockResult<unknown>) => void, reject, worker: slot });
          slot.worker.postMessage({ seq, end: true });
        });
      }),
    );
  }

  /** A result's buffers, copied out by now, go back to the worker that made them. */
  giveBack(out: BlockResult<unknown>): void {
    const slot = this.slots[out.slot];
    if (slot && out.recycle.length && !this.failure) slot.worker.postMessage({ recycle: out.recycle }, out.recycle);
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
