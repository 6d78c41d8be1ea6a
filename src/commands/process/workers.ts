// process --jobs: the stage driven by the --jobs reader (docs/parallel.md). Workers run the rules
// with a `remember` that answers "not seen"; here the keys they asked are replayed in input order
// into the run's one memory, and an entry whose key was in fact seen before is run again on this
// thread (from its line, read again from the block) with the true answers: its events replace the worker's.
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { parseJson } from '../../stream/exact-number.js';
import { bomLength } from '../../stream/bom.js';
import type { ToolContext } from '../../cli/run.js';
import type { Emit, Stage } from '../../stream/stage.js';
import type { JsonObject } from '../../event/event.js';
import type { EngineStats } from '../../rules/engine.js';
import { BUILTIN_PACKS } from '../../rules/loader.js';
import { RunKeys, type FirstSeen, type Remember } from '../../rules/run-keys.js';
import { isWorkerBatch, parallelRecords, type WorkerBatch } from '../../parallel/records.js';
import { SEG, type ProcessBlock, type ProcessTaskConfig } from '../../parallel/tasks/process.js';
import type { Block } from '../../parallel/blocks.js';

const NL = 0x0a;

/**
 * The main thread's duplicate memory: the run's keys, answered for real, except while an entry
 * is run again, when the first answers are the ones its replayed keys got (they are in the memory
 * by then) and only later questions go to the memory.
 */
export class ReplayKeys {
  private readonly keys = new RunKeys();
  private replay: { asks: string[]; answers: Array<FirstSeen | undefined>; at: number } | null = null;

  /** The engine's `remember`. */
  readonly remember: Remember = (namespace, key, file, line) => {
    const r = this.replay;
    if (r === null || r.at >= r.answers.length) return this.keys.remember(namespace, key, file, line);
    const i = r.at++;
    // A pack asks the same questions given the same entry and the same answers; anything else is a bug.
    if (r.asks[2 * i] !== namespace || r.asks[2 * i + 1] !== key) throw new Error(`process --jobs: an entry asked ${namespace} "${key}" again where the worker asked ${r.asks[2 * i]} "${r.asks[2 * i + 1]}"`);
    return r.answers[i];
  };

  /** A worker's question, asked of the memory now, in input order. */
  ask(namespace: string, key: string, file: string, line: number): FirstSeen | undefined {
    return this.keys.remember(namespace, key, file, line);
  }

  /** Runs `fn` with the first answers given (an entry run again). */
  replaying(asks: string[], answers: Array<FirstSeen | undefined>, fn: () => void): void {
    this.replay = { asks, answers, at: 0 };
    try {
      fn();
      if (this.replay.at !== answers.length) throw new Error('process --jobs: an entry run again asked fewer keys than in the worker');
    } finally {
      this.replay = null;
    }
  }
}

/** Moves through a buffer's lines, forward only. */
class LineCursor {
  private pos = 0;
  private line: number;
  constructor(private readonly buf: Buffer, first: number) {
    this.line = first;
  }
  /** The offset where line n starts (n at or after the last asked for). */
  at(n: number): number {
    while (this.line < n) {
      const nl = this.buf.indexOf(NL, this.pos);
      this.pos = nl === -1 ? this.buf.length : nl + 1;
      this.line++;
    }
    return this.pos;
  }
}

function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Input line n of a block, as the one-thread reader parsed it. */
function reread(block: Block, input: LineCursor, n: number): JsonObject {
  const bytes = block.bytes;
  let start = input.at(n);
  const nl = bytes.indexOf(NL, start);
  const end = nl === -1 ? bytes.length : nl;
  if (block.atStart && n === 1 && bomLength(bytes.subarray(start, end), true) === 3) start += 3;
  return parseJson(bytes.toString('utf8', start, end)) as JsonObject;
}

/** What the command gives: its stage (made with ReplayKeys.remember), the engine's counts, and --log's failure memory. */
export interface ProcessRun {
  stage: Stage;
  keys: ReplayKeys;
  stats: EngineStats;
  /** --log: remembers a failure key of an event written (null without --log). */
  noteFailure: ((key: string) => void) | null;
}

/** A worker's block: its text written, its keys replayed, entries with a wrong answer run again here. */
function applyBlock(ctx: ToolContext, run: ProcessRun, batch: WorkerBatch<ProcessBlock>, emit: Emit): void {
  const r = batch.result;
  const { file } = batch.block;
  const text = view(r.text);
  const out = new LineCursor(text, 0);
  const input = new LineCursor(batch.block.bytes, batch.block.startLine);
  const stats = run.stats;
  stats.entries += r.entries;
  stats.errors += r.errors;
  stats.successes += r.successes;
  ctx.filterStats.noTimestamp += r.noTimestamp;
  let writtenLine = 0;
  let writtenByte = 0;
  let fi = 0;
  const segs = r.segs;
  let ai = 0;
  for (let s = 0; s < segs.length; s += SEG) {
    const first = segs[s]!;
    const events = segs[s + 1]!;
    const line = segs[s + 2]!;
    const asked = segs[s + 3]!;
    const answers: Array<FirstSeen | undefined> = [];
    let wrong = false;
    for (let j = 0; j < asked && !wrong; j++) {
      const a = run.keys.ask(r.asks[ai + 2 * j]!, r.asks[ai + 2 * j + 1]!, file, line);
      answers.push(a);
      wrong = a !== undefined;
    }
    if (wrong) {
      // The worker's events up to this entry go out; this entry's are replaced by its run here.
      const from = out.at(first);
      ctx.out.writeEncoded(text.subarray(writtenByte, from), first - writtenLine);
      writtenByte = out.at(first + events);
      writtenLine = first + events;
      if (run.noteFailure) {
        for (; fi < r.failLines.length && r.failLines[fi]! < first; fi++) run.noteFailure(r.failKeys[fi]!);
        while (fi < r.failLines.length && r.failLines[fi]! < first + events) fi++;
      }
      stats.entries--;
      stats.errors -= segs[s + 4]!;
      stats.successes -= segs[s + 5]!;
      const item = { value: reread(batch.block, input, line), file, line };
      run.keys.replaying(r.asks.slice(ai, ai + 2 * answers.length), answers, () => run.stage.push(item, emit));
    }
    ai += 2 * asked;
  }
  ctx.out.writeEncoded(text.subarray(writtenByte), r.lines - writtenLine);
  if (run.noteFailure) for (; fi < r.failLines.length; fi++) run.noteFailure(r.failKeys[fi]!);
}

/** runStage with --jobs: blocks parsed here (a small input, the first blocks of a pipe) go through the stage; the others come from workers. */
export async function runWithWorkers(ctx: ToolContext, run: ProcessRun, jobs: number, config: ProcessTaskConfig): Promise<void> {
  const batches = parallelRecords<ProcessBlock>(ctx, { task: 'process', jobs, config: () => config });
  const emit: Emit = (rec) => ctx.out.write(rec);
  for await (const input of batches) {
    if (isWorkerBatch(input)) applyBlock(ctx, run, input, emit);
    else for (let i = 0; i < input.length; i++) run.stage.push(input[i]!, emit);
    ctx.progress.tick(isWorkerBatch(input) ? input.records : input.length);
    await ctx.out.flush();
    if (ctx.stop.stopped || ctx.out.closed) return;
  }
  await run.stage.end(emit);
}

/** Why a run stays on one thread whatever --jobs says, or null when workers may take it. */
export function oneThreadReason(from: string, specs: string[], registry: string | undefined): string | null {
  if (from !== 'ndjson') return `--from ${from} is read on one thread`;
  for (const spec of specs) {
    // A pack's code may keep state from entry to entry: only one thread sees them all in order.
    if (!Object.hasOwn(BUILTIN_PACKS, spec) && extname(spec).toLowerCase() !== '.json') return `--rules ${spec} is code, run on one thread`;
  }
  if (registry !== undefined) {
    // Each worker reads the snapshot again: a pipe or a FIFO can be read once only.
    let file = false;
    try {
      file = statSync(registry).isFile();
    } catch {
      // Not there any more: the one-thread path has it loaded.
    }
    if (!file) return `--registry ${registry} is not a regular file`;
  }
  return null;
}
