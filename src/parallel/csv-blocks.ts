// import-csv --jobs: cuts one CSV source into blocks of whole records for worker threads. A
// quoted cell may hold line breaks and the reader is lenient (a quote inside an unquoted cell is
// a literal), so records cannot be framed by counting quotes: the main thread runs the reader's
// own framing (CsvRowParser.framer: the same code, with no cell parsed) and cuts only at a line
// end after which no record is open. There the one-thread reader's state is just the header and
// the line count, so a worker's new parser, given both and the bytes in the pieces the reads gave
// (--max-line-bytes counts across reads), reads the block exactly as the one-thread reader would.
// Until the workers start, and until the header is read, the records are parsed right here by
// the one-thread reader itself, whose own framing finds the clean place where blocks begin (a
// small pipe pays no second framing); a record open for more than --max-line-bytes is also read
// here (in bounded memory, as one thread reads it) until the next clean place.
import { CsvRowParser, type ImportOptions } from '../csv/read/stream-reader.js';
import type { BadLine } from '../stream/bad-lines.js';
import type { JsonObject } from '../stream/json.js';
import { roomFor, type Alloc, type Block, type Cutter, type SerialPart } from './blocks.js';

/** Whole records of one CSV source for a worker: the header to read them with; `last` ends the source. */
export interface CsvBlock extends Block {
  header: string[];
  last: boolean;
  ends: number[];
}

/** Room past a block's target for the read that fills it. */
const SLACK = 256 * 1024;

/** Cuts a CSV source into CsvBlocks at clean places (see the top of this file), parsing here what cannot go to a worker. */
export class CsvCutter implements Cutter {
  /** Frames records while blocks are cut (a new one each time blocks start, at a clean place). */
  private framer: CsvRowParser;
  /** The one-thread reader, while records are parsed here; null while blocks are cut. */
  private serial: CsvRowParser | null;
  private items: JsonObject[] = [];
  private bad: BadLine[] = [];
  private workers = false;
  private header: string[] = [];
  private cur: Buffer;
  private used = 0;
  /** cur[0, whole) ends at a clean place, after `wholeLines` lines of the source. */
  private whole = 0;
  private wholeLines = 0;
  /** Lines of the source before cur. */
  private startLines = 0;
  /** Where each read ended in cur. */
  private ends: number[] = [];
  private readonly maxLineBytes: number;

  constructor(
    private readonly file: string,
    private readonly opts: ImportOptions & { maxLineBytes: number },
    private readonly target: number,
    private readonly emit: (piece: CsvBlock | SerialPart<JsonObject>) => void,
    private readonly alloc: Alloc = (min) => Buffer.allocUnsafeSlow(min),
  ) {
    this.framer = CsvRowParser.framer(opts, file);
    this.serial = this.parser();
    this.cur = alloc(target + SLACK);
    this.maxLineBytes = opts.maxLineBytes;
  }

  useWorkers(): void {
    this.workers = true;
  }

  push(chunk: Buffer): void {
    const p = this.serial;
    if (p) {
      // Read here: the one-thread reader's own framing tells the clean places (the same code as
      // the framer's), so the framer runs only while blocks are cut.
      p.feed(chunk);
      const clean = p.cleanEnd;
      if (this.workers && clean > 0 && p.columns !== null) {
        // Past the clean place p has only carried bytes, no row: the blocks read them again.
        this.header = p.columns;
        this.serial = null;
        this.flushSerial();
        this.startLines = this.wholeLines = p.cleanLines;
        this.framer = CsvRowParser.framer(this.opts, this.file);
        this.framer.resume(p.cleanLines, p.columns);
        if (clean < chunk.length) {
          this.framer.feed(chunk.subarray(clean));
          this.append(chunk, clean);
        }
        return;
      }
      this.flushSerial();
      return;
    }
    this.framer.feed(chunk);
    const clean = this.framer.cleanEnd;
    this.append(chunk, 0);
    if (clean > 0) {
      this.whole = this.used - chunk.length + clean;
      this.wholeLines = this.framer.cleanLines;
    }
    if (this.whole >= this.target) this.cut();
    else if (this.used - this.whole > this.maxLineBytes) this.toSerial();
  }

  cut(): void {
    if (this.serial || this.whole === 0) return;
    const cut = this.whole;
    const bytes = this.cur.subarray(0, cut);
    const ends = this.ends.filter((e) => e < cut);
    ends.push(cut);
    const rest = this.used - cut;
    const next = this.alloc(Math.max(this.target + SLACK, rest * 2));
    this.cur.copy(next, 0, cut, this.used);
    this.ends = this.ends.filter((e) => e > cut).map((e) => e - cut);
    const block: CsvBlock = { file: this.file, startLine: this.startLines + 1, atStart: false, bytes, ends, header: this.header, last: false };
    this.cur = next;
    this.used = rest;
    this.whole = 0;
    this.startLines = this.wholeLines;
    this.emit(block);
  }

  end(): void {
    if (this.serial) {
      this.serial.end();
      this.flushSerial();
      return;
    }
    if (this.used === 0) return;
    const block: CsvBlock = { file: this.file, startLine: this.startLines + 1, atStart: false, bytes: this.cur.subarray(0, this.used), ends: this.ends, header: this.header, last: true };
    this.used = this.whole = 0;
    this.ends = [];
    this.emit(block);
  }

  private parser(): CsvRowParser {
    return new CsvRowParser(this.opts, this.file, (row) => void this.items.push(row), (bad) => void this.bad.push(bad));
  }

  private flushSerial(): void {
    if (this.items.length === 0 && this.bad.length === 0) return;
    const part: SerialPart<JsonObject> = { items: this.items, bad: this.bad };
    this.items = [];
    this.bad = [];
    this.emit(part);
  }

  /** A record open too long for a block: what is whole goes as a block, the rest is read here, as one thread reads it. */
  private toSerial(): void {
    this.cut();
    const p = this.parser();
    p.resume(this.startLines, this.header);
    let from = 0;
    for (const e of this.ends) {
      p.feed(this.cur.subarray(from, e));
      from = e;
    }
    this.serial = p;
    this.used = this.whole = 0;
    this.ends = [];
    this.flushSerial();
  }

  /** Copies chunk[from, end) after cur's bytes (the reader reuses its buffer) and notes where the read ended. */
  private append(chunk: Buffer, from: number): void {
    const n = chunk.length - from;
    if (this.used + n > this.cur.length) this.cut();
    this.cur = roomFor(this.cur, this.used, n, this.alloc);
    this.used += chunk.copy(this.cur, this.used, from);
    this.ends.push(this.used);
  }
}

/** Reads a block as the one-thread reader reads that stretch of its source: rows to onRow (or, given onText, their JSON text there), bad rows to onBad. */
export function parseCsvBlock(
  block: CsvBlock,
  opts: ImportOptions,
  onRow: (row: JsonObject) => void,
  onBad: (bad: BadLine) => void,
  onText: ((json: string) => void) | null = null,
): void {
  const raw = block.bytes as Uint8Array;
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const p = new CsvRowParser(opts, block.file, onRow, onBad);
  p.onText = onText;
  p.resume(block.startLine - 1, block.header);
  let from = 0;
  for (const e of block.ends) {
    if (e > from) p.feed(bytes.subarray(from, e));
    from = e;
  }
  if (block.last) p.end();
}
