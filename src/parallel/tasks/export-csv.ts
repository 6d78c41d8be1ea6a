// export-csv's work per block in a worker: filters, cells (redaction, formula neutralisation) and
// CSV encoding, for a fixed column list (the main thread decided it at the first record). With
// no filter, a block's lines are read by the fast reader of stream/sparse-json.ts (only the
// columns' values are built), and a line it is unsure of by the exact NDJSON reader.
import { isUtf8 } from 'node:buffer';
import { ChunkBuffer, makeRowEncoder, type CsvFormat } from '../../csv/write/encode.js';
import { RowBuilder, type CellPolicy } from '../../csv/write/row-builder.js';
import { FastRows } from '../../csv/write/fast-rows.js';
import { buildFilter, type FilterOptions } from '../../stream/filters.js';
import { stringifyExact } from '../../stream/exact-number.js';
import { ndjsonSink, type Item } from '../../stream/ndjson-reader.js';
import { LineSplitter, type LineSink } from '../../stream/line-splitter.js';
import { keyTree, SparseScanner, UNBUILT, type ValueClasses } from '../../stream/sparse-json.js';
import type { BadLine } from '../../stream/bad-lines.js';
import { columnPaths } from '../../csv/write/flatten.js';
import { blockBytes, blockReadOptions, pieces, type ParsedBlock } from '../parse-block.js';
import type { Block } from '../blocks.js';
import type { Spares, Task } from './task.js';

/** What an export worker needs: the fixed columns, cell policy, dialect and filters. */
export interface ExportTaskConfig {
  columns: string[];
  exclude?: string[];
  policy: CellPolicy;
  format: CsvFormat;
  filter: FilterOptions | null;
  /** Records of these kinds are not rows: forwarded (as NDJSON text) unless the CSV is on stdout. */
  passKinds: string[];
  forwardKinds: boolean;
}

/** What an export worker sends per block: its rows encoded, and the records to forward. */
export interface ExportBlock {
  /** The block's rows, encoded. */
  csv: Uint8Array;
  rows: number;
  rowsByType: Record<string, number>;
  /** Other stages' records to forward, as JSON text. */
  forward: string[];
  /** Records --since/--until left out for having no timestamp. */
  noTimestamp: number;
}

/** An export-csv worker: filters, safe cells and CSV encoding of each block. */
export function createTask(config: ExportTaskConfig, spares: Spares): Task<ExportBlock> {
  const builder = new RowBuilder(config.policy, config.columns, config.exclude);
  const encodeRow = makeRowEncoder(config.format);
  const stats = { noTimestamp: 0 };
  const filter = config.filter ? buildFilter(config.filter, stats) : null;
  const passKinds = new Set(config.passKinds);
  // Rows go into a buffer 16K characters at a time (one Buffer.from of the whole block's text
  // was a third of a worker's time: flattening a string of thousands of pieces).
  const chunk = new ChunkBuffer();
  let forward: string[] = [];
  // Rows by type in counters (a keyed store per row cost ~2 % of a worker), and the order each was first seen in.
  const byType = { error: 0, success: 0, other: 0 };
  let seen: Array<keyof typeof byType> = [];
  let rows = 0;
  const count = (type: unknown): void => {
    const t = type === 'error' || type === 'success' ? type : 'other';
    if (byType[t]++ === 0) seen.push(t);
    rows++;
  };
  const add = (items: Item[]): void => {
    for (let i = 0; i < items.length; i++) {
      const rec = items[i]!.value;
      if (typeof rec.kind === 'string' && passKinds.has(rec.kind)) {
        if (config.forwardKinds) forward.push(stringifyExact(rec));
        continue;
      }
      if (filter !== null && !filter(rec)) continue;
      chunk.append(encodeRow(builder.build(rec)));
      count(rec.event_type);
    }
  };
  const plan = builder.fastPlan();
  const rowsOf = plan ? FastRows.create(config.format, plan) : null;
  const fast = filter === null ? fastRows(builder.columns, rowsOf?.classes) : null;
  return {
    add,
    block: fast
      ? (block, maxLineBytes) =>
          readBlock(block, maxLineBytes, add, (buf, start, end) => {
            if (!fast.scan(buf, start, end)) return false;
            const kind = fast.kind();
            // A record to forward is needed whole: the exact reader reads it.
            if (typeof kind === 'string' && passKinds.has(kind)) return false;
            const values = fast.columns();
            if (rowsOf) rowsOf.rowInto(chunk, buf, end - start, values, fast.flags, fast.starts, fast.ends, fast.text);
            else chunk.append(encodeRow(builder.buildValues(values)));
            count(fast.eventType());
            return true;
          })
      : undefined,
    finish() {
      const taken = chunk.take();
      const out = spares.take(taken.length);
      out.set(taken);
      const csv = out.subarray(0, taken.length);
      const rowsByType: Record<string, number> = {};
      for (const t of seen) {
        rowsByType[t] = byType[t];
        byType[t] = 0;
      }
      const result: ExportBlock = { csv, rows, rowsByType, forward, noTimestamp: stats.noTimestamp };
      forward = [];
      seen = [];
      rows = 0;
      stats.noTimestamp = 0;
      return { result, transfer: [out.buffer as ArrayBuffer] };
    },
  };
}

const ERROR = Buffer.from('error');
const SUCCESS = Buffer.from('success');

/**
 * The fast reader of a line for fixed columns (stream/sparse-json.ts): only the columns' values
 * (as their accessors would read them), `kind` and `event_type` are built. Null when a column
 * name is one every object inherits (the exact reader then reads every line).
 */
function fastRows(columns: readonly string[], classes: ValueClasses | undefined) {
  const places = columns.map(columnPaths);
  const paths: string[][] = [['kind'], ['event_type']];
  for (const p of places) {
    paths.push(p.own);
    if (p.nested) paths.push(p.nested);
  }
  const tree = keyTree(paths);
  if (tree === null) return null;
  const own = places.map((p) => tree.slotOf(p.own));
  const nested = places.map((p) => (p.nested ? tree.slotOf(p.nested) : -1));
  const kindSlot = tree.slotOf(['kind']);
  const typeSlot = tree.slotOf(['event_type']);
  // With classes (FastRows), no string is built unless needed: the columns' are copied as bytes,
  // event_type's compared as bytes, kind's built only when a line has one.
  const scanner = new SparseScanner(tree, classes, classes ? new Uint8Array(tree.slots).fill(1) : undefined);
  const slotStarts = scanner.starts;
  const slotEnds = scanner.ends;
  /** Whether the UNBUILT string in `slot` is `word` (its bytes between the quotes). */
  const is = (slot: number, word: Uint8Array): boolean => {
    const s = slotStarts[slot]! + 1;
    if (slotEnds[slot]! - 1 - s !== word.length) return false;
    for (let k = 0; k < word.length; k++) if (lastBuf[s + k] !== word[k]) return false;
    return true;
  };
  let lastBuf: Buffer = Buffer.alloc(0);
  const values = scanner.values;
  const out: unknown[] = new Array(columns.length).fill(undefined);
  const flags = new Uint8Array(columns.length);
  const starts = new Int32Array(columns.length);
  const ends = new Int32Array(columns.length);
  const chosen = new Int32Array(columns.length);
  const slotFlags = scanner.flags;
  return {
    scan: (buf: Buffer, start: number, end: number): boolean => {
      lastBuf = buf;
      return scanner.scan(buf, start, end);
    },
    kind: (): unknown => (values[kindSlot] === UNBUILT ? scanner.stringAt(kindSlot) : values[kindSlot]),
    eventType(): unknown {
      const v = values[typeSlot];
      if (v !== UNBUILT) return v;
      return is(typeSlot, ERROR) ? 'error' : is(typeSlot, SUCCESS) ? 'success' : 'other';
    },
    /** With classes: each column's value's flags and its token's place (after columns()). */
    flags,
    starts,
    ends,
    /** The string an UNBUILT column holds. */
    text: (i: number): string => scanner.stringAt(chosen[i]!),
    /** Each column's value: its own top-level key, else the nested path (as columnAccessor reads). */
    columns(): unknown[] {
      for (let i = 0; i < own.length; i++) {
        let slot = own[i]!;
        if (values[slot] === undefined && nested[i] !== -1) slot = nested[i]!;
        out[i] = values[slot];
        flags[i] = slotFlags[slot]!;
        starts[i] = scanner.starts[slot]!;
        ends[i] = scanner.ends[slot]!;
        chosen[i] = slot;
      }
      return out;
    },
  };
}

/**
 * A block read line by line as parse-block.ts reads it (the same pieces, splitter and line
 * numbers): each line goes to `fast` first, and a line it does not take to the exact NDJSON
 * reader, whose record goes to `add` (or whose report to the bad lines), in input order.
 */
function readBlock(block: Block, maxLineBytes: number, add: (items: Item[]) => void, fast: (buf: Buffer, start: number, end: number) => boolean): ParsedBlock {
  const bytes = blockBytes(block);
  // The fast reader needs valid UTF-8: one check of the whole block (a block with a bad byte is read the exact way).
  const utf8 = isUtf8(bytes);
  const bad: BadLine[] = [];
  let csvLike = false;
  let records = 0;
  const batch = { out: [] as Item[] };
  const exact = ndjsonSink(block.file, batch, blockReadOptions(block, maxLineBytes, (b) => void bad.push(b), () => void (csvLike = true)));
  const sink: LineSink = {
    line(buf, start, end, lineNo) {
      if (utf8 && fast(buf, start, end)) {
        records++;
        return;
      }
      exact.line(buf, start, end, lineNo);
      if (batch.out.length) {
        records += batch.out.length;
        add(batch.out);
        batch.out = [];
      }
    },
    oversize: (head, lineNo, total) => exact.oversize(head, lineNo, total),
  };
  const splitter = new LineSplitter(sink, maxLineBytes);
  for (const piece of pieces(block, bytes)) splitter.push(piece);
  splitter.end();
  return { records, bad, csvLike };
}
