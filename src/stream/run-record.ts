// The run records (docs/run-records.md): every binary that writes NDJSON opens its stdout with
// {"kind":"run","status":"started"} and closes it with the run's end, so a later stage can tell a
// complete input from one whose producer was killed, crashed or exited with an error.
import { isPlainObject, type JsonObject, type JsonValue } from './json.js';

/** A run record's status. */
export type RunStatus = 'started' | 'complete' | 'failed';

/** The run record (schema/run.v1.json): says downstream that a stage started, completed or failed. */
export interface RunRecord extends JsonObject {
  kind: 'run';
  tool: string;
  status: RunStatus;
}

/** The record a stage writes first. */
export function runStarted(tool: string): RunRecord {
  return { kind: 'run', tool, status: 'started' };
}

/**
 * The end of a run: records = data records written before it (run records not counted). A run
 * that skipped malformed input lines (allowed by --max-bad) says how many, and where they were
 * kept (--rejects): what they held is in none of its records, and later stages say so.
 */
export function runEnded(tool: string, records: number, error: string | null, badLines = 0, rejects: string | null = null): RunRecord {
  const end: RunRecord = error === null ? { kind: 'run', tool, status: 'complete', records } : { kind: 'run', tool, status: 'failed', records, error };
  if (badLines > 0) {
    end.bad_lines = badLines;
    if (rejects !== null) end.rejects = rejects;
  }
  return end;
}

/** What a later stage says of a run that skipped malformed lines: one sentence, the same for the same run end read twice. */
function skippedLinesText(tool: string, n: number, rejects: string | null): string {
  return `${tool} skipped ${n} malformed input line${n === 1 ? '' : 's'} (${rejects !== null ? `kept in ${rejects}` : 'reported on its stderr'})`;
}

/** Started and ended runs per tool: counts, so pieces of a split stream add up exactly (analyze --merge). */
export type RunCounts = Record<string, { started: number; ended: number }>;

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * What a stage knows about the completeness of its input. A producer that started must also
 * end; a failed end, or a failed export, is a reason of its own. Records carried twice (the same
 * stream read twice, `cat events.ndjson export.ndjson`) keep starts and ends balanced.
 */
export class Completeness {
  readonly runs = new Map<string, { started: number; ended: number }>();
  /** Reasons that are not about unmatched runs (failed stages, failed exports), kept once each. */
  readonly reasons = new Set<string>();
  /** Runs that completed but skipped malformed lines (skippedLinesText), kept once each. */
  readonly skipped = new Set<string>();
  private readonly exportErrors = new Set<string>();
  private readonly failedRuns: Array<{ tool: string; error: string }> = [];

  /** Looks at any record; returns true when it was a run record. */
  observe(rec: JsonObject): boolean {
    if (rec.kind === 'export') {
      if (rec.status === 'failed') {
        const error = typeof rec.error === 'string' ? rec.error : 'unknown error';
        const path = typeof rec.path === 'string' ? rec.path : typeof rec.file === 'string' ? rec.file : 'the CSV file';
        this.exportErrors.add(error);
        const file = path.split('/').pop() ?? path;
        this.reasons.add(`The CSV could not be written: ${error.includes(file) ? error : `${path}: ${error}`}`);
      }
      return false;
    }
    if (rec.kind !== 'run') return false;
    const tool = typeof rec.tool === 'string' && rec.tool !== '' ? rec.tool : 'a stage';
    const r = this.count(tool);
    if (rec.status === 'started') r.started++;
    else {
      r.ended++;
      if (rec.status === 'failed') this.failedRuns.push({ tool, error: typeof rec.error === 'string' ? rec.error : 'unknown error' });
      // A failed run says why already (too many bad lines, among others); a complete one that skipped some is said here.
      else if (typeof rec.bad_lines === 'number' && Number.isInteger(rec.bad_lines) && rec.bad_lines > 0) {
        this.skipped.add(skippedLinesText(tool, rec.bad_lines, typeof rec.rejects === 'string' ? rec.rejects : null));
      }
    }
    return true;
  }

  private count(tool: string): { started: number; ended: number } {
    let r = this.runs.get(tool);
    if (r === undefined) this.runs.set(tool, (r = { started: 0, ended: 0 }));
    return r;
  }

  /** Adds another state (a partial's runs, reasons and skipped lines). */
  merge(runs: RunCounts, reasons: Iterable<string>, skipped: Iterable<string> = []): void {
    for (const s of skipped) this.skipped.add(s);
    for (const [tool, c] of Object.entries(runs)) {
      const r = this.count(tool);
      r.started += c.started;
      r.ended += c.ended;
    }
    for (const s of reasons) this.reasons.add(s);
  }

  /** The reasons other than unmatched runs (what a partial carries beside its counts). */
  fixedReasons(): string[] {
    const out = new Set(this.reasons);
    // A stage that failed because it could not write its CSV is said once, as the CSV.
    for (const f of this.failedRuns) if (!this.exportErrors.has(f.error)) out.add(`${f.tool} failed: ${f.error}`);
    return [...out].sort(cmp);
  }

  /** The runs that skipped malformed lines, one sentence each, sorted. */
  skippedLines(): string[] {
    return [...this.skipped].sort(cmp);
  }

  /** Started and ended runs per tool, by tool. */
  runCounts(): RunCounts {
    const out: RunCounts = {};
    for (const k of [...this.runs.keys()].sort(cmp)) out[k] = { ...this.runs.get(k)! };
    return out;
  }

  /** Every reason, sorted: failed stages and exports, then producers whose input ended early. */
  incompleteReasons(): string[] {
    const out = this.fixedReasons();
    for (const [tool, r] of [...this.runs].sort((a, b) => cmp(a[0], b[0]))) {
      const missing = r.started - r.ended;
      if (missing > 0) {
        out.push(
          `The input ended before ${tool} finished: ${missing === 1 ? 'its end-of-run record is missing' : `${missing} of its runs have no end-of-run record`} (killed or crashed), so what it had not yet written is missing`,
        );
      }
    }
    return out;
  }
}

/** Reads a partial's `runs` field (analyze --merge); absent means none. */
export function readRunCounts(v: JsonValue | undefined): RunCounts {
  const out: RunCounts = {};
  if (!isPlainObject(v)) return out;
  for (const [k, c] of Object.entries(v)) {
    if (!isPlainObject(c)) continue;
    const n = (x: JsonValue | undefined) => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : 0);
    out[k] = { started: n(c.started), ended: n(c.ended) };
  }
  return out;
}
