// The --jobs reader: the main thread reads and cuts the input into blocks of whole lines; small
// inputs are parsed right here (as batches of records, like ctx.records()), and once the input
// has shown it is large, blocks go to worker threads, whose results come back in input order.
import { open } from 'node:fs/promises';
import type { ToolContext } from '../cli/run.js';
import type { Source } from '../stream/ndjson-reader.js';
import { readChunks, type Item } from '../stream/ndjson-reader.js';
import type { BadLine } from '../stream/bad-lines.js';
import { BlockCutter, type Alloc, type Block, type Cutter, type OversizeLine, type SerialPart } from './blocks.js';
import { parseBlock } from './parse-block.js';
import type { BlockResult, WorkerPool } from './pool.js';

/**
 * Workers start once this much input is known (a file's size) or has been read (a pipe). Each
 * worker's start (an isolate, its modules, and its code compiled again by the JIT) costs ~0.9 G
 * instructions: export-csv on 10,000 events (5 MB) counted 1.74 G at --jobs 1 against 3.56 G at
 * --jobs 2, on 100,000 (54 MB) 7.58 G against 9.87 G (callgrind). At 64 MiB the start is under
 * a fifth of the work and two cores finish well ahead; below it a small input would cost up to
 * twice the CPU for little or no gain in time (none at all on a busy machine).
 */
export const START_BYTES = 64 * 1024 * 1024;
/** Bytes of whole lines per block sent to a worker (a single longer line makes a longer block). */
export const BLOCK_BYTES = 1024 * 1024;
/** Blocks in flight per worker: one being worked on, one waiting. */
const IN_FLIGHT_PER_JOB = 2;

/** Which task the workers run, how many, and its configuration (null: stay on the main thread). */
export interface ParallelPlan<I = Item> {
  /** A module of parallel/tasks/. */
  task: string;
  jobs: number;
  /** The task's settings once the command knows them (e.g. export-csv's columns), else null: blocks stay on this thread. */
  config(): unknown | null;
  /**
   * Given each worker's own result (its task's end()) once every block is done, before the
   * generator ends; not called when no worker started (the command then had every record).
   */
  onFinal?(results: unknown[]): void | Promise<void>;
  /** Workers start at this many bytes (default START_BYTES; a command whose workers cost more to start sets more). */
  startBytes?: number;
  blockBytes?: number;
  /** The command keeps the results' buffers (it hands them to stdout as they are): none go back to the workers. */
  keepResults?: boolean;
  /**
   * A source's cutter when it is not NDJSON (import-csv: csv-blocks.ts): it hands on blocks for
   * the workers (only once told to use them) or records it parsed itself. Default: BlockCutter.
   */
  cutter?(file: string, target: number, emit: (piece: Block | SerialPart<I>) => void, alloc: Alloc): Cutter;
}

/** What the command gets: records parsed here (small inputs, the first blocks) or a worker's result. */
export type ParallelBatch<R, I = Item> = I[] | WorkerBatch<R>;
/** A block's result from a worker, with the number of records it held (for --progress). */
export interface WorkerBatch<R> {
  records: number;
  result: R;
  /** The block the worker was given (its bytes are valid until the next batch is asked for). */
  block: Block;
}

/** Whether a batch came back from a worker (else: records parsed on the main thread). */
export function isWorkerBatch<R, I = Item>(b: ParallelBatch<R, I>): b is WorkerBatch<R> {
  return !Array.isArray(b);
}

/** The reader's block buffers, back from the workers (or from parsing here) for the next blocks. */
class BufferPool {
  private readonly free: Buffer[] = [];
  constructor(private readonly keep: number) {}
  readonly get = (min: number): Buffer => {
    const i = this.free.findIndex((b) => b.length >= min);
    return i === -1 ? Buffer.allocUnsafeSlow(min) : this.free.splice(i, 1)[0]!;
  };
  put(ab: ArrayBuffer): void {
    if (this.free.length < this.keep) this.free.push(Buffer.from(ab));
  }
}

const READ_CHUNK = 65536;
/** Bytes per read(2): 16 chunks at once, fewer calls through the thread pool (each wakes the loop). */
const READ_AHEAD = 16 * READ_CHUNK;

/**
 * A plain (not gzip) regular file read into one reused buffer, handed on in the chunks a file
 * stream makes (64 KiB), so blocks end their batches where the one-thread reader does; the
 * reads themselves are 1 MiB (a 64 KiB read each time cost ~0.3 s of futex and epoll calls
 * per GB). The main thread then leaves no buffer per read to be collected. Anything else
 * (stdin, pipes, .gz) is read as the one-thread reader reads it.
 */
async function* fileChunks(source: Source, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  const fh = await open(source.name, 'r');
  try {
    const buf = Buffer.allocUnsafeSlow(READ_AHEAD);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_AHEAD, null);
      if (bytesRead === 0) return;
      for (let at = 0; at < bytesRead; at += READ_CHUNK) {
        const n = Math.min(READ_CHUNK, bytesRead - at);
        onBytes(n);
        yield buf.subarray(at, at + n);
      }
    }
  } finally {
    await fh.close();
  }
}

/** True for a regular file that does not start like gzip (1f 8b). */
async function plainFile(source: Source): Promise<boolean> {
  if (source.name === 'stdin' || source.size?.() == null) return false;
  try {
    const fh = await open(source.name, 'r');
    try {
      const head = Buffer.alloc(2);
      const { bytesRead } = await fh.read(head, 0, 2, 0);
      return !(bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

interface Done<R, I> {
  /** A block parsed here: each batch with the bad lines the reader found before it. */
  steps?: Array<SerialPart<I>>;
  out?: BlockResult<R>;
  /** The block a worker's result is for. */
  block?: Block;
  bad: BadLine[];
  csvLike: boolean;
  file: string;
}

function oversizeBad(o: OversizeLine): BadLine {
  // The one-thread reader's words (stream/ndjson-reader.ts), for the same report.
  return {
    file: o.file,
    line: o.line,
    error: `line is ${o.totalBytes} bytes, over the --max-line-bytes limit; raise the limit or fix the producer`,
    raw: o.head.toString('utf8'),
    truncated: true,
  };
}

function envBytes(name: string): number | undefined {
  const v = process.env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** The input size at which workers start when a test does not set it (BATCH_EVENTS_PARALLEL_START), else `fallback`. */
export function parallelStartBytes(fallback = START_BYTES): number {
  return envBytes('BATCH_EVENTS_PARALLEL_START') ?? fallback;
}

/** Batches in input order, with bad lines reported (in order) to ctx.policy as they are reached. */
export async function* parallelRecords<R, I = Item>(ctx: ToolContext, plan: ParallelPlan<I>): AsyncGenerator<ParallelBatch<R, I>> {
  // BATCH_EVENTS_PARALLEL_START / _BLOCK: test-only overrides (before the plan's), so small inputs can exercise workers.
  const startBytes = parallelStartBytes(plan.startBytes);
  const blockBytes = plan.blockBytes ?? envBytes('BATCH_EVENTS_PARALLEL_BLOCK') ?? BLOCK_BYTES;
  const maxQueued = plan.jobs * IN_FLIGHT_PER_JOB;
  const buffers = new BufferPool(maxQueued + 2);
  const sources = ctx.sources();
  let known = 0;
  for (const s of sources) known += s.size?.() ?? 0;
  let seen = 0;
  let pool = null as WorkerPool | null;
  let waitedForConfig = false;
  let announced = false;
  let stopped = false;
  let readerDone = false;
  /** The input went idle: once what was read is written, stdout is handed over (readHooks.onIdle). */
  let idle = false;
  let readerError: unknown = null;
  const queue: Array<Promise<Done<R, I>>> = [];
  let cutter: BlockCutter | Cutter | null = null;
  let wakeReader: (() => void) | null = null;
  let wakeConsumer: (() => void) | null = null;
  const poke = (which: 'reader' | 'consumer') => {
    const w = which === 'reader' ? wakeReader : wakeConsumer;
    if (which === 'reader') wakeReader = null;
    else wakeConsumer = null;
    w?.();
  };
  const enqueue = (p: Promise<Done<R, I>>) => {
    p.catch(() => undefined); // rejections surface when the consumer reaches this block
    queue.push(p);
    poke('consumer');
  };

  const dispatch = (piece: Block | OversizeLine | SerialPart<I>) => {
    if ('items' in piece) {
      enqueue(Promise.resolve({ steps: [piece], bad: [], csvLike: false, file: '' }));
      return;
    }
    if (!('bytes' in piece)) {
      enqueue(Promise.resolve({ bad: [oversizeBad(piece)], csvLike: false, file: piece.file }));
      return;
    }
    if (pool && !announced) {
      announced = true;
      ctx.log.debug(`--jobs ${plan.jobs}: worker threads from ${piece.file}:${piece.startLine} on`);
    }
    if (pool) {
      const { file, startLine, atStart } = piece;
      const length = piece.bytes.length;
      enqueue(pool.run<R>(piece).then((out) => {
        // The bytes come back with the result: the command may read a line again (process --jobs).
        const block: Block = { file, startLine, atStart, bytes: Buffer.from(out.input, 0, length) };
        return { out, block, bad: out.bad, csvLike: out.csvLike, file };
      }));
    } else {
      const steps: Array<SerialPart<I>> = [];
      enqueue(parseBlock(piece, ctx.maxLineBytes, (items, bad) => void steps.push({ bad, items: items as I[] })).then((p) => {
        buffers.put(piece.bytes.buffer as ArrayBuffer);
        steps.push({ bad: p.bad, items: [] });
        return { steps, bad: [], csvLike: p.csvLike, file: piece.file };
      }));
    }
  };

  // Loaded only for a large input: small runs do not pay for worker_threads at start-up.
  const startWorkers = async () => {
    let config = plan.config();
    if (config === null && !waitedForConfig) {
      // The command has not yet said what workers need (its first record is in the queue): let it catch up once.
      waitedForConfig = true;
      while (queue.length > 0 && !stopped) await new Promise<void>((r) => (wakeReader = r));
      config = plan.config();
    }
    if (config === null || stopped) return;
    const { WorkerPool } = await import('./pool.js');
    pool = new WorkerPool(plan.jobs, plan.task, config, ctx.maxLineBytes);
    if (cutter && 'useWorkers' in cutter) cutter.useWorkers?.();
  };

  const read = async () => {
    try {
      for (const source of sources) {
        if (stopped) return;
        const cut: BlockCutter | Cutter = plan.cutter ? plan.cutter(source.name, blockBytes, dispatch, buffers.get) : new BlockCutter(source.name, ctx.maxLineBytes, blockBytes, dispatch, buffers.get);
        cutter = cut;
        if (pool && 'useWorkers' in cut) cut.useWorkers?.();
        const hooks = {
          onBytes: ctx.readHooks.onBytes,
          // Idle input: what is whole goes on now, so a record fed slowly comes out at once. The
          // writer is told once the consumer has written those records (below), not now: the
          // reader runs ahead of the consumer, and telling it now would hand over nothing.
          onIdle: () => {
            cut.cut();
            idle = true;
            poke('consumer');
          },
        };
        const chunks = (await plainFile(source)) ? fileChunks(source, ctx.readHooks.onBytes) : readChunks(source, hooks);
        for await (const chunk of chunks) {
          seen += chunk.length;
          if (!pool && plan.jobs > 1 && Math.max(known, seen) >= startBytes) await startWorkers();
          cut.push(chunk);
          while (queue.length >= maxQueued && !stopped) await new Promise<void>((r) => (wakeReader = r));
          if (stopped) return;
        }
        cut.end();
      }
    } catch (err) {
      readerError = err;
    } finally {
      readerDone = true;
      poke('consumer');
    }
  };

  const reader = read();
  try {
    for (;;) {
      if (queue.length === 0) {
        if (readerDone) break;
        if (idle) {
          idle = false;
          ctx.readHooks.onIdle();
        }
        await new Promise<void>((r) => (wakeConsumer = r));
        continue;
      }
      const done = await queue[0]!;
      queue.shift();
      poke('reader');
      // As the one-thread reader: the CSV hint comes before line 1's bad-line report.
      if (done.csvLike) ctx.readHooks.onCsvLike(done.file);
      for (const b of done.bad) ctx.policy.add(b);
      if (done.out) {
        yield { records: done.out.records, result: done.out.result, block: done.block! };
        buffers.put(done.out.input);
        if (!plan.keepResults) pool?.giveBack(done.out);
      }
      // As the one-thread reader: a read's bad lines, then its records (which the command may reject).
      else for (const step of done.steps ?? []) {
        for (const b of step.bad) ctx.policy.add(b);
        if (step.items.length) yield step.items;
      }
    }
    await reader;
    if (readerError) throw readerError;
    if (pool && plan.onFinal) await plan.onFinal(await pool.collect());
  } finally {
    stopped = true;
    poke('reader');
    await pool?.close();
  }
}
