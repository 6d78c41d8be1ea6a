// Splits a byte stream into lines on raw 0x0A bytes, so each line is decoded on its own
// (a whole-chunk decode would widen every line to two-byte strings after one CJK character).
import { bomLength } from './bom.js';

/** Receives the lines a LineSplitter finds, with their line numbers. */
export interface LineSink {
  /** A complete line without its terminator (a trailing CR is removed). */
  line(buf: Buffer, start: number, end: number, lineNo: number): void;
  /** A line longer than the limit: only its first bytes are kept. */
  oversize(head: Buffer, lineNo: number, totalBytes: number): void;
}

const NL = 0x0a;
const CR = 0x0d;
const OVERSIZE_HEAD = 64 * 1024;

/** Splits byte chunks into lines (LF or CRLF, a BOM removed), in bounded memory: a line over the limit is reported, not kept. */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryLen = 0;
  private overflowing = false;
  private overflowBytes = 0;
  private overflowHead: Buffer | null = null;
  lineNo = 0;
  private first = true;
  /** The first bytes of the input while they could still be the start of a BOM split across chunks. */
  private bomHead: Buffer | null = null;

  constructor(private readonly sink: LineSink, private readonly maxLineBytes: number) {}

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.first && chunk.length > 0) {
      if (this.bomHead) {
        chunk = Buffer.concat([this.bomHead, chunk]);
        this.bomHead = null;
      }
      const bom = bomLength(chunk);
      if (bom < 0) {
        this.bomHead = Buffer.from(chunk);
        return;
      }
      this.first = false;
      pos = bom;
    }
    const len = chunk.length;
    while (pos < len) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) {
        this.keep(chunk, pos, len);
        return;
      }
      if (this.overflowing) {
        this.overflowBytes += nl - pos;
        this.endOverflow();
      } else if (this.carryLen > 0) {
        this.keep(chunk, pos, nl);
        if (this.overflowing) this.endOverflow();
        else {
          const joined = Buffer.concat(this.carry, this.carryLen);
          this.carry = [];
          this.carryLen = 0;
          this.emit(joined, 0, joined.length);
        }
      } else {
        this.emit(chunk, pos, nl);
      }
      pos = nl + 1;
    }
  }

  /** The last line may have no terminator. */
  end(): void {
    if (this.bomHead) {
      // The input was only part of a BOM: those bytes are a (bad) line of their own.
      const head = this.bomHead;
      this.bomHead = null;
      this.first = false;
      this.push(head);
    }
    if (this.overflowing) this.endOverflow();
    else if (this.carryLen > 0) {
      const joined = Buffer.concat(this.carry, this.carryLen);
      this.carry = [];
      this.carryLen = 0;
      this.emit(joined, 0, joined.length);
    }
  }

  private emit(buf: Buffer, start: number, end: number): void {
    this.lineNo++;
    if (end > start && buf[end - 1] === CR) end--;
    if (end - start > this.maxLineBytes) {
      this.sink.oversize(buf.subarray(start, start + OVERSIZE_HEAD), this.lineNo, end - start);
      return;
    }
    this.sink.line(buf, start, end, this.lineNo);
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    if (start === end) return;
    if (this.overflowing) {
      this.overflowBytes += end - start;
      return;
    }
    if (this.carryLen + (end - start) > this.maxLineBytes) {
      // Past the limit we stop buffering: a huge line must not become an out-of-memory crash.
      const head = Buffer.concat([...this.carry, chunk.subarray(start, end)]).subarray(0, OVERSIZE_HEAD);
      this.overflowHead = Buffer.from(head);
      this.overflowBytes = this.carryLen + (end - start);
      this.overflowing = true;
      this.carry = [];
      this.carryLen = 0;
      return;
    }
    // Copy: the caller's chunk may be reused by the stream.
    this.carry.push(Buffer.from(chunk.subarray(start, end)));
    this.carryLen += end - start;
  }

  private endOverflow(): void {
    this.lineNo++;
    this.sink.oversize(this.overflowHead ?? Buffer.alloc(0), this.lineNo, this.overflowBytes);
    this.overflowing = false;
    this.overflowHead = null;
    this.overflowBytes = 0;
  }
}
