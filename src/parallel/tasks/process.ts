// process's work in a worker (docs/parallel.md): each record of a block goes through the same
// stage as in one thread (rules/process-stage.ts), its events encoded as NDJSON. Duplicate
// detection needs the whole run's keys, which only the main thread has: here `remember` answers
// "not seen" and writes down each (namespace, key) asked; the main thread replays the keys in
// input order into the run's memory and runs again, itself, any entry for which the answer was wrong.
import { BadLinePolicy } from '../../stream/bad-lines.js';
import { buildFilter, type FilterOptions } from '../../stream/filters.js';
import { stringifyExact } from '../../stream/exact-number.js';
import { EventText } from '../../event/event-json.js';
import { ChunkBuffer } from '../../csv/write/encode.js';
import { failureKey, type JsonObject } from '../../event/event.js';
import { createProcessStage } from '../../rules/process-stage.js';
import { loadPacks } from '../../rules/loader.js';
import { loadRegistry, NO_REGISTRY } from '../../rules/registry.js';
import type { Item } from '../../stream/ndjson-reader.js';
import type { BadLine } from '../../stream/bad-lines.js';
import type { Spares, Task } from './task.js';

/** What a process worker needs, as the main thread decided it (packs by their --rules names, the registry by its path). */
export interface ProcessTaskConfig {
  packs: string[];
  disabled: string[];
  registry: string | null;
  /** The registry file as the main thread read it (fileStamp): a worker refuses a changed file. */
  registryStamp: string | null;
  job: string | null;
  /** --now, or the run's start, resolved once for every thread. */
  now: string;
  filter: FilterOptions | null;
  maxLineBytes: number;
  /** --log: the failure key of each event goes back too (FailureMemory). */
  failures: boolean;
}

/** Per record that asked `remember`: its first event's line in `text`, its events, input line, asks, error and success events. */
export const SEG = 6;

/** What a process worker sends per block. */
export interface ProcessBlock {
  /** The block's output records, NDJSON as the main thread's writer encodes them. */
  text: Uint8Array;
  /** Lines (records) in text. */
  lines: number;
  /** SEG numbers per record that asked keys (see SEG). */
  segs: Int32Array;
  /** The keys asked, in order: namespace, key, namespace, key… */
  asks: string[];
  /** The engine's counts for the block. */
  entries: number;
  errors: number;
  successes: number;
  /** Records --since/--until left out for having no timestamp. */
  noTimestamp: number;
  /** With --log: each failure's event (its line in text) and key. */
  failLines: Int32Array;
  failKeys: string[];
}

/** A process worker: loads the packs and the registry itself, then runs each block through the stage. */
export async function createTask(config: ProcessTaskConfig, spares: Spares): Promise<Task<ProcessBlock>> {
  const packs = await loadPacks(config.packs);
  // The main thread has reported the snapshot's bad lines already.
  const quiet = new BadLinePolicy({ report: () => {}, maxBad: Number.MAX_SAFE_INTEGER });
  const registry = config.registry === null ? NO_REGISTRY : await loadRegistry(config.registry, quiet, config.maxLineBytes, config.registryStamp);
  const stats = { noTimestamp: 0 };
  let asks: string[] = [];
  let rejects: ((bad: BadLine) => void) | null = null;
  const stage = createProcessStage({
    job: config.job,
    now: config.now,
    filter: config.filter ? buildFilter(config.filter, stats) : null,
    packs,
    disabled: config.disabled,
    registry,
    remember: (namespace, key) => {
      asks.push(namespace, key);
      return undefined;
    },
    onInvalid: (item, reason) => rejects!({ file: item.file, line: item.line, error: reason, raw: stringifyExact(item.value) }),
  });
  const engine = stage.engine.stats;
  const chunk = new ChunkBuffer();
  const eventText = new EventText().text;
  let lines = 0;
  // Off the GC's heap: a JS array of a block's SEG numbers per entry was copied by every
  // scavenge and promoted while the block lasted (BENCHMARKS.md, 2026-12-02 evening).
  let segs = new Int32Array(SEG * 1024);
  let segsUsed = 0;
  let failLines: number[] = [];
  let failKeys: string[] = [];
  const base = { entries: 0, errors: 0, successes: 0 };
  const emit = (rec: JsonObject) => {
    // As the main thread's writer, byte for byte (event-json.ts: stringifyExact's text, for less).
    chunk.append(eventText(rec) + '\n');
    if (config.failures) {
      const k = failureKey(rec);
      if (k !== null) {
        failLines.push(lines);
        failKeys.push(k);
      }
    }
    lines++;
  };
  return {
    add(items: Item[], reject: (bad: BadLine) => void): void {
      rejects = reject;
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        const a0 = asks.length;
        const l0 = lines;
        const e0 = engine.errors;
        const s0 = engine.successes;
        stage.push(item, emit);
        if (asks.length > a0) {
          if (segsUsed + SEG > segs.length) {
            const next = new Int32Array(segs.length * 2);
            next.set(segs);
            segs = next;
          }
          segs[segsUsed] = l0;
          segs[segsUsed + 1] = lines - l0;
          segs[segsUsed + 2] = item.line;
          segs[segsUsed + 3] = (asks.length - a0) / 2;
          segs[segsUsed + 4] = engine.errors - e0;
          segs[segsUsed + 5] = engine.successes - s0;
          segsUsed += SEG;
        }
      }
    },
    finish() {
      const taken = chunk.take();
      const out = spares.take(taken.length);
      out.set(taken);
      const result: ProcessBlock = {
        text: out.subarray(0, taken.length),
        lines,
        segs: segs.slice(0, segsUsed),
        asks,
        entries: engine.entries - base.entries,
        errors: engine.errors - base.errors,
        successes: engine.successes - base.successes,
        noTimestamp: stats.noTimestamp,
        failLines: Int32Array.from(failLines),
        failKeys,
      };
      base.entries = engine.entries;
      base.errors = engine.errors;
      base.successes = engine.successes;
      stats.noTimestamp = 0;
      lines = 0;
      segsUsed = 0;
      asks = [];
      failLines = [];
      failKeys = [];
      return { result, transfer: [out.buffer as ArrayBuffer] };
    },
  };
}
