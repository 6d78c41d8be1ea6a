// Cuts one source's bytes into blocks of whole lines (for worker threads), numbering them so a
// bad line is reported at the same FILE:LINE as a one-thread run. Bytes are copied into reused
// buffers (no garbage per read for the main thread to collect). A line that grows past
// --max-line-bytes across reads is not buffered: it becomes an oversize report, as in LineSplitter.

import { bomLength } from '../stream/bom.js';
import type { BadLine } from '../stream/bad-lines.js';

/** Whole lines of one source, the first of them at `startLine`. */
export interface Block {
  file: string;
  startLine: number;
  /** The block starts the source (a UTF-8 BOM there is noise, not data). */
  atStart: boolean;
  /** A view from offset 0 of a buffer that owns its ArrayBuffer (it may move to a worker). */
  bytes: Buffer;
  /**
   * Where each read of the source left the block's whole lines (offsets into bytes, rising, the
   * last = its length): the one-thread reader hands on the lines ended in one read as one batch,
   * so a block parsed in these pieces reports bad lines in the same order (parse-block.ts).
   */
  ends?: number[];
}

/** A line over --max-line-bytes that spanned reads: only its head was kept. */
export interface OversizeLine {
  file: string;
  line: number;
  head: Buffer;
  totalBytes: number;
}

/** Records a cutter parsed on the main thread (not sent to a worker), with the bad lines found with them. */
export interface SerialPart<I> {
  items: I[];
  bad: BadLine[];
}

/** What the --jobs reader (records.ts) needs of a cutter other than BlockCutter: reads in, blocks or parsed parts out. */
export interface Cutter {
  push(chunk: Buffer): void;
  /** Hands on the whole records pending (the input is idle, or a block is full). */
  cut(): void;
  end(): void;
  /** Workers are running: blocks may go to them from now on. */
  useWorkers?(): void;
}

/** Buffers that own their memory, reused; `min` bytes at least. */
export type Alloc = (min: number) => Buffer;

/** `cur`, or a bigger buffer holding its first `used` bytes, with room for `n` more. */
export function roomFor(cur: Buffer, used: number, n: number, alloc: Alloc): Buffer {
  if (used + n <= cur.length) return cur;
  const bigger = alloc(Math.max(cur.length * 2, used + n));
  cur.copy(bigger, 0, 0, used);
  return bigger;
}

const NL = 0x0a;
const OVERSIZE_HEAD = 64 * 1024;
/** Room past a block's target for the read that fills it. */
const SLACK = 256 * 1024;

function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NL); i !== -1; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

/** Cuts one source's reads into blocks of whole lines in reused buffers, counting lines so reports keep their FILE:LINE. */
export class BlockCutter {
  private cur: Buffer;
  /** Bytes in cur. */
  private used = 0;
  /** Bytes of whole lines in cur (through its last newline); the rest is a line begun. */
  private whole = 0;
  /** The number of the first line in cur. */
  private line = 1;
  private atStart = true;
  /** Bytes of a BOM at the very start (not counted in the first line's length, as LineSplitter strips it). */
  private bom = -1;
  private over: { line: number; head: Buffer; total: number } | null = null;
  /** Where each read so far left cur's whole lines. */
  private ends: number[] = [];

  constructor(
    private readonly file: string,
    private readonly maxLineBytes: number,
    /** Blocks are handed on once this many bytes of whole lines are pending. */
    private readonly target: number,
    private readonly emit: (piece: Block | OversizeLine) => void,
    private readonly alloc: Alloc = (min) => Buffer.allocUnsafeSlow(min),
  ) {
    this.cur = alloc(target + SLACK);
  }

  push(chunk: Buffer): void {
    const len = chunk.length;
    if (len === 0) return;
    let pos = 0;
    if (this.over) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        this.over.total += len;
        return;
      }
      this.over.total += nl;
      this.endOversize();
      pos = nl + 1;
    } else if (this.used > this.whole) {
      // A line begun in an earlier read: LineSplitter checks its length where it ends.
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        this.copyIn(chunk, 0, len);
        this.checkBegun();
        return;
      }
      if (this.used - this.whole + nl - this.bomHere() > this.maxLineBytes) {
        this.startOversize(chunk.subarray(0, nl));
        this.endOversize();
      } else {
        this.copyIn(chunk, 0, nl + 1);
      }
      pos = nl + 1;
    }
    if (pos < len) {
      this.copyIn(chunk, pos, len);
      this.checkBegun();
    }
    if (this.whole > (this.ends.length ? this.ends[this.ends.length - 1]! : 0)) this.ends.push(this.whole);
    if (this.whole >= this.target) this.cut();
  }

  /** Hands on the whole lines pending (the input is idle, or a block is full). */
  cut(): void {
    if (this.whole === 0) return;
    const block = this.cur.subarray(0, this.whole);
    const rest = this.used - this.whole;
    const next = this.alloc(Math.max(this.target + SLACK, rest * 2));
    this.cur.copy(next, 0, this.whole, this.used);
    const startLine = this.line;
    this.line += countLines(block);
    const atStart = this.atStart;
    // A cut inside a read (a long line filled the buffer, a line went over the limit) ends the block there.
    const ends = this.ends.filter((e) => e < this.whole);
    ends.push(this.whole);
    this.ends = [];
    this.atStart = false;
    this.cur = next;
    this.used = rest;
    this.whole = 0;
    this.emit({ file: this.file, startLine, atStart, bytes: block, ends });
  }

  /** The last line may have no terminator. */
  end(): void {
    if (this.over) this.endOversize();
    this.whole = this.used;
    this.cut();
  }

  private copyIn(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.used + n > this.cur.length) this.cut();
    this.cur = roomFor(this.cur, this.used, n, this.alloc);
    chunk.copy(this.cur, this.used, start, end);
    const last = this.cur.lastIndexOf(NL, this.used + n - 1);
    this.used += n;
    if (last >= this.used - n) this.whole = last + 1;
    if (this.bom === -1 && this.used >= 3) this.bom = bomLength(this.cur.subarray(0, 3)) === 3 ? 3 : 0;
  }

  /** BOM bytes in the line begun (only the source's first line has them). */
  private bomHere(): number {
    return this.line === 1 && this.atStart && this.whole === 0 ? Math.max(this.bom, 0) : 0;
  }

  private checkBegun(): void {
    if (this.used - this.whole - this.bomHere() > this.maxLineBytes) this.startOversize(null);
  }

  /** Past the limit nothing more of the line is kept, as in LineSplitter. */
  private startOversize(tail: Buffer | null): void {
    const skip = this.bomHere();
    this.cut();
    const begun = this.cur.subarray(skip, this.used);
    const joined = tail ? Buffer.concat([begun, tail]) : begun;
    this.over = { line: this.line, head: Buffer.from(joined.subarray(0, OVERSIZE_HEAD)), total: joined.length };
    this.used = 0;
    this.whole = 0;
    this.atStart = false;
  }

  private endOversize(): void {
    const o = this.over!;
    this.over = null;
    this.emit({ file: this.file, line: o.line, head: o.head, totalBytes: o.total });
    this.line = o.line + 1;
  }
}
