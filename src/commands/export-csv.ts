// export-csv: events (or any records) in, CSV out on stdout or to files written atomically,
// with the defaults of docs/csv.md and safe cells (formula neutralisation, redaction) unless told not to.
// Length: over 350 lines, not split yet: --jobs and the export speed work are changing this file;
// the split into commands/export-csv/{index,targets}.ts waits for it to land.
import { stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { commonArgs, defineCommand, filesArg, filterArgs, type ToolArgs, type ToolContext } from '../cli/run.js';
import { ChunkBuffer, ColumnCollision, DEFAULT_FORMAT, RowBuilder, makeRowEncoder, validateFormat, type CellPolicy, type ColumnRule, type CsvFormat } from '../csv/write/csv-encoder.js';
import { Spill, type SpillOptions } from '../csv/write/spill.js';
import { EVENT_COLUMNS, USER_FIELDS } from '../csv/write/flatten.js';
import { isEvent, isPlainObject, type JsonObject } from '../event/event.js';
import { getPath } from '../stream/filters.js';
import { charOption, durationOption, listOption } from '../cli/options.js';
import { describeError, invalidOption, UsageError, EXIT_FAILURE } from '../cli/errors.js';
import { openAtomic, type AtomicFile } from '../durable/atomic-file.js';
import { backupFile } from '../durable/backup.js';
import { applyPrivacy, checkPrivacyLevel, decideColumn, hasRulesBelow, loadPrivacyPolicy, type FieldDecision, type PrivacyPolicy } from '../redact/privacy.js';
import { appendAuditRecord, auditArgv, checkAuditLog, exportedBy } from '../durable/audit-log.js';
import { createHash, type Hash } from 'node:crypto';
import { openLedger, readCsvHeader, type Ledger, type LedgerResult, type LedgerRow } from '../durable/ledger/csv-ledger.js';
import { cellText, forEachLeaf } from '../csv/write/flatten.js';
import { stringifyExact } from '../stream/exact-number.js';
import { gzipAtomic, isGzipPath } from '../durable/gzip-file.js';
import { REDACTED, couldBeSecret, keyRule, redactValue } from '../redact/redact.js';
import { parseDuration } from '../cli/duration.js';
import type { Item } from '../stream/ndjson-reader.js';
import { parseJson } from '../stream/exact-number.js';
import { jobsArg, jobsOption } from '../parallel/jobs.js';
import { isWorkerBatch, parallelRecords } from '../parallel/records.js';
import type { ExportBlock, ExportTaskConfig } from '../parallel/tasks/export-csv.js';

/** Where encoded bytes go; the chunk may be reused once the promise resolves. */
export interface ByteSink {
  write(chunk: Buffer): Promise<void>;
}

export interface ExportOptions {
  /** Select and order columns; undefined: the event columns (docs/csv.md) for events, else every key seen. */
  columns?: string[];
  exclude?: string[];
  /** Header renames, old → new. */
  rename?: Map<string, string>;
  format?: CsvFormat;
  header?: boolean;
  bom?: boolean;
  policy?: CellPolicy;
  spill?: SpillOptions;
  /** Export at a privacy level: columns above it are dropped or redacted, as the policy says. */
  privacy?: PrivacyExport;
}

export interface PrivacyExport {
  policy: PrivacyPolicy;
  level: string;
  /** Told once per column that the policy drops or redacts (for a note on stderr). */
  onColumn?: (column: string, decision: FieldDecision) => void;
}

const redactCell = (v: unknown): unknown => (v === undefined || v === null || v === '' ? v : REDACTED);

/**
 * The policy as a column rule. A column is judged by every path it is read from (the event columns'
 * `email` is `user_context.email`) and by its --rename'd header, the highest level winning;
 * a column holding an object is filtered inside when the policy names fields in it.
 */
export function privacyColumnRule(privacy: PrivacyExport, rename?: Map<string, string>): (column: string) => ColumnRule {
  const { policy, level } = privacy;
  return (column) => {
    const paths = [column];
    if (USER_FIELDS.has(column)) paths.push(`user_context.${column}`);
    const renamed = rename?.get(column);
    if (renamed !== undefined) paths.push(renamed);
    const d = decideColumn(policy, level, paths);
    if (d.access !== 'keep') privacy.onColumn?.(column, d);
    if (d.access === 'drop') return 'drop';
    if (d.access === 'redact') return redactCell;
    if (!hasRulesBelow(policy, column)) return null;
    return (v) => (isPlainObject(v) && Object.keys(v).length ? applyPrivacy(policy, level, v, column) : v);
  };
}

const SAFE_DEFAULT_POLICY: CellPolicy = { escapeFormulas: true, redact: true };

/** Records that are not data for a CSV (other stages' audit records) pass through instead. */
const PASS_KINDS = new Set(['summary', 'export', 'notification', 'run']);
const NO_ITEMS: Item[] = [];
export function isPassThroughKind(rec: JsonObject): boolean {
  return typeof rec.kind === 'string' && PASS_KINDS.has(rec.kind);
}

/**
 * Chooses the columns at the first data record: --columns as given, the ten event columns (docs/csv.md) for
 * events, otherwise every leaf path in first-seen order (header written at the end).
 */
export function createRowBuilder(first: JsonObject | null, opts: ExportOptions): RowBuilder {
  const policy = opts.policy ?? SAFE_DEFAULT_POLICY;
  const rule = opts.privacy ? privacyColumnRule(opts.privacy, opts.rename) : undefined;
  if (opts.columns) return new RowBuilder(policy, opts.columns, opts.exclude, rule);
  if (first === null || isEvent(first)) return new RowBuilder(policy, EVENT_COLUMNS, opts.exclude, rule);
  return new RowBuilder(policy, undefined, opts.exclude, rule);
}

/**
 * One CSV output. With a fixed column list rows stream straight to the sink after the
 * header; with discovered columns they go to a Spill and are replayed after the header.
 */
export class CsvOutput {
  rows = 0;
  bytes = 0;
  private readonly chunk = new ChunkBuffer();
  private readonly encodeRow: (cells: readonly string[]) => string;
  private readonly spill: Spill | null;
  private readonly parts: Array<{ buf: Buffer; ncols: number }> = [];
  private segCols = -1;
  private headerDone = false;
  private pending: Promise<void> = Promise.resolve();
  private sink: ByteSink | null = null;

  constructor(
    private readonly builder: RowBuilder,
    private readonly opts: ExportOptions,
    private readonly openSink: () => Promise<ByteSink>,
  ) {
    this.encodeRow = makeRowEncoder(opts.format ?? DEFAULT_FORMAT);
    this.spill = builder.fixed ? null : new Spill(opts.spill);
  }

  /** Header names after --rename. */
  headerNames(): string[] {
    const cols = this.builder.fixed || this.rows > 0 ? this.builder.columns : [...EVENT_COLUMNS];
    const rn = this.opts.rename;
    return rn ? cols.map((c) => rn.get(c) ?? c) : cols;
  }

  private headerText(): string {
    let text = this.opts.bom ? '\uFEFF' : '';
    if (this.opts.header !== false) text += this.encodeRow(this.headerNames());
    return text;
  }

  /** Adds one row (cells as built by the RowBuilder, already safe). */
  add(cells: readonly string[]): void {
    if (this.spill) {
      if (cells.length !== this.segCols) {
        if (this.chunk.length) this.parts.push({ buf: Buffer.from(this.chunk.take()), ncols: this.segCols });
        this.segCols = cells.length;
      }
    } else if (!this.headerDone) {
      this.headerDone = true;
      this.chunk.append(this.headerText());
    }
    this.chunk.append(this.encodeRow(cells));
    this.rows++;
  }

  /** Adds rows a worker thread encoded (fixed columns only: they need no spill); the bytes are copied. */
  addEncoded(bytes: Uint8Array, rows: number): void {
    if (!this.headerDone) {
      this.headerDone = true;
      this.chunk.append(this.headerText());
    }
    this.chunk.appendBytes(bytes);
    this.rows += rows;
  }

  /** Per input batch: hands the encoded rows on, waiting for the previous write (back-pressure). */
  async flush(): Promise<void> {
    if (this.spill) {
      if (this.chunk.length) this.parts.push({ buf: Buffer.from(this.chunk.take()), ncols: this.segCols });
      for (const p of this.parts.splice(0)) await this.spill.add(p.buf, p.ncols);
      return;
    }
    if (!this.chunk.length) return;
    await this.pending;
    this.sink ??= await this.openSink();
    const buf = this.chunk.take();
    this.bytes += buf.length;
    this.pending = this.sink.write(buf);
  }

  /** Writes what is left (the header and spilled rows when columns were discovered). */
  async finish(): Promise<void> {
    if (!this.spill) {
      if (!this.headerDone) {
        this.headerDone = true;
        this.chunk.append(this.headerText());
      }
      await this.flush();
      this.sink ??= await this.openSink();
      await this.pending;
      return;
    }
    await this.flush();
    const sink = await this.openSink();
    const head = Buffer.from(this.headerText(), 'utf8');
    if (head.length) await sink.write(head);
    this.bytes += head.length;
    const fmt = this.opts.format ?? DEFAULT_FORMAT;
    try {
      for await (const piece of this.spill.replay(this.builder.columns.length, fmt.delimiter, fmt.quote, fmt.eol)) {
        this.bytes += piece.length;
        await sink.write(piece);
      }
    } finally {
      await this.spill.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.spill?.dispose();
  }
}

/** stdout as a sink: resolves when the chunk was handed to the kernel (or the reader left). */
export function streamSink(stream: NodeJS.WritableStream): ByteSink {
  return {
    write: (chunk) =>
      new Promise((res) => {
        if ((stream as { destroyed?: boolean }).destroyed) return res();
        stream.write(chunk, () => res());
      }),
  };
}

/**
 * An atomic file as a sink. It keeps chunks under 64 KiB to coalesce them (so those are
 * copied); a bigger chunk is written before the promise resolves, so our buffer is reused as is.
 */
function atomicSink(file: AtomicFile): ByteSink {
  return { write: (chunk) => file.write(chunk.length < 64 * 1024 ? Buffer.from(chunk) : chunk) };
}

/** Library form: records in, the whole CSV text out (for small inputs and tests). */
export async function toCsv(records: Iterable<JsonObject> | AsyncIterable<JsonObject>, opts: ExportOptions = {}): Promise<string> {
  const chunks: Buffer[] = [];
  const sink: ByteSink = { write: async (c) => void chunks.push(Buffer.from(c)) };
  let out: CsvOutput | null = null;
  let builder: RowBuilder | null = null;
  for await (const rec of records as AsyncIterable<JsonObject>) {
    if (!builder) {
      builder = createRowBuilder(rec, opts);
      out = new CsvOutput(builder, opts, async () => sink);
    }
    out!.add(builder.build(rec));
    await out!.flush();
  }
  if (!out) out = new CsvOutput(createRowBuilder(null, opts), opts, async () => sink);
  await out.finish();
  return Buffer.concat(chunks).toString('utf8');
}

// ---- file names -------------------------------------------------------------------------

/** A value made safe as one file-name component: no separators, no '..', no control characters. */
export function safeFileComponent(value: string): string {
  let s = value.replace(/[\/\\\u0000-\u001f\u007f<>:"|?*]/g, '_').trim();
  s = s.replace(/\.\.+/g, '_');
  if (s.startsWith('.')) s = '_' + s.slice(1);
  if (s.length > 120) s = s.slice(0, 120);
  return s === '' ? 'unknown' : s;
}

function sourceName(rec: JsonObject): unknown {
  const file = isPlainObject(rec.source) ? rec.source.file : undefined;
  if (typeof file !== 'string' || file === '') return undefined;
  const base = basename(file.replace(/\\/g, '/'));
  return base.slice(0, base.length - extname(base).length) || base;
}

const PLACEHOLDER = /\{([A-Za-z_][\w.]*)\}/g;

/** A value for a file name, redacted like a cell of that field (a secret never becomes a file name). */
function fileNameValue(field: string, v: unknown, policy: CellPolicy): string {
  if (v === undefined || v === null) return 'unknown';
  const text = cellText(v);
  if (!policy.redact) return text;
  const rule = keyRule(field, { keys: policy.redactKeys, keep: policy.keepKeys });
  if (rule === 'keep') return text;
  if (rule === 'always' || (rule === 'name' && couldBeSecret(v))) return REDACTED;
  return couldBeSecret(v) ? redactValue(text) : text;
}

/** Compiles an -o template; null when it has no placeholders. */
export function compileTemplate(template: string, splitBy?: string, policy: CellPolicy = SAFE_DEFAULT_POLICY): ((rec: JsonObject) => string) | null {
  const names = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  if (!names.length) {
    if (splitBy) throw invalidOption('split-by', `needs -o with a {value} or {${splitBy}} placeholder`, template);
    return null;
  }
  const getters = new Map<string, (rec: JsonObject) => unknown>();
  const fields = new Map<string, string>();
  for (const name of names) {
    if (name === 'value' || name === splitBy) {
      if (!splitBy) throw invalidOption('output', '{value} needs --split-by FIELD', template);
      const field = splitBy;
      fields.set(name, field);
      getters.set(name, (r) => getPath(r, field));
    } else if (name === 'category') getters.set(name, (r) => r.category);
    else if (name === 'job') getters.set(name, (r) => (isPlainObject(r.source) ? r.source.job : undefined));
    else if (name === 'source') getters.set(name, sourceName);
    else throw invalidOption('output', `unknown placeholder {${name}} (use {category}, {job}, {source}${splitBy ? `, {value}, {${splitBy}}` : ''})`, template);
  }
  if (splitBy && !names.includes('value') && !names.includes(splitBy)) {
    throw invalidOption('split-by', `needs -o with a {value} or {${splitBy}} placeholder`, template);
  }
  return (rec) =>
    template.replace(PLACEHOLDER, (_, name: string) => {
      const v = getters.get(name)!(rec);
      return safeFileComponent(fileNameValue(fields.get(name) ?? name, v, policy));
    });
}

// ---- the command ------------------------------------------------------------------------

/** The field each -o placeholder puts into file names. */
function placeholderField(name: string, splitBy?: string): string {
  if (name === 'value' || name === splitBy) return splitBy!;
  if (name === 'job') return 'source.job';
  if (name === 'source') return 'source.file';
  return name;
}

/** File names are outputs too: a placeholder may not carry a field above the privacy level. */
function checkTemplatePrivacy(template: string, splitBy: string | undefined, privacy: PrivacyExport): void {
  for (const m of template.matchAll(PLACEHOLDER)) {
    const field = placeholderField(m[1]!, splitBy);
    const d = decideColumn(privacy.policy, privacy.level, USER_FIELDS.has(field) ? [field, `user_context.${field}`] : [field]);
    if (d.access !== 'keep') {
      throw invalidOption(m[1] === 'value' || m[1] === splitBy ? 'split-by' : 'output', `{${m[1]}} would put ${field} (${d.level}) into file names, above --privacy-level ${privacy.level}`, m[1] === 'value' || m[1] === splitBy ? splitBy : template);
    }
  }
}

function columnList(ctx: ExportContext, name: 'columns' | 'exclude'): string[] | undefined {
  const all = listOption(ctx.list(name));
  return all.length ? all : undefined;
}

function parseRename(values: string[]): Map<string, string> | undefined {
  if (!values.length) return undefined;
  const map = new Map<string, string>();
  for (const pair of listOption(values, true)) {
    const m = /^([^=]+?)\s*=\s*(.+)$/.exec(pair);
    if (!m) throw invalidOption('rename', 'must be old=new', pair);
    map.set(m[1]!, m[2]!);
  }
  return map;
}

function parseRedactKeys(flag: string, values: string[]): RegExp[] {
  return values.map((v) => {
    try {
      return new RegExp(v, 'i');
    } catch (err) {
      throw invalidOption(flag, `must be a regular expression (${(err as Error).message})`, v);
    }
  });
}

export function exportOptionsFrom(ctx: ExportContext): ExportOptions {
  const a = ctx.args;
  const excel = a.excel === true;
  const format = validateFormat({
    delimiter: charOption('delimiter', a.delimiter),
    quote: charOption('quote', a.quote),
    eol: a.crlf === true || excel ? '\r\n' : '\n',
  });
  return {
    columns: columnList(ctx, 'columns'),
    exclude: columnList(ctx, 'exclude'),
    rename: parseRename(ctx.list('rename')),
    format,
    header: a.header !== false,
    bom: a.bom === true || excel,
    policy: {
      escapeFormulas: a['escape-formulas'] !== false,
      redact: a.redact !== false,
      redactKeys: parseRedactKeys('redact-key', ctx.list('redact-key')),
      keepKeys: parseRedactKeys('keep-key', ctx.list('keep-key')),
    },
  };
}

/** Leaf paths of the record that no column reads (a column also reads what is nested under it). */
function unknownKeys(rec: JsonObject, known: Set<string>): string[] {
  const out: string[] = [];
  forEachLeaf(rec, (path) => {
    if (known.has(path)) return;
    for (let i = path.lastIndexOf('.'); i > 0; i = path.lastIndexOf('.', i - 1)) if (known.has(path.slice(0, i))) return;
    out.push(path);
  });
  return out;
}

/**
 * --rename/--exclude names that name no column. Fixed columns (events, --columns, a ledger's
 * header) are known before the first row: an unknown name is then a usage error. Discovered
 * columns are known only at the end: unknown names are then one warning with the columns.
 */
function unknownNames(builder: RowBuilder, opts: ExportOptions): string[] {
  const cols = new Set(builder.columns);
  const out: string[] = [];
  for (const from of opts.rename?.keys() ?? []) if (!cols.has(from) && !builder.hidden.has(from)) out.push(`--rename ${from}`);
  for (const e of opts.exclude ?? []) if (!builder.excludedSeen.has(e)) out.push(`--exclude ${e}`);
  return out;
}

function checkNamesUpFront(builder: RowBuilder, opts: ExportOptions): void {
  if (!builder.fixed) return;
  const unknown = unknownNames(builder, opts);
  if (unknown.length) throw new UsageError(`${unknown.join(', ')}: no such column (columns: ${builder.columns.join(', ')})`);
}

/** --commit-interval: a duration, 0 to commit each record at once. */
function commitIntervalOption(raw: string | undefined): number {
  const ms = parseDuration(raw ?? '1s');
  if (ms === undefined) throw invalidOption('commit-interval', 'must be a duration such as 1s, 250ms or 0', raw);
  return ms;
}

function filtersUsed(ctx: ExportContext): JsonObject {
  const f: JsonObject = {};
  for (const name of ['type', 'since', 'until'] as const) {
    const v = ctx.args[name];
    if (v !== undefined) f[name] = v;
  }
  if (ctx.list('category').length) f.category = ctx.list('category');
  if (ctx.list('where').length) f.where = ctx.list('where');
  return f;
}

interface FileTarget {
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

const exportArgs = {
    ...filesArg,
    output: { type: 'string', alias: 'o', valueHint: 'PATH', description: 'Write to PATH atomically and print one export record (gzip when PATH ends in .gz); may hold {category}, {job}, {source} ({value} with --split-by)' },
    columns: { type: 'string', valueHint: 'A,B,C', description: 'Columns to write, in order (dotted paths reach nested fields; default: the event columns for events, else every key seen)' },
    exclude: { type: 'string', valueHint: 'A,B', description: 'Columns to leave out (a prefix leaves out its nested fields)' },
    rename: { type: 'string', valueHint: 'OLD=NEW', description: 'Rename a column in the header (repeatable)' },
    delimiter: { type: 'string', valueHint: 'CHAR', default: ',', description: 'Field delimiter, one character (\\t for tab)' },
    quote: { type: 'string', valueHint: 'CHAR', default: '"', description: 'Quote character' },
    header: { type: 'boolean', default: true, description: 'Write a header row (--no-header to leave it out)' },
    bom: { type: 'boolean', description: 'Start with a UTF-8 byte order mark' },
    crlf: { type: 'boolean', description: 'End rows with CRLF instead of LF' },
    excel: { type: 'boolean', description: 'For spreadsheets: BOM + CRLF + formula neutralisation' },
    'escape-formulas': { type: 'boolean', default: true, description: 'Prefix cells starting with = + - @ tab CR (not numbers) with \' (--no-escape-formulas to turn off)' },
    redact: { type: 'boolean', default: true, description: 'Replace secrets with [REDACTED] (--no-redact to turn off)' },
    'redact-key': { type: 'string', valueHint: 'REGEX', description: 'Also redact columns whose name matches REGEX, whatever the value (repeatable)' },
    'keep-key': { type: 'string', valueHint: 'REGEX', description: 'Never redact columns whose name matches REGEX (repeatable; e.g. a *_token column that holds no secret)' },
    'split-by': { type: 'string', valueHint: 'FIELD', description: 'One file per value of FIELD; -o must hold {value} or {FIELD}' },
    'allow-empty': { type: 'boolean', description: 'Let an export with no rows replace an existing non-empty file' },
    backup: { type: 'string', valueHint: 'N', bare: '5', description: 'Before changing a file, copy it to backups/ beside it and keep the N newest copies (5 when N is left out)' },
    'pass-through': { type: 'boolean', description: 'Also forward the input records to stdout (needs -o)' },
    append: { type: 'boolean', description: 'Append to the -o file durably: header checked, a torn last row repaired, a lock between concurrent writers' },
    dedupe: { type: 'string', valueHint: 'KEY', description: 'With -o: append only rows whose KEY column is not in the file yet (implies --append)' },
    upsert: { type: 'string', valueHint: 'KEY', description: 'With -o: update the fields the record has in the row with the same KEY (null clears a cell), append new keys (a status ledger)' },
    fsync: { type: 'enum', options: ['batch', 'always'], default: 'batch', valueHint: 'batch|always', description: 'With --append/--dedupe/--upsert: commit (write + fsync) rows together within --commit-interval, or each record at once on its own' },
    'commit-interval': { type: 'string', valueHint: 'DURATION', default: '1s', description: 'With --append/--dedupe/--upsert: every record is on disk at most this long after it arrived (250ms, 1s; 0 = at once)' },
    'replace-rows': { type: 'boolean', description: 'With --upsert: a record replaces the whole row (absent fields become empty) instead of updating only its fields' },
    'lock-timeout': { type: 'string', valueHint: 'DURATION', default: '60s', description: 'With --append/--dedupe/--upsert/--audit-log: how long to wait for another writer\'s lock on the file (30s, 5m, 1h)' },
    'privacy-policy': { type: 'string', valueHint: 'FILE', description: 'JSON policy giving fields a level (public < internal < confidential < restricted); fields above --privacy-level are dropped or redacted, as it says' },
    'privacy-level': { type: 'string', valueHint: 'LEVEL', description: 'Export at LEVEL (needs --privacy-policy; default: its lowest level)' },
    'audit-log': { type: 'string', valueHint: 'FILE', description: 'Also append each export record (who, privacy level, redaction, argv) to FILE as one NDJSON line, locked and fsynced' },
    ...jobsArg,
    ...filterArgs,
    ...commonArgs,
} as const satisfies ToolArgs;

/** What run() and its helpers get: ctx.args typed from exportArgs. */
type ExportContext = ToolContext<typeof exportArgs>;

export default defineCommand({
  meta: { name: 'export-csv', description: 'Write events (or any records) as CSV: the event columns by default, formula-safe and redacted; stdout or -o FILE (atomic)' },
  args: exportArgs,
  examples: [
    { text: 'Error events to a CSV file, written atomically', command: 'process ev.ndjson | export-csv --type error -o errors.csv' },
    { text: 'One file per category', command: "export-csv --split-by category -o 'out/{value}.csv' events.ndjson" },
    { text: 'A status ledger updated in place by event id', command: 'export-csv --upsert event_id -o ledger.csv events.ndjson' },
  ],
  seeAlso: 'Durability and ledgers: docs/durability.md; CSV options: docs/csv.md.',
  csvHint: 'it is already CSV; to read it as records use import-csv',
  // With -o, stdout carries the export record (and --pass-through's records); without, the CSV.
  writesRecords: (args) => args.output !== undefined && args.output !== '-',
  async run(ctx) {
    const opts = exportOptionsFrom(ctx);
    const outputArg = ctx.args.output;
    const toStdout = outputArg === undefined || outputArg === '-';
    const splitBy = ctx.args['split-by'];
    const passThrough = ctx.args['pass-through'] === true;
    const allowEmpty = ctx.args['allow-empty'] === true;
    const lockTimeoutMs = durationOption('lock-timeout', ctx.args['lock-timeout'], '60s');
    const keepBackups = ctx.int('backup', 1);
    if (toStdout && splitBy) throw new UsageError('--split-by needs -o with a {value} placeholder');
    if (toStdout && passThrough) throw new UsageError('--pass-through needs -o (stdout carries the CSV otherwise)');
    const dedupeKey = ctx.args.dedupe;
    const upsertKey = ctx.args.upsert;
    const ledgerMode: 'append' | 'upsert' | null = upsertKey !== undefined ? 'upsert' : ctx.args.append === true || dedupeKey !== undefined ? 'append' : null;
    const ledgerFlag = upsertKey !== undefined ? 'upsert' : dedupeKey !== undefined ? 'dedupe' : 'append';
    if (ledgerMode && toStdout) throw new UsageError(`--${ledgerFlag} needs -o FILE`);
    if (ledgerMode && isGzipPath(outputArg!)) throw new UsageError(`--${ledgerFlag} cannot write a .gz file (a compressed file cannot be appended to or updated in place row by row); write a plain .csv and compress it when the ledger is finished`);
    if (upsertKey !== undefined && (ctx.args.append === true || dedupeKey !== undefined)) throw new UsageError('--upsert cannot be combined with --append or --dedupe');
    const replaceRows = ctx.args['replace-rows'] === true;
    if (replaceRows && upsertKey === undefined) throw new UsageError('--replace-rows needs --upsert KEY');
    const commitMs = commitIntervalOption(ctx.args['commit-interval']);
    const fmt = opts.format!;
    const template = toStdout ? null : compileTemplate(outputArg!, splitBy, opts.policy);
    const filter = ctx.filter;
    const filters = filtersUsed(ctx);
    const runStartedAt = new Date().toISOString();

    const policyFile = ctx.args['privacy-policy'];
    const levelArg = ctx.args['privacy-level'];
    if (levelArg !== undefined && policyFile === undefined) throw new UsageError('--privacy-level needs --privacy-policy FILE');
    if (policyFile !== undefined) {
      const policy = await loadPrivacyPolicy(policyFile);
      const level = levelArg === undefined ? policy.levels[0]! : checkPrivacyLevel(policy, levelArg);
      const asked = new Set(opts.columns ?? []);
      opts.privacy = {
        policy,
        level,
        onColumn: (column, d) => {
          const why = `column ${column} is ${d.level} (${d.rule ? `"${d.rule}"` : 'the policy default'}), above --privacy-level ${level}: ${d.access === 'drop' ? 'left out' : 'redacted'}`;
          if (d.access === 'drop' && asked.has(column)) ctx.log.warn(why);
          else ctx.log.debug(why);
        },
      };
      if (template) checkTemplatePrivacy(outputArg!, splitBy, opts.privacy);
    }
    // The audit names the exemptions: --keep-key patterns are a partial "off" that must leave a trace.
    const keep = opts.policy!.keepKeys ?? [];
    const redaction = !opts.policy!.redact ? 'off' : keep.length ? keep.map((r) => r.source) : 'on';
    const audit: JsonObject = {
      by: { ...exportedBy() },
      privacy_level: opts.privacy?.level ?? null,
      privacy_policy: policyFile !== undefined ? resolve(policyFile) : null,
      redaction,
      argv: auditArgv(ctx.tool, ctx.argv, opts.policy!.redact),
    };
    const auditLog = ctx.args['audit-log'];
    if (auditLog !== undefined) await checkAuditLog(auditLog);
    const stdoutHash: Hash | null = auditLog !== undefined && toStdout ? createHash('sha256') : null;
    let auditFailed = false;
    /** One export record: to the audit log (when asked), then to stdout (unless the CSV is there). */
    const emitExport = async (rec: JsonObject): Promise<void> => {
      const full: JsonObject = { ...rec, ...audit };
      if (auditLog !== undefined) {
        auditFailed = true;
        await appendAuditRecord(auditLog, full, { lockTimeoutMs, onWait: () => ctx.log.info(`waiting for the lock on ${auditLog}`) });
        auditFailed = false;
      }
      if (!toStdout) {
        ctx.out.write(full);
        await ctx.out.flush();
      }
    };

    let builder: RowBuilder | null = null;
    const targets = new Map<string, FileTarget>();
    let single: FileTarget | null = null;
    const touched = new Set<FileTarget>();

    const newTarget = (path: string, b: RowBuilder): FileTarget => {
      const t: FileTarget = { path, output: null as unknown as CsvOutput, file: null, startedAt: new Date().toISOString(), queue: [], ledger: null, failed: null, rowsByType: {} };
      t.output = new CsvOutput(b, opts, async () => {
        if (toStdout) {
          const sink = streamSink(process.stdout);
          const hash = stdoutHash;
          return hash ? { write: (chunk) => (hash.update(chunk), sink.write(chunk)) } : sink;
        }
        const file = await openAtomic(path);
        t.file = isGzipPath(path) ? gzipAtomic(file) : file;
        return atomicSink(t.file);
      });
      return t;
    };
    const targetFor = (rec: JsonObject, b: RowBuilder): FileTarget => {
      if (!template) return (single ??= newTarget(toStdout ? '-' : outputArg!, b));
      const path = template(rec);
      let t = targets.get(path);
      if (!t) targets.set(path, (t = newTarget(path, b)));
      return t;
    };

    // Columns of --append/--upsert: --columns; else the existing file's header (a single -o
    // file); else the event columns (docs/csv.md) for events; else the first record's keys. Implicit columns make a
    // record with another key a bad line (the file's columns are fixed).
    let knownColumns: Set<string> | null = null;
    const privacyRule = opts.privacy ? privacyColumnRule(opts.privacy, opts.rename) : undefined;
    const ledgerColumns = async (first: JsonObject): Promise<{ builder: RowBuilder; known: Set<string> | null }> => {
      if (opts.columns) return { builder: createRowBuilder(first, opts), known: null };
      const header = template ? null : await readCsvHeader(outputArg!, fmt.delimiter, fmt.quote);
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
    };

    const flushLedger = async (t: FileTarget): Promise<void> => {
      t.ledger ??= await openLedger({
        path: t.path,
        columns: t.output.headerNames(),
        delimiter: fmt.delimiter,
        quote: fmt.quote,
        crlf: fmt.eol === '\r\n',
        bom: opts.bom === true,
        header: opts.header !== false,
        mode: ledgerMode!,
        key: upsertKey ?? dedupeKey,
        backup: keepBackups,
        fsync: ctx.args.fsync,
        commitMs,
        replaceRows,
        lockTimeoutMs,
        encodeRow: makeRowEncoder(fmt),
        log: (m) => ctx.log.warn(m),
      });
      for (const cells of t.queue.splice(0)) t.ledger.add(cells);
      await t.ledger.flush();
    };

    // A file that cannot be written (no such folder, read-only, disk full) fails its own export
    // record, not the stream: --pass-through still forwards every record, so downstream knows.
    const guard = async (t: FileTarget, step: () => Promise<void>): Promise<void> => {
      if (t.failed !== null) return;
      try {
        await step();
      } catch (err) {
        if (toStdout || ledgerMode) throw err;
        t.failed = describeError(err);
        ctx.log.error(t.failed);
        if (t.file) await t.file.abort().catch(() => undefined);
        t.file = null;
      }
    };
    const failedRecord = (t: FileTarget): JsonObject => ({
      kind: 'export',
      status: 'failed',
      error: t.failed,
      path: resolve(t.path),
      file: basename(t.path),
      rows: 0,
      columns: t.output.headerNames(),
      started_at: t.startedAt,
      finished_at: new Date().toISOString(),
      filters,
      mode: 'replace',
    });

    // --jobs: rows of one plain output (no ledger, template, pass-through or privacy policy) are
    // encoded in worker threads once the columns are fixed (docs/parallel.md).
    const jobs = jobsOption(ctx.args.jobs);
    const workerConfig = (): ExportTaskConfig | null =>
      builder?.fixed && !knownColumns
        ? { columns: opts.columns ?? [...EVENT_COLUMNS], exclude: opts.exclude, policy: opts.policy!, format: fmt, filter: ctx.filterSpec, passKinds: [...PASS_KINDS], forwardKinds: !toStdout }
        : null;
    const batches = jobs > 1 && !ledgerMode && !template && !passThrough && !opts.privacy
      ? parallelRecords<ExportBlock>(ctx, { task: 'export-csv', jobs, config: workerConfig })
      : ctx.records();

    try {
      for await (const input of batches) {
        const batch = isWorkerBatch(input) ? NO_ITEMS : input;
        if (isWorkerBatch(input)) {
          const r = input.result;
          for (const text of r.forward) ctx.out.write(parseJson(text));
          ctx.filterStats.noTimestamp += r.noTimestamp;
          if (r.rows > 0) {
            const t = targetFor(null as unknown as JsonObject, builder!);
            if (t.failed === null) t.output.addEncoded(r.csv, r.rows);
            for (const [type, n] of Object.entries(r.rowsByType)) t.rowsByType[type] = (t.rowsByType[type] ?? 0) + n;
            touched.add(t);
          }
        }
        for (let i = 0; i < batch.length; i++) {
          const rec = batch[i]!.value;
          if (passThrough) ctx.out.write(rec);
          if (isPassThroughKind(rec)) {
            if (!toStdout && !passThrough) ctx.out.write(rec);
            continue;
          }
          if (filter !== null && !filter(rec)) continue;
          if (!builder) {
            if (ledgerMode) {
              const chosen = await ledgerColumns(rec);
              builder = chosen.builder;
              knownColumns = chosen.known;
            } else builder = createRowBuilder(rec, opts);
            checkNamesUpFront(builder, opts);
          }
          if (knownColumns && !isEvent(rec)) {
            const unknown = unknownKeys(rec, knownColumns);
            if (unknown.length) {
              ctx.policy.add({
                file: batch[i]!.file,
                line: batch[i]!.line,
                error: `${unknown.join(', ')} ${unknown.length === 1 ? 'is not a column' : 'are not columns'} of ${outputArg} (columns: ${builder.columns.join(', ')})`,
                raw: stringifyExact(rec),
              });
              continue;
            }
          }
          let cells: string[];
          try {
            cells = builder.build(rec);
          } catch (err) {
            if (!(err instanceof ColumnCollision)) throw err;
            ctx.policy.add({ file: batch[i]!.file, line: batch[i]!.line, error: err.message, raw: stringifyExact(rec) });
            continue;
          }
          const t = targetFor(rec, builder);
          if (ledgerMode === 'upsert' && !replaceRows) {
            const present = builder.present(rec);
            t.queue.push(cells.map((c, k) => (present[k] ? c : undefined)));
          } else if (ledgerMode) t.queue.push(cells.slice());
          else if (t.failed === null) t.output.add(cells);
          const type = rec.event_type === 'error' || rec.event_type === 'success' ? rec.event_type : 'other';
          t.rowsByType[type] = (t.rowsByType[type] ?? 0) + 1;
          touched.add(t);
        }
        for (const t of touched) {
          if (ledgerMode) await flushLedger(t);
          else await guard(t, () => t.output.flush());
        }
        touched.clear();
        await ctx.out.flush();
        ctx.progress.tick(isWorkerBatch(input) ? input.records : batch.length);
        if (ctx.stop.stopped || ctx.out.closed) return;
      }

      if (!builder) {
        builder = createRowBuilder(null, opts);
        checkNamesUpFront(builder, opts);
      }
      if (!builder.fixed) {
        const unknown = unknownNames(builder, opts);
        if (unknown.length) ctx.log.warn(`${unknown.join(', ')}: no such field in the input (columns: ${builder.columns.join(', ')})`);
      }
      if (ledgerMode) {
        if (!template && !single) single = newTarget(outputArg!, builder);
        for (const t of single ? [single] : targets.values()) {
          await flushLedger(t);
          const res: LedgerResult = await t.ledger!.close();
          t.ledger = null;
          await emitExport({
            kind: 'export', path: resolve(t.path), file: basename(t.path), rows: res.rows, bytes: res.bytes, sha256: res.sha256,
            columns: t.output.headerNames(), started_at: t.startedAt, finished_at: new Date().toISOString(), filters, mode: ledgerMode,
            appended: res.appended, updated: res.updated, skipped: res.skipped, status: 'written',
          });
        }
        return;
      }
      if (!template && !single) {
        // Zero rows: stdout gets the header; a file is written header-only unless that would
        // replace a non-empty file (then it is kept, unless --allow-empty).
        if (!toStdout && !allowEmpty) {
          const size = await stat(outputArg!).then((s) => s.size, () => 0);
          if (size > 0) {
            ctx.log.warn(`no rows to export: kept the existing ${outputArg} (--allow-empty to replace it with a header-only file)`);
            return;
          }
        }
        single = newTarget(toStdout ? '-' : outputArg!, builder);
      }
      if (template && targets.size === 0) ctx.log.warn('no rows to export: no file written');

      let failures = 0;
      for (const t of single ? [single] : targets.values()) {
        await guard(t, () => t.output.finish());
        if (stdoutHash) {
          // A CSV on stdout has no record there (stdout is the CSV); the audit log still gets one.
          await emitExport({
            kind: 'export', status: 'written', path: '-', file: '-', rows: t.output.rows, bytes: t.output.bytes, sha256: stdoutHash.digest('hex'),
            columns: t.output.headerNames(), started_at: t.startedAt, finished_at: new Date().toISOString(), filters, mode: 'stdout', rows_by_type: t.rowsByType,
          });
        }
        let committed: { bytes: number; sha256: string } | null = null;
        await guard(t, async () => {
          if (!t.file) return;
          if (keepBackups !== undefined) await backupFile(t.path, keepBackups);
          committed = await t.file.commit();
          t.file = null;
        });
        if (t.failed !== null) {
          failures++;
          ctx.fail(t.failed);
          await emitExport(failedRecord(t));
          continue;
        }
        if (committed === null) continue;
        const { bytes, sha256 } = committed as { bytes: number; sha256: string };
        await emitExport({
          kind: 'export',
          status: 'written',
          path: resolve(t.path),
          file: basename(t.path),
          rows: t.output.rows,
          bytes,
          sha256,
          columns: t.output.headerNames(),
          started_at: t.startedAt,
          finished_at: new Date().toISOString(),
          filters,
          mode: 'replace',
          rows_by_type: t.rowsByType,
        });
      }
      if (failures > 0) return EXIT_FAILURE;
    } catch (err) {
      // A failed export is audited too (with its status and error), unless the log itself failed.
      if (auditLog !== undefined && !auditFailed && !(err instanceof UsageError)) {
        const path = toStdout ? '-' : resolve(outputArg!);
        await appendAuditRecord(auditLog, {
          kind: 'export', status: 'failed', error: describeError(err), path, file: toStdout ? '-' : basename(path),
          started_at: runStartedAt, finished_at: new Date().toISOString(), filters, mode: ledgerMode ?? (toStdout ? 'stdout' : 'replace'), ...audit,
        }, { lockTimeoutMs }).catch((e) => ctx.log.warn(`could not audit the failed export: ${describeError(e)}`));
      }
      throw err;
    } finally {
      for (const t of single ? [single] : targets.values()) {
        await t.output.dispose();
        if (t.file) await t.file.abort();
        // An interrupted ledger run still commits what it took (rows are results, not a draft).
        if (t.ledger) await t.ledger.close().catch(() => undefined);
      }
    }
  },
});
