// A byte-exact CSV record scanner for files the ledger appends to or rewrites: it reports each
// record's cells and byte range, so a torn tail can be cut at the exact offset and untouched rows
// copied byte for byte. Written for speed (csv-parse took ~25 µs per record with offsets; this
// takes ~1 µs), RFC 4180 with any delimiter/quote, CRLF or LF, BOM, blank lines skipped.
import { bomLength } from '../../stream/bom.js';

/** One complete record, with its byte range [start, end) in the file (end after the line break). */
export interface ScannedRecord {
  cells: string[];
  start: number;
  end: number;
  /** The record ended with CRLF. */
  crlf: boolean;
}

/** What end() adds: a last record without a line break, or why the tail does not parse. */
export interface ScanEnd {
  records: ScannedRecord[];
  error: string | null;
}

const INCOMPLETE = Symbol('incomplete');
const NL = 0x0a;
const CR = 0x0d;

class ScanError extends Error {}

/** Fed chunk by chunk, returns only records whose line break has been seen, so memory stays flat. */
export class CsvScanner {
  private readonly d: Buffer;
  private readonly q: Buffer;
  private rest: Buffer = Buffer.alloc(0);
  private restStart: number;
  private checkBom: boolean;
  private failed: string | null = null;

  constructor(opts: { delimiter: string; quote: string; base: number }) {
    this.d = Buffer.from(opts.delimiter, 'utf8');
    this.q = Buffer.from(opts.quote, 'utf8');
    this.restStart = opts.base;
    this.checkBom = opts.base === 0;
  }

  /** Records completed by this chunk; after a parse error, nothing more (end() tells why). */
  push(chunk: Buffer): ScannedRecord[] {
    if (this.failed) return [];
    this.rest = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const res = this.run(false);
    this.failed = res.error;
    return res.records;
  }

  get error(): string | null {
    return this.failed;
  }

  end(): ScanEnd {
    if (this.failed) return { records: [], error: this.failed };
    return this.run(true);
  }

  private run(final: boolean): ScanEnd {
    const buf = this.rest;
    const out: ScannedRecord[] = [];
    let i = 0;
    if (this.checkBom) {
      const bom = bomLength(buf, final);
      if (bom < 0) return { records: out, error: null };
      this.checkBom = false;
      i = bom;
    }
    let error: string | null = null;
    while (i < buf.length) {
      if (buf[i] === NL) {
        i++;
        continue;
      }
      if (buf[i] === CR && i + 1 < buf.length && buf[i + 1] === NL) {
        i += 2;
        continue;
      }
      let rec: { cells: string[]; next: number } | typeof INCOMPLETE;
      try {
        rec = this.record(buf, i, final);
      } catch (err) {
        error = `${(err as Error).message} at byte ${this.restStart + i}`;
        break;
      }
      if (rec === INCOMPLETE) {
        if (final) error = `an unfinished record at byte ${this.restStart + i}`;
        break;
      }
      const crlf = rec.next >= 2 && buf[rec.next - 1] === NL && buf[rec.next - 2] === CR;
      out.push({ cells: rec.cells, start: this.restStart + i, end: this.restStart + rec.next, crlf });
      i = rec.next;
    }
    this.rest = buf.subarray(i);
    this.restStart += i;
    return { records: out, error };
  }

  private at(buf: Buffer, i: number, seq: Buffer): boolean {
    if (buf[i] !== seq[0]) return false;
    for (let k = 1; k < seq.length; k++) if (buf[i + k] !== seq[k]) return false;
    return true;
  }

  private record(buf: Buffer, start: number, final: boolean): { cells: string[]; next: number } | typeof INCOMPLETE {
    const { d, q } = this;
    const cells: string[] = [];
    let i = start;
    for (;;) {
      if (i < buf.length && this.at(buf, i, q)) {
        let j = i + q.length;
        let cell = '';
        let seg = j;
        for (;;) {
          const k = buf.indexOf(q, j);
          if (k < 0) {
            if (final) throw new ScanError('a quoted field is not closed');
            return INCOMPLETE;
          }
          if (k + q.length >= buf.length && !final) return INCOMPLETE;
          if (this.at(buf, k + q.length, q)) {
            cell += buf.toString('utf8', seg, k + q.length);
            j = k + 2 * q.length;
            seg = j;
            continue;
          }
          cell += buf.toString('utf8', seg, k);
          j = k + q.length;
          break;
        }
        cells.push(cell);
        if (j >= buf.length) return final ? { cells, next: j } : INCOMPLETE;
        if (this.at(buf, j, d)) {
          i = j + d.length;
          continue;
        }
        if (buf[j] === NL) return { cells, next: j + 1 };
        if (buf[j] === CR) {
          if (j + 1 >= buf.length) return final ? { cells, next: j + 1 } : INCOMPLETE;
          if (buf[j + 1] === NL) return { cells, next: j + 2 };
        }
        throw new ScanError('a character follows a closing quote');
      }
      let k = i;
      while (k < buf.length) {
        const b = buf[k]!;
        if (b === NL || this.at(buf, k, d)) break;
        if (this.at(buf, k, q)) throw new ScanError('a quote inside an unquoted field');
        k++;
      }
      if (k >= buf.length) {
        if (!final) return INCOMPLETE;
        cells.push(stripCr(buf.toString('utf8', i, k)));
        return { cells, next: k };
      }
      if (buf[k] === NL) {
        cells.push(stripCr(buf.toString('utf8', i, k)));
        return { cells, next: k + 1 };
      }
      cells.push(buf.toString('utf8', i, k));
      i = k + d.length;
    }
  }
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}
