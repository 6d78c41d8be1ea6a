// A command's pure core is a Stage: push one record, emit any number; end() emits what is
// left. The CLI drives it batch by batch; the library API drives it as an async generator.
import type { ToolContext } from '../cli/run.js';
import type { Item } from './ndjson-reader.js';
import type { JsonObject } from './json.js';

/** Hands one output record on. */
export type Emit = (record: JsonObject) => void;

/** A command's pure core: located records (or, for log input, lines) in, records out. */
export interface Stage<T = Item> {
  push(item: T, emit: Emit): void;
  end(emit: Emit): void | Promise<void>;
}

/** The one batch loop of the CLI: batches (records from files/stdin by default) through the stage to stdout, progress ticked and stdout flushed per batch, stopped when stdout is closed. */
export async function runStage<T = Item>(ctx: ToolContext, stage: Stage<T>, batches: AsyncIterable<T[]> = ctx.records() as AsyncIterable<T[]>): Promise<void> {
  const emit: Emit = (rec) => ctx.out.write(rec);
  for await (const batch of batches) {
    for (let i = 0; i < batch.length; i++) stage.push(batch[i]!, emit);
    ctx.progress.tick(batch.length);
    await ctx.out.flush();
    if (ctx.stop.stopped || ctx.out.closed) return;
  }
  await stage.end(emit);
}

/** Library form: plain objects (or located items) in, records out. */
export async function* runStageOver(
  stage: Stage,
  source: Iterable<JsonObject | Item> | AsyncIterable<JsonObject | Item>,
  file = 'input',
): AsyncGenerator<JsonObject> {
  const pending: JsonObject[] = [];
  const emit: Emit = (rec) => pending.push(rec);
  let line = 0;
  for await (const x of source as AsyncIterable<JsonObject | Item>) {
    line++;
    const item = isItem(x) ? x : { value: x, file, line };
    stage.push(item, emit);
    while (pending.length) yield pending.shift()!;
  }
  await stage.end(emit);
  while (pending.length) yield pending.shift()!;
}

function isItem(x: unknown): x is Item {
  return typeof x === 'object' && x !== null && 'value' in x && 'line' in x && 'file' in x && Object.keys(x).length === 3;
}

/** Collects a generator into an array (tests, small inputs). */
export async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}
