// process's core for NDJSON records: partial events are validated and normalized, directory
// entries go through the rule packs, other `kind` records pass through. Used by the command
// and, per block, by process --jobs's workers (parallel/tasks/process.ts).
import { normalizeEvent, InvalidEvent } from '../event/normalize.js';
import { isEvent, type JsonObject } from '../event/event.js';
import type { Item } from '../stream/ndjson-reader.js';
import type { Predicate } from '../stream/filters.js';
import type { Emit, Stage } from '../stream/stage.js';
import { createRuleEngine, type RuleEngine } from './engine.js';
import { userManagementPack } from './user-management.js';
import { NO_REGISTRY } from './registry.js';
import type { Remember } from './run-keys.js';
import type { RegistryIndex, RulePack } from './types.js';

/** process's settings: the job name, the clock, rule packs, registry and the input's form. */
export interface ProcessOptions {
  job?: string | null;
  /** Timestamp for records that carry none (default: the time the stage was made). */
  now?: string;
  filter?: Predicate | null;
  /** A record that cannot become an event; the CLI reports it as a bad line. */
  onInvalid?: (item: Item, reason: string) => void;
  /** Rule packs for directory entries and log lines (default: the built-in user-management pack). */
  packs?: RulePack[];
  /** Rule ids to skip. */
  disabled?: string[];
  registry?: RegistryIndex;
  /** The run's duplicate memory (default: the engine's own). */
  remember?: Remember;
}

/** A record is a (partial) event, not a directory entry, when it has any of these fields. */
export function looksLikeEvent(rec: JsonObject): boolean {
  return rec.event_type !== undefined || rec.category !== undefined || rec.user_context !== undefined || rec.event_id !== undefined;
}

/** The engine for these settings. */
export function engineFor(opts: ProcessOptions, now: string): RuleEngine {
  return createRuleEngine({
    packs: opts.packs ?? [userManagementPack],
    disabled: opts.disabled ?? [],
    registry: opts.registry ?? NO_REGISTRY,
    job: opts.job ?? null,
    now,
    ...(opts.remember ? { remember: opts.remember } : {}),
  });
}

/** emit, behind the filter (--type, --since…) when there is one. */
export function filtered(emit: Emit, filter: Predicate | null): Emit {
  return filter === null ? emit : (rec) => {
    if (filter(rec)) emit(rec);
  };
}

/** The pure core: partial events and directory entries in, v1 events out; other `kind` records pass through. */
export function createProcessStage(opts: ProcessOptions = {}): Stage & { engine: RuleEngine } {
  const now = opts.now ?? new Date().toISOString();
  const filter = opts.filter ?? null;
  const engine = engineFor(opts, now);
  let lastEmit: Emit | null = null;
  let wrapped: Emit | null = null;
  return {
    engine,
    push(item, emit) {
      const rec = item.value;
      if (rec.kind !== undefined && rec.kind !== 'event' && !isEvent(rec)) {
        emit(rec);
        return;
      }
      if (!looksLikeEvent(rec)) {
        if (emit !== lastEmit) {
          lastEmit = emit;
          wrapped = filtered(emit, filter);
        }
        engine.entry(item, wrapped!);
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

