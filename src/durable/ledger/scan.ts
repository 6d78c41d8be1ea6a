// One pass over a ledger file: the header checked, each complete record handed on with its byte
// range (csv/read/byte-scanner.ts), and a torn last row told apart from a malformed file.
import type { FileHandle } from 'node:fs/promises';
import { DataError } from '../../cli/errors.js';
import { CsvScanner, type ScannedRecord } from '../../csv/read/byte-scanner.js';
import { dialect, parseRecord, Until, type Parsed } from '../../csv/read/engine.js';
import { lastByte, readRange } from './io.js';

/** A torn tail bigger than this is not a torn row but a malformed file; refuse rather than cut. */
const MAX_TORN_BYTES = 16 * 1024 * 1024;
const NL = 0x0a;
/** Read size per step when scanning an existing file (constant memory however big it is). */
const SCAN_CHUNK = 1 << 20;

/** What a scan checks the file against: its dialect, the run's columns, whether a header is expected. */
export interface ScanOptions {
  delimiter: string;
  quote: string;
  columns: string[];
  expectHeader: boolean;
}

/** What one pass found: where the good bytes end, how many records, the header, a torn tail, the line ending. */
export interface ScanResult {
  /** Offset just after the last complete, well-formed record. */
  goodEnd: number;
  /** Data records (header excluded) delivered. */
  records: number;
  /** True when a header record was found (and matched). */
  sawHeader: boolean;
  /** Why [goodEnd, size) is a torn row, or null when the file ends cleanly. */
  torn: string | null;
  /** Whether the file's first record ends with CRLF (null: not scanned from the start, or empty). */
  crlf: boolean | null;
}

/** Called for each complete data record with its byte range [start, end); may return a promise to wait for. */
export type OnRecord = (cells: string[], start: number, end: number, crlf: boolean | null) => void | Promise<void>;

/** The error of a file whose header is not the run's columns. */
export function headerMismatch(path: string, opts: ScanOptions, got: string[]): DataError {
  const d = opts.delimiter;
  return new DataError(`header does not match (file has ${got.join(d)}, run has ${opts.columns.join(d)}); nothing was written`, path);
}


/**
 * A crash tears at most the one record being written. A tail that holds a line which is a
 * whole record by itself (the right number of cells) means the file was malformed earlier, and
 * cutting would lose rows: refuse instead (a multi-line cell that looks like a row is refused too).
 */
function looksLikeOneTornRecord(tail: Buffer, opts: ScanOptions): boolean {
  const lines = tail.toString('utf8').split(/\r?\n/);
  const d = dialect(opts.delimiter, opts.quote);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line || line.includes(opts.quote)) continue;
    if ((parseRecord(line, 0, line.length, d, Until.Record) as Parsed).cells.length >= opts.columns.length) return false;
  }
  return true;
}

/**
 * One pass over [from, size): validates the header, hands each complete
 * record (and its byte range) to onRecord, and finds a torn last row without reading twice.
 */
export async function scanFile(path: string, fh: FileHandle, from: number, size: number, opts: ScanOptions, onRecord: OnRecord): Promise<ScanResult> {
  const result: ScanResult = { goodEnd: from, records: 0, sawHeader: false, torn: null, crlf: null };
  if (size <= from) return result;
  let headerPending = opts.expectHeader && from === 0;
  const deliver = (rec: ScannedRecord): void | Promise<void> => {
    if (from === 0 && result.crlf === null) result.crlf = rec.crlf;
    result.goodEnd = rec.end;
    if (headerPending) {
      headerPending = false;
      const same = rec.cells.length === opts.columns.length && rec.cells.every((c, i) => c === opts.columns[i]);
      if (!same) throw headerMismatch(path, opts, rec.cells);
      result.sawHeader = true;
      return;
    }
    result.records++;
    return onRecord(rec.cells, rec.start, rec.end, result.crlf);
  };
  const scanner = new CsvScanner({ delimiter: opts.delimiter, quote: opts.quote, base: from });
  const held: { last: ScannedRecord | null } = { last: null };
  const take = async (records: ScannedRecord[]): Promise<void> => {
    for (const r of records) {
      if (held.last) {
        const pending = deliver(held.last);
        if (pending) await pending;
      }
      held.last = r;
    }
  };
  let parseError: string | null = null;
  for (let pos = from; pos < size && !scanner.error; ) {
    const chunk = await readRange(fh, pos, Math.min(size, pos + SCAN_CHUNK));
    if (!chunk.length) break;
    pos += chunk.length;
    await take(scanner.push(chunk));
  }
  const tail = scanner.end();
  await take(tail.records);
  parseError = tail.error;
  const last = held.last;
  if (parseError) {
    if (last) await deliver(last);
    const tornSize = size - result.goodEnd;
    const torn = tornSize <= MAX_TORN_BYTES ? await readRange(fh, result.goodEnd, size) : null;
    if (!torn || !looksLikeOneTornRecord(torn, opts)) {
      throw new DataError(`malformed CSV before its last row (${parseError}); nothing was written: fix or move the file`, path);
    }
    result.torn = 'its last record does not parse';
    return result;
  }
  if (!last) return result;
  const endsWithNewline = (await lastByte(fh, size)) === NL;
  const isHeader = headerPending;
  if (!endsWithNewline) {
    result.torn = 'the file does not end with a line break';
  } else if (!isHeader && last.cells.length !== opts.columns.length) {
    result.torn = `its last record has ${last.cells.length} cells, not ${opts.columns.length}`;
  }
  if (result.torn) return result;
  await deliver(last);
  return result;
}
