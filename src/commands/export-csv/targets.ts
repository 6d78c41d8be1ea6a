// The outputs of one export-csv run: stdout, one -o file, or one file per -o template value.
// Each target is a CsvOutput over an atomic file (replaced at the end) or rows queued for a
// durable ledger (--append/--dedupe/--upsert, committed per batch), and ends with one export
// record. A file that cannot be written fails its own record, not the stream (docs/csv.md).
import { basename, resolve } from 'node:path';
import type { Hash } from 'node:crypto';
import { makeRowEncoder } from '../../csv/write/encode.js';
import { RowBuilder } from '../../csv/write/row-builder.js';
import { CsvOutput, SAFE_DEFAULT_POLICY, atomicSink, createRowBuilder, privacyColumnRule, streamSink, type ByteSink } from '../../csv/write/output.js';
import { forEachLeaf } from '../../csv/write/flatten.js';
import { isEvent, type JsonObject } from '../../event/event.js';
import { describeError } from '../../cli/errors.js';
import { openAtomic, type AtomicFile } from '../../durable/atomic-file.js';
import { gzipAtomic, isGzipPath } from '../../durable/gzip-file.js';
import { openLedger, readCsvHeader, type Ledger, type LedgerRow } from '../../durable/ledger/csv-ledger.js';
import type { ExportContext, ExportPlan } from './options.js';

/** One output file (or stdout) of the run. */
export interface FileTarget {
  path: string;
  output: CsvOutput;
  file: AtomicFile | null;
  startedAt: string;
  /** --append/--dedupe/--upsert: rows of this batch, handed to the ledger at flush. */
  queue: LedgerRow[];
  ledger: Ledger | null;
  /** Why the file could not be written: the run goes on (--pass-through forwards), the export record says `failed`. */
  failed: string | null;
  /** Rows by event_type ("other" for records that are not events), so a message can count the file's errors. */
  rowsByType: Record<string, number>;
}

/** What an export record says beyond the target's own path, columns and times. */
export interface RecordFields {
  status: 'written' | 'failed';
  rows: number;
  mode: string;
  error?: string | null;
  bytes?: number;
  sha256?: string;
  /** Ledger counts: appended, updated, skipped. */
  counts?: { appended: number; updated: number; skipped: number };
  rowsByType?: Record<string, number>;
}

/** The targets of one run, made on demand as records name them. */
export class ExportTargets {
  private readonly byPath = new Map<string, FileTarget>();
  private single: FileTarget | null = null;

  constructor(
    private readonly plan: ExportPlan,
    private readonly ctx: ExportContext,
    /** With --audit-log and the CSV on stdout: the hash of what went to stdout. */
    private readonly stdoutHash: Hash | null,
  ) {}

  /** Every target made so far, in the order they were made. */
  all(): FileTarget[] {
    return this.single ? [this.single] : [...this.byPath.values()];
  }

  /** Whether no record has made a target yet. */
  get empty(): boolean {
    return this.single === null && this.byPath.size === 0;
  }

  /** The target of a record: the one output, or the file its -o template names. */
  for(rec: JsonObject | null, builder: RowBuilder): FileTarget {
    const { template, toStdout, output } = this.plan;
    if (!template || rec === null) return (this.single ??= this.make(toStdout ? '-' : output!, builder));
    const path = template(rec);
    let t = this.byPath.get(path);
    if (!t) this.byPath.set(path, (t = this.make(path, builder)));
    return t;
  }

  private make(path: string, builder: RowBuilder): FileTarget {
    const { opts, toStdout } = this.plan;
    const t: FileTarget = { path, output: null as unknown as CsvOutput, file: null, startedAt: new Date().toISOString(), queue: [], ledger: null, failed: null, rowsByType: {} };
    t.output = new CsvOutput(builder, opts, async (): Promise<ByteSink> => {
      if (toStdout) {
        const sink = streamSink(process.stdout);
        const hash = this.stdoutHash;
        return hash ? { write: (chunk) => (hash.update(chunk), sink.write(chunk)) } : sink;
      }
      const file = await openAtomic(path);
      t.file = isGzipPath(path) ? gzipAtomic(file) : file;
      return atomicSink(t.file);
    });
    return t;
  }

  /** Hands the batch's queued rows to the target's ledger (opened at the first batch) and commits them. */
  async flushLedger(t: FileTarget): Promise<void> {
    const { opts, ledger, keepBackups, lockTimeoutMs } = this.plan;
    const fmt = opts.format!;
    t.ledger ??= await openLedger({
      path: t.path,
      columns: t.output.headerNames(),
      delimiter: fmt.delimiter,
      quote: fmt.quote,
      crlf: fmt.eol === '\r\n',
      bom: opts.bom === true,
      header: opts.header !== false,
      mode: ledger!.mode,
      key: ledger!.key,
      backup: keepBackups,
      fsync: ledger!.fsync,
      commitMs: ledger!.commitMs,
      replaceRows: ledger!.replaceRows,
      lockTimeoutMs,
      encodeRow: makeRowEncoder(fmt),
      log: (m) => this.ctx.log.warn(m),
    });
    for (const cells of t.queue.splice(0)) t.ledger.add(cells);
    await t.ledger.flush();
  }

  /**
   * Runs a step of a plain file's export; a failure (no such folder, read-only, disk full) marks
   * the target failed and drops its temporary file. On stdout or a ledger the failure is the run's.
   */
  async guard(t: FileTarget, step: () => Promise<void>): Promise<void> {
    if (t.failed !== null) return;
    try {
      await step();
    } catch (err) {
      if (this.plan.toStdout || this.plan.ledger) throw err;
      t.failed = describeError(err);
      this.ctx.log.error(t.failed);
      if (t.file) await t.file.abort().catch(() => undefined);
      t.file = null;
    }
  }

  /** The export record of a target (schema/export.v1.json): one shape for every status and mode. */
  record(t: FileTarget, f: RecordFields): JsonObject {
    const onStdout = this.plan.toStdout;
    const rec: JsonObject = { kind: 'export', status: f.status };
    if (f.error !== undefined) rec.error = f.error;
    rec.path = onStdout ? '-' : resolve(t.path);
    rec.file = onStdout ? '-' : basename(t.path);
    rec.rows = f.rows;
    if (f.bytes !== undefined) rec.bytes = f.bytes;
    if (f.sha256 !== undefined) rec.sha256 = f.sha256;
    rec.columns = t.output.headerNames();
    rec.started_at = t.startedAt;
    rec.finished_at = new Date().toISOString();
    rec.filters = this.plan.filters;
    rec.mode = f.mode;
    if (f.counts) Object.assign(rec, f.counts);
    if (f.rowsByType) rec.rows_by_type = f.rowsByType;
    return rec;
  }

  /** Drops what was not committed; an interrupted ledger run still commits what it took (rows are results, not a draft). */
  async dispose(): Promise<void> {
    for (const t of this.all()) {
      await t.output.dispose();
      if (t.file) await t.file.abort();
      if (t.ledger) await t.ledger.close().catch(() => undefined);
    }
  }
}

/**
 * The columns of --append/--upsert: --columns; else the existing file's header (a single -o
 * file); else the event columns (docs/csv.md) for events; else the first record's keys. `known`
 * is set when the columns were implied: a record with another key is then a bad line (the file's
 * columns are fixed).
 */
export async function ledgerColumns(plan: ExportPlan, first: JsonObject): Promise<{ builder: RowBuilder; known: Set<string> | null }> {
  const { opts } = plan;
  const fmt = opts.format!;
  const privacyRule = opts.privacy ? privacyColumnRule(opts.privacy, opts.rename) : undefined;
  if (opts.columns) return { builder: createRowBuilder(first, opts), known: null };
  const header = plan.template ? null : await readCsvHeader(plan.output!, fmt.delimiter, fmt.quote);
  if (header && opts.header !== false) {
    const back = new Map<string, string>();
    for (const [from, to] of opts.rename ?? []) back.set(to, from);
    const cols = header.map((h) => back.get(h) ?? h);
    return { builder: new RowBuilder(opts.policy ?? SAFE_DEFAULT_POLICY, cols, [], privacyRule), known: new Set(cols) };
  }
  if (isEvent(first)) return { builder: createRowBuilder(first, opts), known: null };
  const cols: string[] = [];
  forEachLeaf(first, (path) => cols.push(path));
  const b = new RowBuilder(opts.policy ?? SAFE_DEFAULT_POLICY, cols, opts.exclude, privacyRule);
  return { builder: b, known: new Set(b.columns) };
}
