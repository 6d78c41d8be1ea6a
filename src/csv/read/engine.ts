// The one CSV parser: a record's cells from raw bytes and where the next record starts, RFC 4180
// with any delimiter and quote (byte sequences), LF or CRLF, a quoted cell holding delimiters,
// doubled quotes and line breaks. Its front-ends: the streaming row reader (import-csv,
// process --from csv, CSV registries), the ledger's byte scanner and the header check. Working on
// bytes gives the scanner exact byte ranges; a line without a quote is decoded once and split on
// the delimiter, which is most rows and the speed of import-csv.

/** How a file's records are written; `lenient` reads a quote inside an unquoted cell as a literal. */
export interface Dialect {
  delimiter: string;
  quote: string;
  delimiterBytes: Buffer;
  quoteBytes: Buffer;
  /** The delimiter and quote for Buffer#indexOf: a byte when one byte long (a number is searched several times faster than a Buffer). */
  delimiterNeedle: Buffer | number;
  quoteNeedle: Buffer | number;
  /**
   * A quote inside an unquoted cell (`37"N`) is a literal character, and text after a closing
   * quote is kept with the quotes (`"a"b` → `"a"b`), as Python's csv module, spreadsheets and
   * csv-parse's relax_quotes read them; strict, both are syntax errors.
   */
  lenient: boolean;
}

/** The dialect of a delimiter and a quote (one character each, checked by the callers' options). */
export function dialect(delimiter: string, quote: string, lenient = false): Dialect {
  const delimiterBytes = Buffer.from(delimiter, 'utf8');
  const quoteBytes = Buffer.from(quote, 'utf8');
  const needle = (b: Buffer): Buffer | number => (b.length === 1 ? b[0]! : b);
  return { delimiter, quote, delimiterBytes, quoteBytes, delimiterNeedle: needle(delimiterBytes), quoteNeedle: needle(quoteBytes), lenient };
}

/** What follows the bytes given to parseRecord. */
export const enum Until {
  /** More bytes may follow: a record not finished by them is INCOMPLETE. */
  More,
  /** The input ends here; a last CR is a line break torn in two, not data. */
  Eof,
  /** The bytes are one record without its line break (the row reader frames records itself). */
  Record,
}

/** A record that the bytes so far do not finish (Until.More). */
export const INCOMPLETE = Symbol('incomplete');

/** One record: its cells and the offset of the byte after it (after its line break, if any). */
export interface Parsed {
  cells: string[];
  next: number;
}

/** Why a record is not well-formed CSV; each front-end words it in its own (pinned) texts. */
export type SyntaxCode = 'unclosed-quote' | 'text-after-quote' | 'quote-in-unquoted';

/**
 * The reason of a malformed record in the words csv-parse used when it read these records, less
 * its " at line N …" tail (bad-line reports keep their text; csv-parse's own `.*$` could not
 * strip that tail past a U+2028/U+2029 in the cell's text, so then it stays whole, as it did).
 */
export function syntaxReason(err: CsvSyntaxError, before: string): string {
  if (err.code === 'unclosed-quote') return 'Quote Not Closed: the parsing is finished with an opening quote';
  if (err.code === 'text-after-quote') return `Invalid Closing Quote: got "${err.value}"`;
  const reason = `Invalid Opening Quote: a quote is found on field ${err.field}`;
  if (!/[\u2028\u2029]/.test(err.value)) return reason;
  return `${reason} at line ${before.split(/\r\n|\r|\n/).length}, value is ${JSON.stringify(err.value)}`;
}

/** A malformed record: what is wrong, at which byte, in which cell (0-based), with the cell's text so far. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly code: SyntaxCode,
    readonly offset: number,
    readonly field: number,
    readonly value: string,
  ) {
    super(code);
  }
}

const NL = 0x0a;
const CR = 0x0d;

/**
 * What parseRecord reads: raw bytes (offsets are byte offsets, as the ledger needs), or a record
 * already decoded (offsets are UTF-16 units), which the row reader gives it: one decode per
 * record, then string searches and slices: the 140k quoted rows of the 200k-event bench CSV
 * parse in the time of the string split this engine replaced (per-cell byte decodes did not).
 */
export type CsvText = Buffer | string;

function codeAt(src: CsvText, i: number): number {
  return typeof src === 'string' ? src.charCodeAt(i) : src[i]!;
}

function textOf(src: CsvText, a: number, b: number): string {
  return typeof src === 'string' ? src.slice(a, b) : src.toString('utf8', a, b);
}

/** Whether the delimiter or quote `seq` (given as text and as bytes) is at src[i]. */
function at(src: CsvText, i: number, text: string, bytes: Buffer): boolean {
  if (typeof src === 'string') return src.startsWith(text, i);
  if (src[i] !== bytes[0]) return false;
  for (let k = 1; k < bytes.length; k++) if (src[i + k] !== bytes[k]) return false;
  return true;
}

/** The first position of `text` (as bytes: `bytes`) in src[from, end), or `end`. */
function find(src: CsvText, text: string, bytes: Buffer | number, from: number, end: number): number {
  const i = typeof src === 'string' ? src.indexOf(text, from) : src.indexOf(bytes, from);
  return i === -1 || i > end ? end : i;
}

/** The byte csv-parse named after a closing quote: the first byte of the character there. */
function byteAt(src: CsvText, j: number): string {
  if (typeof src !== 'string') return String.fromCharCode(src[j]!);
  const c = src.charCodeAt(j);
  return String.fromCharCode(c < 0x80 ? c : Buffer.from(String.fromCodePoint(src.codePointAt(j)!))[0]!);
}

/**
 * The record that starts at `start` in src[start, end). Throws CsvSyntaxError on a malformed
 * record; returns INCOMPLETE (only with Until.More) when its end is not in the bytes yet.
 */
export function parseRecord(src: CsvText, start: number, end: number, d: Dialect, until: Until): Parsed | typeof INCOMPLETE {
  const qLen = typeof src === 'string' ? d.quote.length : d.quoteBytes.length;
  const dLen = typeof src === 'string' ? d.delimiter.length : d.delimiterBytes.length;
  const final = until !== Until.More;
  const q = d.quote;
  const qn = d.quoteNeedle;
  let nextQuote = find(src, q, qn, start, end);
  let nextNl = find(src, '\n', NL, start, end);
  const cells: string[] = [];
  let i = start;
  for (;;) {
    // The cell's text before i: lenient, a quoted part followed by more text keeps its quotes.
    let prefix = '';
    if (i === nextQuote && i < end) {
      // A quoted cell runs to the quote that is not doubled.
      let cell = '';
      let seg = i + qLen;
      let j: number;
      for (;;) {
        const k = find(src, q, qn, seg, end);
        if (k >= end) {
          if (!final) return INCOMPLETE;
          throw new CsvSyntaxError('unclosed-quote', i, cells.length, '');
        }
        if (k + qLen >= end && !final) return INCOMPLETE;
        if (k + 2 * qLen <= end && at(src, k + qLen, q, d.quoteBytes)) {
          cell += textOf(src, seg, k + qLen);
          seg = k + 2 * qLen;
          continue;
        }
        cell += textOf(src, seg, k);
        j = k + qLen;
        break;
      }
      if (j >= end) {
        cells.push(cell);
        return { cells, next: j };
      }
      if (at(src, j, d.delimiter, d.delimiterBytes)) {
        cells.push(cell);
        i = j + dLen;
        nextQuote = find(src, q, qn, i, end);
        if (nextNl < i) nextNl = find(src, '\n', NL, i, end);
        continue;
      }
      const c = codeAt(src, j);
      if (c === NL) {
        cells.push(cell);
        return { cells, next: j + 1 };
      }
      if (c === CR && until !== Until.Record) {
        if (j + 1 >= end) {
          if (!final) return INCOMPLETE;
          cells.push(cell);
          return { cells, next: j + 1 };
        }
        if (codeAt(src, j + 1) === NL) {
          cells.push(cell);
          return { cells, next: j + 2 };
        }
      }
      if (!d.lenient) throw new CsvSyntaxError('text-after-quote', j, cells.length, byteAt(src, j));
      // Lenient: the quotes stay and the rest of the cell is read as unquoted text.
      prefix = q + cell + q;
      i = j;
      nextQuote = find(src, q, qn, i, end);
      if (nextNl < i) nextNl = find(src, '\n', NL, i, end);
    }
    // An unquoted cell runs to the delimiter or the line break; a quote inside it is a literal
    // (lenient) or an error (strict).
    let cellEnd = find(src, d.delimiter, d.delimiterNeedle, i, end);
    if (nextNl < cellEnd) cellEnd = nextNl;
    while (nextQuote < cellEnd) {
      if (!d.lenient) throw new CsvSyntaxError('quote-in-unquoted', nextQuote, cells.length, textOf(src, i, nextQuote));
      nextQuote = find(src, q, qn, nextQuote + qLen, end);
    }
    if (cellEnd === nextNl || cellEnd === end) {
      // The record ends at its line break (its CR is not data) or at the end of the input.
      if (cellEnd === end && !final) return INCOMPLETE;
      let e = cellEnd;
      if (e > i && codeAt(src, e - 1) === CR && (e < end ? until !== Until.Record : until === Until.Eof)) e--;
      cells.push(prefix + textOf(src, i, e));
      return { cells, next: cellEnd < end ? cellEnd + 1 : end };
    }
    cells.push(prefix + textOf(src, i, cellEnd));
    i = cellEnd + dLen;
    if (nextQuote < i) nextQuote = find(src, q, qn, i, end);
  }
}

/**
 * Whether a quoted cell is still open after the line buf[start, end) (the row reader frames
 * records line by line, so a long record never has to be parsed twice). Lenient, a quote opens a
 * quoted cell only at the start of a cell; strict, every quote toggles (a stray one is then
 * reported by parseRecord on the framed record).
 */
export function quoteOpenAfter(buf: Buffer, start: number, end: number, inQuote: boolean, d: Dialect): boolean {
  const q = d.quoteBytes[0]!;
  if (!d.lenient) return (countQuotes(buf, start, end, q) & 1) === 1 ? !inQuote : inQuote;
  const del = d.delimiterBytes[d.delimiterBytes.length - 1]!;
  let i = buf.indexOf(q, start);
  while (i !== -1 && i < end) {
    if (inQuote) {
      if (i + 1 < end && buf[i + 1] === q) {
        i = buf.indexOf(q, i + 2);
        continue;
      }
      inQuote = false;
    } else if (i === start || buf[i - 1] === del) {
      inQuote = true;
    }
    i = buf.indexOf(q, i + 1);
  }
  return inQuote;
}

/** How many quote bytes buf[start, end) holds (an oversize line is followed by its quote parity only). */
export function countQuotes(buf: Buffer, start: number, end: number, q: number): number {
  let count = 0;
  for (let i = buf.indexOf(q, start); i !== -1 && i < end; i = buf.indexOf(q, i + 1)) count++;
  return count;
}
