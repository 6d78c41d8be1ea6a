// One CSV output and what it is written to: the row builder chosen at the first record, rows
// encoded into reused buffers and handed to a sink (stdout, an atomic file, a string), and the
// spill that holds rows until the header is known when the columns are discovered (docs/csv.md).
// export-csv's command and the library's toCsv both build on it.
import { ChunkBuffer, DEFAULT_FORMAT, makeRowEncoder, type CsvFormat } from './encode.js';
import { RowBuilder, type CellPolicy, type ColumnRule } from './row-builder.js';
import { Spill, type SpillOptions } from './spill.js';
import { EVENT_COLUMNS, USER_FIELDS } from './flatten.js';
import { isEvent, isPlainObject, type JsonObject } from '../../event/event.js';
import type { AtomicFile } from '../../durable/atomic-file.js';
import { applyPrivacy, decideColumn, hasRulesBelow, type FieldDecision, type PrivacyPolicy } from '../../redact/privacy.js';
import { REDACTED } from '../../redact/redact.js';

/** Where encoded bytes go; the chunk may be reused once the promise resolves. */
export interface ByteSink {
  write(chunk: Buffer): Promise<void>;
}

/** How records become CSV: columns, header, dialect, cell policy, spill and privacy level. */
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

/** An export at a privacy level of a policy (--privacy-policy, --privacy-level). */
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

/** The cell policy when none is given: formulas neutralised, secrets redacted. */
export const SAFE_DEFAULT_POLICY: CellPolicy = { escapeFormulas: true, redact: true };

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
export function atomicSink(file: AtomicFile): ByteSink {
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
