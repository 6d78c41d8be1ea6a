// Cuts one source's bytes into blocks of whole lines (for worker threads), numbering them so a
// bad line is reported at the same FILE:LINE as a one-thread run. A line that grows past
// --max-line-bytes across reads is not buffered: it becomes an oversize report, as LineSplitter does.

/** Whole lines of one source, the first of them at `startLine`. */
export interface Block {
  file: string;
  startLine: number;
  /** The block starts the source (a UTF-8 BOM there is noise, not data). */
  atStart: boolean;
  bytes: Buffer;
}

/** A line over --max-line-bytes that spanned reads: only its head was kept. */
export interface OversizeLine {
  file: string;
  line: number;
  head: Buffer;
  totalBytes: number;
}

const NL = 0x0a;
const OVERSIZE_HEAD = 64 * 1024;

function startsWithBom(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
}

function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NL); i !== -1; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

export class BlockCutter {
  private whole: Buffer[] = [];
  private wholeLen = 0;
  private partial: Buffer[] = [];
  private partialLen = 0;
  /** The number of the first line not yet handed on. */
  private line = 1;
  private atStart = true;
  /** Bytes of a BOM at the very start (not counted in the first line's length, as LineSplitter strips it). */
  private bom = -1;
  private over: { line: number; head: Buffer; total: number } | null = null;

  constructor(
    private readonly file: string,
    private readonly maxLineBytes: number,
    /** Blocks are handed on once this many bytes of whole lines are pending. */
    private readonly target: number,
    private readonly emit: (piece: Block | OversizeLine) => void,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.bom === -1) {
      // The first three bytes decide whether the source starts with a BOM (they may come apart).
      if (this.partialLen > 0) {
        chunk = Buffer.concat([...this.partial.splice(0), chunk]);
        this.partialLen = 0;
      }
      if (chunk.length < 3) {
        this.partial.push(chunk);
        this.partialLen = chunk.length;
        return;
      }
      this.bom = startsWithBom(chunk) ? 3 : 0;
    }
    let pos = 0;
    const len = chunk.length;
    if (this.over) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        this.over.total += len;
        return;
      }
      this.over.total += nl;
      this.endOversize();
      pos = nl + 1;
    } else if (this.partialLen > 0) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        this.addPartial(chunk, 0, len);
        return;
      }
      if (this.partialLen + nl - this.bomHere() > this.maxLineBytes) {
        this.startOversize(chunk, 0, nl);
        this.endOversize();
      } else {
        for (const p of this.partial.splice(0)) this.whole.push(p);
        this.whole.push(chunk.subarray(0, nl + 1));
        this.wholeLen += this.partialLen + nl + 1;
        this.partialLen = 0;
      }
      pos = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last >= pos) {
      this.whole.push(chunk.subarray(pos, last + 1));
      this.wholeLen += last + 1 - pos;
      pos = last + 1;
    }
    if (pos < len) this.addPartial(chunk, pos, len);
    if (this.wholeLen >= this.target) this.cut();
  }

  /** Hands on the whole lines pending (the input is idle, or a block is full). */
  cut(): void {
    if (this.wholeLen === 0) return;
    const bytes = this.whole.length === 1 ? this.whole[0]! : Buffer.concat(this.whole, this.wholeLen);
    this.whole = [];
    this.wholeLen = 0;
    const startLine = this.line;
    // Counted before the block is handed on: its bytes may move to a worker (and be gone here).
    this.line += countLines(bytes);
    const atStart = this.atStart;
    this.atStart = false;
    this.emit({ file: this.file, startLine, atStart, bytes });
  }

  /** The last line may have no terminator. */
  end(): void {
    if (this.over) this.endOversize();
    if (this.partialLen > 0) {
      for (const p of this.partial.splice(0)) this.whole.push(p);
      this.wholeLen += this.partialLen;
      this.partialLen = 0;
    }
    this.cut();
  }

  /** BOM bytes inside the pending partial line (only the source's first line has them). */
  private bomHere(): number {
    return this.line === 1 && this.wholeLen === 0 && this.atStart ? Math.max(this.bom, 0) : 0;
  }

  private addPartial(chunk: Buffer, start: number, end: number): void {
    if (this.partialLen + (end - start) - this.bomHere() > this.maxLineBytes) {
      this.startOversize(chunk, start, end);
      return;
    }
    this.partial.push(chunk.subarray(start, end));
    this.partialLen += end - start;
  }

  /** Past the limit nothing more of the line is kept, as in LineSplitter. */
  private startOversize(chunk: Buffer, start: number, end: number): void {
    const skip = this.bomHere();
    this.cut();
    const joined = Buffer.concat([...this.partial.splice(0), chunk.subarray(start, end)]);
    this.over = { line: this.line, head: Buffer.from(joined.subarray(skip, skip + OVERSIZE_HEAD)), total: joined.length - skip };
    this.partialLen = 0;
    if (this.atStart) this.atStart = false;
  }

  private endOversize(): void {
    const o = this.over!;
    this.over = null;
    this.emit({ file: this.file, line: o.line, head: o.head, totalBytes: o.total });
    this.line = o.line + 1;
  }
}
