// The export hot path: records → cells (compiled per column once) → one row string → a reused
// output Buffer. Hand-written rather than csv-stringify: on 1,000,000 events its sync API per
// batch cost ~+70% and a stream per record ~2.1× (BENCHMARKS.md); csv-stringify stays the reference
// that the property tests compare this encoder against.
import { invalidOption } from '../../cli/errors.js';

/** The CSV dialect written: delimiter, quote and row terminator. */
export interface CsvFormat {
  delimiter: string;
  quote: string;
  /** Row terminator: "\n" (the default) or "\r\n". */
  eol: '\n' | '\r\n';
}

/** Comma, double quote, LF: what docs/csv.md promises by default. */
export const DEFAULT_FORMAT: CsvFormat = { delimiter: ',', quote: '"', eol: '\n' };

/** Checks a dialect before use: a one-byte ASCII quote that differs from the delimiter. */
export function validateFormat(fmt: CsvFormat): CsvFormat {
  // Quotes are counted on raw bytes (line splitting, the spill's repair): a quote must be one byte.
  if (fmt.quote.charCodeAt(0) > 0x7e) throw invalidOption('quote', 'must be one ASCII character', fmt.quote);
  if (fmt.delimiter === fmt.quote) throw invalidOption('quote', 'must differ from --delimiter', fmt.quote);
  return fmt;
}

function escapeRe(c: string): string {
  return c.replace(/[\\\]^-]/g, '\\$&');
}

/** Minimal quoting: only cells holding the delimiter, the quote or a line break are quoted. */
export function makeFieldEncoder(fmt: CsvFormat): (cell: string) => string {
  const q = fmt.quote;
  const qq = q + q;
  const special = new RegExp(`[${escapeRe(fmt.delimiter)}${escapeRe(q)}\\r\\n]`);
  return (cell) => (special.test(cell) ? q + cell.replaceAll(q, qq) + q : cell);
}

/** One row with its terminator; a lone empty cell is written "" so the row is not a blank line. */
export function makeRowEncoder(fmt: CsvFormat): (cells: readonly string[]) => string {
  const field = makeFieldEncoder(fmt);
  const { delimiter, eol, quote } = fmt;
  const empty = quote + quote + eol;
  return (cells) => {
    const n = cells.length;
    if (n === 1 && cells[0] === '') return empty;
    let row = n ? field(cells[0]!) : '';
    for (let i = 1; i < n; i++) row += delimiter + field(cells[i]!);
    return row + eol;
  };
}

const INITIAL = 1 << 20;

/**
 * A growable pair of reused Buffers: rows are encoded into one while the other is being
 * written. take() hands out the filled part; the caller must finish writing a chunk before
 * calling take() a second time after it.
 */
export class ChunkBuffer {
  private bufs: [Buffer, Buffer];
  private which = 0;
  private cur: Buffer;
  private used = 0;
  total = 0;

  /** `initial`: each buffer's first size (a test makes them small, so that they grow). */
  constructor(initial = INITIAL) {
    this.bufs = [Buffer.allocUnsafe(initial), Buffer.allocUnsafe(initial)];
    this.cur = this.bufs[0];
  }

  // Rows are joined into a short string first: one Buffer.write per ~16K characters costs far
  // less than one per row (measured: buf.write was ~10% of the run when called per row).
  private text = '';

  get length(): number {
    return this.used + this.text.length;
  }

  append(text: string): void {
    this.text += text;
    if (this.text.length > 16384) this.settle();
  }

  private settle(): void {
    const text = this.text;
    if (text === '') return;
    this.text = '';
    // A UTF-16 unit is at most 3 UTF-8 bytes; the check is a bound, the write is exact.
    if (this.used + text.length * 3 > this.cur.length) this.grow(text.length * 3);
    this.used += this.cur.write(text, this.used, 'utf8');
  }

  /** Bytes already encoded (rows a worker thread made), after what is pending. */
  appendBytes(bytes: Uint8Array): void {
    this.settle();
    if (this.used + bytes.length > this.cur.length) this.grow(bytes.length);
    this.cur.set(bytes, this.used);
    this.used += bytes.length;
  }

  /**
   * The buffer to write at least `n` more bytes into, from `end` (what is pending is written
   * first). Bytes written there count once given to commit(); room() may move them to a bigger buffer.
   */
  room(n: number): Buffer {
    this.settle();
    if (this.used + n > this.cur.length) this.grow(n);
    return this.cur;
  }

  /** Where room()'s bytes go. */
  get end(): number {
    return this.used;
  }

  /** The bytes written after room() end at `end`. */
  commit(end: number): void {
    this.used = end;
  }

  take(): Buffer {
    this.settle();
    const out = this.cur.subarray(0, this.used);
    this.total += this.used;
    this.which ^= 1;
    this.cur = this.bufs[this.which]!;
    this.used = 0;
    return out;
  }

  private grow(need: number): void {
    let size = this.cur.length * 2;
    while (size < this.used + need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.cur.copy(next, 0, 0, this.used);
    this.cur = next;
    this.bufs[this.which] = next;
  }
}
