// The streaming CSV reader every binary shares (import-csv, process --from csv, a CSV registry):
// a push parser over raw bytes that frames records line by line, knows each record's file and
// line, reports malformed rows as bad lines, and keeps no line longer than --max-line-bytes in
// memory. The cells come from the one parser (engine.ts).
import { makeRowEncoder } from '../write/encode.js';
import { unescapeFormula } from '../write/formula.js';
import { CsvSyntaxError, countQuotes, dialect, parseRecord, quoteOpenAfter, syntaxReason, Until, type Dialect, type Parsed } from './engine.js';
import type { BadLine } from '../../stream/bad-lines.js';
import type { JsonObject } from '../../event/event.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../stream/ndjson-reader.js';
import { bomLength } from '../../stream/bom.js';
import { cellQuoter, recordMaker, rowJsonMaker, type RowJson } from './row-json.js';

/** The reader's options (import-csv's flags; process and the registry set trimHeader). */
export interface ImportOptions {
  delimiter?: string;
  quote?: string;
  /** Column names for a headerless file; undefined: the first row is the header. */
  columns?: string[];
  unescapeFormulas?: boolean;
  /** A record (line, or quoted record spanning lines) over this many bytes is a bad line, not kept in memory. */
  maxLineBytes?: number;
  /** Trim spaces around header names (process and the registry do; import-csv keeps them as written). */
  trimHeader?: boolean;
  /** Refuse a quote inside an unquoted cell (`37"N`) instead of reading it as a literal character. */
  strictQuotes?: boolean;
}

const NL = 0x0a;
const CR = 0x0d;

/**
 * A push parser for one file: feed(chunk) and end() call onRecord for each row and onBad for
 * each malformed one (ragged, unclosed quote, stray quote) with the line where it starts.
 *
 * Lines are split on raw bytes. A line with no quote character is a whole record; a record
 * with quotes (a quoted cell may hold delimiters and line breaks) is collected until its quotes
 * balance, so a long record is parsed once. Both go through parseRecord; a malformed one is
 * reported with the reasons csv-parse gave when it read these records (the texts are kept).
 */
export class CsvRowParser {
  private header: string[] | null;
  private readonly dialect: Dialect;
  private readonly quoteByte: number;
  private readonly unescape: boolean;
  private readonly trimHeader: boolean;
  private readonly encodeRaw: (cells: readonly string[]) => string;
  private lineNo = 0;
  /** The next quote byte at or after a line of `qBuf` (one search per chunk when quotes are rare, not one per line). */
  private qBuf: Buffer | null = null;
  private qPos = -1;
  // The unfinished last line of the input so far, as parts: one concat when its line break comes
  // (re-concatenating per chunk made a 100 MB line take minutes).
  private carry: Buffer[] = [];
  private carryLen = 0;
  /** Over the limit, the unfinished line is no longer kept: only its size and quote count. */
  private dropped: { bytes: number; quotes: number } | null = null;
  private first = true;
  private inQuote = false;
  private slow: Buffer[] = [];
  private slowLen = 0;
  private slowStart = 0;
  /** The quoted record in progress went over the limit: its bytes are counted, not kept, until it closes. */
  private overflowBytes = -1;
  private readonly maxBytes: number;
  private make: ((cells: readonly string[]) => JsonObject) | null = null;
  private text: RowJson | null = null;
  /** Set: each row goes here as its JSON text (row-json.ts), not to onRecord as an object (import-csv). */
  onText: ((json: string) => void) | null = null;
  private madeFor: string[] | null = null;
  /** Frames records only (the --jobs main thread, parallel/csv-blocks.ts): no cell is parsed, no row made. */
  private frameOnly = false;
  /**
   * After feed(): the offset in the chunk just past the last line after which no record is open
   * (a place where a new parser, given the header and the line count, reads on exactly as this
   * one would), or -1; and the lines read up to there.
   */
  cleanEnd = -1;
  cleanLines = 0;

  constructor(
    opts: ImportOptions,
    private readonly file: string,
    private readonly onRecord: (rec: JsonObject, line: number) => void,
    private readonly onBad: (bad: BadLine) => void,
  ) {
    const delimiter = opts.delimiter ?? ',';
    const quote = opts.quote ?? '"';
    this.dialect = dialect(delimiter, quote, opts.strictQuotes !== true);
    this.quoteByte = this.dialect.quoteBytes[0]!;
    this.header = opts.columns ?? null;
    this.unescape = opts.unescapeFormulas === true;
    this.trimHeader = opts.trimHeader === true;
    this.encodeRaw = makeRowEncoder({ delimiter, quote, eol: '\n' });
    this.maxBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** A parser that only frames records, to find where a source can be cut (cleanEnd). */
  static framer(opts: ImportOptions, file: string): CsvRowParser {
    const p = new CsvRowParser(opts, file, () => undefined, () => undefined);
    p.frameOnly = true;
    return p;
  }

  /** The header (the first row, or the columns given); null until it is read. */
  get columns(): string[] | null {
    return this.header;
  }

  /** Reads on from a clean place of a source (a --jobs block): `lines` lines before it, the header given, no BOM. */
  resume(lines: number, header: string[]): void {
    this.lineNo = lines;
    this.header = header;
    this.first = false;
  }

  feed(chunk: Buffer): void {
    let buf = chunk;
    this.qBuf = null;
    this.cleanEnd = -1;
    if (this.first) {
      if (this.carryLen) {
        buf = Buffer.concat([...this.carry, chunk]);
        this.carry = [];
        this.carryLen = 0;
      }
      const bom = bomLength(buf);
      if (bom < 0) {
        this.keep(buf, 0, buf.length);
        return;
      }
      this.first = false;
      if (bom) buf = buf.subarray(bom);
    }
    // Where chunk starts in buf (a BOM cut off, or a carried start joined on).
    const base = buf.length - chunk.length;
    let pos = 0;
    let nl = buf.indexOf(NL, pos);
    if (nl !== -1 && (this.carryLen || this.dropped)) {
      if (this.dropped) {
        this.dropped.bytes += nl + 1;
        this.dropped.quotes += this.quotes(buf, 0, nl);
        this.droppedLine();
      } else {
        const joined = Buffer.concat([...this.carry, buf.subarray(0, nl + 1)]);
        this.carry = [];
        this.carryLen = 0;
        this.line(joined, 0, joined.length);
      }
      pos = nl + 1;
      if (!this.inQuote) this.clean(pos - base);
      nl = buf.indexOf(NL, pos);
    }
    while (nl !== -1) {
      this.line(buf, pos, nl + 1);
      pos = nl + 1;
      if (!this.inQuote) this.clean(pos - base);
      nl = buf.indexOf(NL, pos);
    }
    if (pos < buf.length) this.keep(buf, pos, buf.length);
  }

  end(): void {
    this.first = false;
    if (this.dropped) this.droppedLine();
    else if (this.carryLen) {
      const rest = Buffer.concat(this.carry);
      this.carry = [];
      this.carryLen = 0;
      this.line(rest, 0, rest.length);
    }
    if (this.inQuote) {
      const start = this.slowStart;
      const raw = this.slow.length ? this.slow[0]!.toString('utf8').replace(/\r?\n$/, '') : '';
      this.inQuote = false;
      this.slow = [];
      this.slowLen = 0;
      this.overflowBytes = -1;
      const tail = this.lineNo > start ? ` (line ${this.lineNo})` : '';
      this.onBad({ file: this.file, line: start, error: `unclosed quote: the quoted cell opened here runs to the end of the file${tail}`, raw });
    }
  }

  private clean(at: number): void {
    if (at <= 0) return;
    this.cleanEnd = at;
    this.cleanLines = this.lineNo;
  }

  private quotes(buf: Buffer, start: number, end: number): number {
    return countQuotes(buf, start, end, this.quoteByte);
  }

  /** Carries an unfinished line; past the limit only its size and quote count are kept (flat memory). */
  private keep(buf: Buffer, start: number, end: number): void {
    if (this.dropped) {
      this.dropped.bytes += end - start;
      this.dropped.quotes += this.quotes(buf, start, end);
      return;
    }
    // Copy: the caller's chunk may be reused by the stream.
    this.carry.push(Buffer.from(buf.subarray(start, end)));
    this.carryLen += end - start;
    if (this.carryLen + this.slowLen > this.maxBytes) {
      let quotes = 0;
      for (const part of this.carry) quotes += this.quotes(part, 0, part.length);
      this.dropped = { bytes: this.carryLen, quotes };
      this.carry = [];
      this.carryLen = 0;
    }
  }

  /** A line that went over the limit before its line break: a bad line, or part of an oversize quoted record. */
  private droppedLine(): void {
    const { bytes, quotes } = this.dropped!;
    this.dropped = null;
    this.lineNo++;
    if (!this.inQuote) {
      if ((quotes & 1) === 0) {
        this.onBad({ file: this.file, line: this.lineNo, error: `line is ${bytes} bytes, over the --max-line-bytes limit`, raw: '', truncated: true });
        return;
      }
      this.inQuote = true;
      this.slowStart = this.lineNo;
      this.overflowBytes = bytes;
      return;
    }
    if (this.overflowBytes < 0) this.overflowBytes = this.slowLen;
    this.overflowBytes += bytes;
    this.slow = [];
    this.slowLen = 0;
    if (quotes & 1) this.closeOverflow();
  }

  private closeOverflow(): void {
    this.inQuote = false;
    const span = this.lineNo > this.slowStart ? ` (a quoted record to line ${this.lineNo})` : '';
    this.onBad({ file: this.file, line: this.slowStart, error: `record is ${this.overflowBytes} bytes${span}, over the --max-line-bytes limit`, raw: '', truncated: true });
    this.overflowBytes = -1;
  }

  private line(buf: Buffer, start: number, end: number): void {
    this.lineNo++;
    if (!this.inQuote) {
      if (this.qBuf !== buf || (this.qPos !== -1 && this.qPos < start)) {
        this.qBuf = buf;
        this.qPos = buf.indexOf(this.quoteByte, start);
      }
      const qi = this.qPos;
      if (qi === -1 || qi >= end) {
        if (this.frameOnly) return;
        let e = end;
        if (e > start && buf[e - 1] === NL) e--;
        if (e > start && buf[e - 1] === CR) e--;
        if (e === start) return;
        if (e - start > this.maxBytes) {
          this.onBad({ file: this.file, line: this.lineNo, error: `line is ${e - start} bytes, over the --max-line-bytes limit`, raw: '', truncated: true });
          return;
        }
        const text = buf.toString('utf8', start, e);
        this.fields(text.split(this.dialect.delimiter), this.lineNo, text, false);
        return;
      }
      this.slowStart = this.lineNo;
    }
    this.inQuote = quoteOpenAfter(buf, start, end, this.inQuote, this.dialect);
    if (this.overflowBytes >= 0) {
      this.overflowBytes += end - start;
      if (!this.inQuote) this.closeOverflow();
      return;
    }
    if (!this.frameOnly) this.slow.push(Buffer.from(buf.subarray(start, end)));
    this.slowLen += end - start;
    if (this.slowLen > this.maxBytes) {
      // A quoted record this long is kept out of memory: counted until its quote closes (or the file ends).
      this.overflowBytes = this.slowLen;
      this.slow = [];
      this.slowLen = 0;
      if (!this.inQuote) this.closeOverflow();
      return;
    }
    if (!this.inQuote && this.frameOnly) {
      this.slowLen = 0;
    } else if (!this.inQuote) {
      const rec = this.slow.length === 1 ? this.slow[0]! : Buffer.concat(this.slow);
      this.slow = [];
      this.slowLen = 0;
      let e = rec.length;
      if (e > 0 && rec[e - 1] === NL) e--;
      if (e > 0 && rec[e - 1] === CR) e--;
      this.record(rec, 0, e, this.slowStart);
    }
  }

  /**
   * One framed record (without its line break) through the parser, decoded once; a malformed
   * one is a bad line. Invalid UTF-8 is parsed as bytes, so a reason names the byte as it was.
   */
  private record(buf: Buffer, start: number, end: number, line: number): void {
    const text = buf.toString('utf8', start, end);
    const bytes = text.includes('\uFFFD');
    let cells: string[];
    try {
      cells = (parseRecord(bytes ? buf : text, bytes ? start : 0, bytes ? end : text.length, this.dialect, Until.Record) as Parsed).cells;
    } catch (err) {
      if (!(err instanceof CsvSyntaxError)) throw err;
      const before = bytes ? buf.toString('utf8', start, err.offset) : text.slice(0, err.offset);
      this.onBad({ file: this.file, line, error: `malformed quoted cell: ${syntaxReason(err, before)}`, raw: text });
      return;
    }
    this.fields(cells, line, bytes ? null : text, true);
  }

  /** `text`: the record's decoded text, if it was decoded (`quoted`: with its quotes), which tells which cells need JSON escapes. */
  private fields(cells: string[], line: number, text: string | null, quoted: boolean): void {
    const header = this.header;
    if (header === null) {
      this.header = this.trimHeader ? cells.map((c) => c.trim()) : cells;
      return;
    }
    if (cells.length !== header.length) {
      this.onBad({ file: this.file, line, error: `ragged row: expected ${header.length} fields, got ${cells.length}`, raw: this.encodeRaw(cells).replace(/\n$/, '') });
      return;
    }
    if (this.unescape) {
      for (let i = 0; i < cells.length; i++) {
        const c = cells[i]!;
        if (c.charCodeAt(0) === 0x27) cells[i] = unescapeFormula(c);
      }
    }
    if (this.make === null || this.madeFor !== header) {
      this.make = recordMaker(header);
      this.text = this.onText && rowJsonMaker(header);
      this.madeFor = header;
    }
    if (this.onText === null) this.onRecord(this.make(cells), line);
    else this.onText(this.text !== null ? this.text(cells, cellQuoter(text, quoted)) : JSON.stringify(this.make(cells)));
  }
}
