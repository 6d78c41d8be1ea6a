// process: raw records in, categorized v1 events out. This first version validates and
// normalizes partial events; rule packs (directory entries, registry, logs) plug in here.
import { commonArgs, defineCommand, filesArg, filterArgs } from '../core/cli.js';
import { runStage, runStageOver, type Stage } from '../core/stage.js';
import { normalizeEvent, InvalidEvent } from '../core/normalize.js';
import { isEvent, type JsonObject } from '../core/event.js';
import type { Item } from '../core/ndjson-reader.js';
import type { Predicate } from '../core/filters.js';

export interface ProcessOptions {
  job?: string | null;
  /** Timestamp for records that carry none (default: the time the stage was made). */
  now?: string;
  filter?: Predicate | null;
  /** A record that cannot become an event; the CLI reports it as a bad line. */
  onInvalid?: (item: Item, reason: string) => void;
}

/** The pure core: partial events in, v1 events out; other `kind` records pass through. */
export function createProcessStage(opts: ProcessOptions = {}): Stage {
  const now = opts.now ?? new Date().toISOString();
  const filter = opts.filter ?? null;
  return {
    push(item, emit) {
      const rec = item.value;
      if (rec.kind !== undefined && rec.kind !== 'event' && !isEvent(rec)) {
        emit(rec);
        return;
      }
      let event: JsonObject;
      try {
        event = normalizeEvent(rec, { file: item.file, line: item.line, job: opts.job ?? null, now }) as unknown as JsonObject;
      } catch (err) {
        if (!(err instanceof InvalidEvent)) throw err;
        if (opts.onInvalid) opts.onInvalid(item, err.message);
        else throw err;
        return;
      }
      if (filter === null || filter(event)) emit(event);
    },
    end() {},
  };
}

export function processRecords(source: Iterable<JsonObject> | AsyncIterable<JsonObject>, opts: ProcessOptions = {}) {
  return runStageOver(createProcessStage(opts), source);
}

export default defineCommand({
  meta: { name: 'process', description: 'Turn raw records and log lines into categorized events (NDJSON in, NDJSON out)' },
  args: {
    ...filesArg,
    from: { type: 'enum', options: ['ndjson'], default: 'ndjson', valueHint: 'ndjson', description: 'Input format' },
    job: { type: 'string', valueHint: 'NAME', description: 'Job name recorded in each event\'s source' },
    ...filterArgs,
    ...commonArgs,
  },
  async run(ctx) {
    const stage = createProcessStage({
      job: (ctx.args.job as string | undefined) ?? null,
      filter: ctx.filter,
      onInvalid: (item, reason) => ctx.policy.add({ file: item.file, line: item.line, error: reason, raw: JSON.stringify(item.value) }),
    });
    await runStage(ctx, stage);
  },
});
