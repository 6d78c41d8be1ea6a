// process: raw records in, categorized v1 events out. Partial events are validated and
// normalized; directory entries (NDJSON or CSV) and log lines go through rule packs.
import { stringifyExact } from '../stream/exact-number.js';
import { commonArgs, defineCommand, filesArg, filterArgs } from '../cli/run.js';
import { runStage, runStageOver, type Emit, type Stage } from '../stream/stage.js';
import { createProcessStage, engineFor, filtered, type ProcessOptions } from '../rules/process-stage.js';
import { failureKey, type JsonObject } from '../event/event.js';
import { EventText } from '../event/event-json.js';
import { parseIso } from '../cli/time.js';
import { readLines, sourcesFromArgs } from '../stream/ndjson-reader.js';
import { DataError, invalidOption } from '../cli/errors.js';
import type { TextLine } from '../stream/ndjson-reader.js';
import type { RuleEngine } from '../rules/engine.js';
import { checkDisabled, listRules, loadPacks } from '../rules/loader.js';
import { loadRegistry, NO_REGISTRY } from '../rules/registry.js';
import { readCsvRecords } from '../csv/read/located-records.js';
import { jobsArgOne, jobsOption } from '../parallel/jobs.js';
import { oneThreadReason, ReplayKeys, runWithWorkers } from './process/workers.js';

export { createProcessStage, looksLikeEvent, type ProcessOptions } from '../rules/process-stage.js';

/** Log mode's core: each line of the job's log is matched against the packs' log rules. */
export function createLogStage(opts: ProcessOptions = {}): Stage<TextLine> & { engine: RuleEngine } {
  const now = opts.now ?? new Date().toISOString();
  const engine = engineFor(opts, now);
  const filter = opts.filter ?? null;
  return {
    engine,
    push(line, emit) {
      engine.log(line, filter === null ? emit : filtered(emit, filter));
    },
    end() {},
  };
}

/**
 * The failures a run has reported (failureKey: job, user, category, action), so a log read after
 * the entries does not report the same failure again (docs/rules.md).
 */
export class FailureMemory {
  private readonly keys = new Set<string>();
  repeats = 0;

  /** Remembers an event's failure; returns the record. */
  note(rec: JsonObject): JsonObject {
    const k = failureKey(rec);
    if (k !== null) this.keys.add(k);
    return rec;
  }

  /** Remembers a failure by its key (an event written by a --jobs worker). */
  noteKey(k: string): void {
    this.keys.add(k);
  }

  /** True (and counted) when the event is a failure already reported. */
  isRepeat(rec: JsonObject): boolean {
    const k = failureKey(rec);
    if (k === null || !this.keys.has(k)) return false;
    this.repeats++;
    return true;
  }
}

/** Library form: records (partial events, entries, other kinds) in, events out. */
export function processRecords(source: Iterable<JsonObject> | AsyncIterable<JsonObject>, opts: ProcessOptions = {}, file = 'input') {
  return runStageOver(createProcessStage(opts), source, file);
}

/** Library form of --from log: lines of a job's log in, events out. */
export async function* processLogLines(lines: Iterable<string> | AsyncIterable<string>, opts: ProcessOptions = {}, file = 'input'): AsyncGenerator<JsonObject> {
  const stage = createLogStage(opts);
  const pending: JsonObject[] = [];
  const emit: Emit = (r) => pending.push(r);
  let line = 0;
  for await (const text of lines) {
    stage.push({ text, file, line: ++line }, emit);
    while (pending.length) yield pending.shift()!;
  }
}

/** --now as a canonical ISO instant, or null when it is not a real ISO 8601 date/time; no offset means UTC, as everywhere. */
export function parseNow(text: string): string | null {
  const t = parseIso(text);
  return typeof t === 'number' ? new Date(t).toISOString() : null;
}

export default defineCommand({
  meta: { name: 'process', description: 'Turn raw records and log lines into categorized events (NDJSON in, NDJSON out)' },
  args: {
    ...filesArg,
    from: {
      type: 'enum',
      options: ['ndjson', 'csv', 'log'],
      default: 'ndjson',
      valueHint: 'ndjson|csv|log',
      description: 'Input: NDJSON (directory entries and/or partial events), CSV directory entries, or the job\'s log lines',
    },
    rules: { type: 'string', valueHint: 'NAME|PATH', description: 'Rule pack: built-in name or a .json/.js/.mjs/.ts/.mts file (repeatable; default user-management)' },
    'list-rules': { type: 'boolean', description: 'Print the rules of the selected packs (pack, id, input, category, description) and exit' },
    'disable-rule': { type: 'string', valueHint: 'ID', description: 'Skip a rule by id (repeatable, or a comma list)' },
    log: {
      type: 'string',
      valueHint: 'FILE',
      description: "The job's log, read after the entries in the same run (repeatable): a failure the entries already reported (same job, user, category, action) is not repeated",
    },
    'allow-empty-registry': { type: 'boolean', description: 'Accept a --registry file with no person in it (default: an error, exit 1)' },
    registry: { type: 'string', valueHint: 'FILE', description: 'Registry snapshot that entries are joined against (CSV when FILE ends in .csv, else NDJSON)' },
    job: { type: 'string', valueHint: 'NAME', description: 'Job name recorded in each event\'s source' },
    now: {
      type: 'string',
      valueHint: 'TIME',
      description: 'Timestamp (ISO 8601; UTC when no offset) of events whose input carries none: entries, partial events without one, log lines without a prefix (default: the start of the run)',
    },
    ...jobsArgOne,
    ...filterArgs,
    ...commonArgs,
  },
  examples: [
    { text: 'Directory entries from a CSV file to events, summarized', command: 'process --from csv --job user_management entries.csv | analyze' },
    { text: "Follow a job's log as it is written; error events to a file", command: 'tail -f gear.log | process --from log --type error > errors.ndjson' },
    { text: 'Only the last 4 hours, as a CSV for support', command: 'process --since 4h events.ndjson | export-csv -o errors.csv' },
  ],
  seeAlso: 'Rules and rule packs: docs/rules.md in the package.',
  input: (args) => (args.from === 'csv' ? 'CSV' : args.from === 'log' ? 'log lines' : 'NDJSON'),
  csvHint: 'read it with --from csv',
  writesRecords: (args) => args['list-rules'] !== true,
  async run(ctx) {
    const nowText = ctx.args.now;
    const now = nowText === undefined ? undefined : parseNow(nowText);
    if (now === null) throw invalidOption('now', 'must be an ISO 8601 date or date-time (2026-11-21, 2026-11-21T10:00:00Z)', nowText);
    const packs = await loadPacks(ctx.list('rules'));
    const disabled = checkDisabled(packs, ctx.list('disable-rule'));
    if (ctx.args['list-rules'] === true) {
      process.stdout.write(listRules(packs, disabled));
      return;
    }
    const registryPath = ctx.args.registry;
    const registry = registryPath ? await loadRegistry(registryPath, ctx.policy, ctx.maxLineBytes) : NO_REGISTRY;
    // An empty snapshot (a failed download, the wrong file) would let every entry pass as "not in
    // the registry yet": an error unless it is meant.
    if (registryPath && registry.size === 0 && ctx.args['allow-empty-registry'] !== true) {
      throw new DataError(`${registryPath}: the registry snapshot holds no person (an empty or wrong file?); --allow-empty-registry if that is right`);
    }
    if (registryPath) ctx.log.debug(`registry ${registryPath}: ${registry.size} persons`);
    const jobs = jobsOption(ctx.args.jobs, 1);
    const single = jobs > 1 ? oneThreadReason(ctx.args.from, ctx.list('rules'), registryPath) : null;
    if (single !== null) ctx.log.debug(`--jobs ${jobs}: ${single}`);
    const keys = jobs > 1 && single === null ? new ReplayKeys() : null;
    const opts: ProcessOptions = {
      job: ctx.args.job ?? null,
      // One instant for every thread.
      now: now ?? new Date().toISOString(),
      ...(keys ? { remember: keys.remember } : {}),
      filter: ctx.filter,
      packs,
      disabled,
      registry,
      onInvalid: (item, reason) => ctx.policy.add({ file: item.file, line: item.line, error: reason, raw: stringifyExact(item.value) }),
    };
    // The engine's events are written from their known shape (event-json.ts: JSON.stringify's text, for less).
    ctx.out.serialize = new EventText().text;
    const from = ctx.args.from;
    if (from === 'log' && ctx.list('log').length) throw invalidOption('log', 'reads a log after the entries; with --from log give the log files as arguments', ctx.list('log')[0]);
    if (from === 'log') {
      const stage = createLogStage(opts);
      await runStage(ctx, stage, ctx.lines());
      if (ctx.stop.stopped || ctx.out.closed) return;
      const s = stage.engine.stats;
      if (s.unmatchedLines) ctx.log.info(`${s.logLines} log lines read, ${s.unmatchedLines} matched no rule (not errors, not emitted)`);
      return;
    }
    const stage = createProcessStage(opts);
    const logs = ctx.list('log');
    const failures = new FailureMemory();
    const noting: Stage = logs.length ? { push: (item, emit) => stage.push(item, (r) => emit(failures.note(r))), end: (emit) => stage.end(emit) } : stage;
    if (keys) {
      const config = {
        packs: ctx.list('rules'),
        disabled,
        registry: registryPath ?? null,
        registryStamp: registry.stamp ?? null,
        job: opts.job ?? null,
        now: opts.now!,
        filter: ctx.filterSpec,
        maxLineBytes: ctx.maxLineBytes,
        failures: logs.length > 0,
      };
      const run = { stage: noting, keys, stats: stage.engine.stats, noteFailure: logs.length ? (k: string) => failures.noteKey(k) : null };
      await runWithWorkers(ctx, run, jobs, config);
    } else {
      const batches = from === 'csv' ? readCsvRecords(ctx.sources(), { policy: ctx.policy, maxLineBytes: ctx.maxLineBytes, signal: ctx.stop, ...ctx.readHooks }) : ctx.records();
      await runStage(ctx, noting, batches);
    }
    const s = stage.engine.stats;
    if (s.entries) ctx.log.debug(`${s.entries} entries: ${s.errors} error events, ${s.successes} successes`);
    if (!logs.length || ctx.stop.stopped || ctx.out.closed) return;
    // The log after the entries: the directory check's event (with the entry's name, centre,
    // registry ID) stands for a failure; the log's report of the same failure is dropped.
    const logStage: Stage<TextLine> = {
      push(line, emit) {
        stage.engine.log(line, (rec) => {
          if (failures.isRepeat(rec)) return;
          if (ctx.filter === null || ctx.filter(rec)) emit(failures.note(rec));
        });
      },
      end() {},
    };
    await runStage(ctx, logStage, readLines(sourcesFromArgs(logs), { policy: ctx.policy, maxLineBytes: ctx.maxLineBytes, signal: ctx.stop, ...ctx.readHooks }));
    if (ctx.stop.stopped || ctx.out.closed) return;
    if (failures.repeats) ctx.log.info(`${failures.repeats} failure${failures.repeats === 1 ? '' : 's'} in the log already reported by the entries: not repeated`);
    if (s.unmatchedLines) ctx.log.info(`${s.logLines} log lines read, ${s.unmatchedLines} matched no rule (not errors, not emitted)`);
  },
});
