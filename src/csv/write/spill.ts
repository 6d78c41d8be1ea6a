// When columns are discovered from the data, the header is only known at the end: rows are
// spilled (memory first, then a temp file) with the column count they were encoded with, and
// replayed after the header, short rows padded with empty cells. Memory stays bounded.
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forget, removeOnSignal } from '../../durable/cleanup.js';

interface Segment {
  ncols: number;
  /** Logical end offset of this segment. */
  end: number;
}

/** Where and when the spill moves from memory to a temporary file. */
export interface SpillOptions {
  /** Bytes kept in memory before moving to a temp file. */
  memoryLimit?: number;
  /** Folder for the temp file (default: the OS temp folder). */
  dir?: string;
}

const DEFAULT_MEMORY = 16 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

/** Rows held until the header is known (discovered columns), in memory up to a limit and then in a temp file; replayed padded to the final column count. */
export class Spill {
  private readonly segs: Segment[] = [];
  private mem: Buffer[] | null = [];
  private size = 0;
  private fh: FileHandle | null = null;
  private path: string | null = null;
  private readonly limit: number;

  constructor(private readonly opts: SpillOptions = {}) {
    this.limit = opts.memoryLimit ?? DEFAULT_MEMORY;
  }

  get bytes(): number {
    return this.size;
  }

  get onDisk(): boolean {
    return this.fh !== null;
  }

  /** Appends whole rows encoded with `ncols` cells. The chunk may be reused once this resolves. */
  async add(chunk: Buffer, ncols: number): Promise<void> {
    if (chunk.length === 0) return;
    const last = this.segs[this.segs.length - 1];
    if (last && last.ncols === ncols) last.end += chunk.length;
    else this.segs.push({ ncols, end: this.size + chunk.length });
    this.size += chunk.length;
    if (this.mem) {
      this.mem.push(Buffer.from(chunk));
      if (this.size <= this.limit) return;
      await this.toDisk();
      return;
    }
    await writeAll(this.fh!, chunk);
  }

  private async toDisk(): Promise<void> {
    this.path = join(this.opts.dir ?? tmpdir(), `export-csv-spill-${process.pid}-${randomUUID()}.csv`);
    removeOnSignal(this.path);
    this.fh = await open(this.path, 'w+', 0o600);
    const mem = this.mem!;
    this.mem = null;
    for (const b of mem) await writeAll(this.fh, b);
  }

  /**
   * Replays the rows, padding rows of earlier segments to `ncols` cells. `quote` and `eol`
   * locate row ends (an unquoted CR for CRLF files, else an unquoted LF).
   */
  async *replay(ncols: number, delimiter: string, quote: string, eol: '\n' | '\r\n'): AsyncGenerator<Buffer> {
    let segIndex = 0;
    let offset = 0;
    const q = Buffer.from(quote)[0]!;
    const term = eol === '\r\n' ? 0x0d : 0x0a;
    for await (const piece of this.pieces()) {
      let start = 0;
      while (start < piece.length) {
        const seg = this.segs[segIndex]!;
        const take = Math.min(piece.length - start, seg.end - offset);
        const part = piece.subarray(start, start + take);
        const missing = ncols - seg.ncols;
        // A row of k cells needs ncols-k more delimiters; a row of none is an empty line.
        if (missing > 0) {
          const pad = seg.ncols > 0 ? delimiter.repeat(missing) : ncols === 1 ? quote + quote : delimiter.repeat(ncols - 1);
          yield padRows(part, Buffer.from(pad), q, term, this.quoteState);
        } else yield part;
        start += take;
        offset += take;
        if (offset === seg.end) {
          segIndex++;
          this.quoteState.inQuote = false;
        }
      }
    }
  }

  private readonly quoteState = { inQuote: false };

  private async *pieces(): AsyncGenerator<Buffer> {
    if (this.mem) {
      yield* this.mem;
      return;
    }
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let pos = 0;
    while (pos < this.size) {
      const { bytesRead } = await this.fh!.read(buf, 0, Math.min(READ_CHUNK, this.size - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      yield Buffer.from(buf.subarray(0, bytesRead));
    }
  }

  async dispose(): Promise<void> {
    this.mem = [];
    if (this.fh) await this.fh.close().catch(() => undefined);
    this.fh = null;
    if (this.path) {
      rmSync(this.path, { force: true });
      forget(this.path);
      this.path = null;
    }
  }
}

async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** Inserts `pad` before every unquoted row terminator byte. */
export function padRows(part: Buffer, pad: Buffer, quote: number, term: number, state: { inQuote: boolean }): Buffer {
  const out: Buffer[] = [];
  let from = 0;
  let inQuote = state.inQuote;
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === quote) inQuote = !inQuote;
    else if (c === term && !inQuote) {
      out.push(part.subarray(from, i), pad);
      from = i;
    }
  }
  state.inQuote = inQuote;
  out.push(part.subarray(from));
  return Buffer.concat(out);
}
