// The append ledger (export-csv --append, --dedupe): rows added at the end of the file under
// its lock, after catching up with what other writers appended.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { openAtomic, writeFailure, type AtomicFile } from '../atomic-file.js';
import type { FileLock } from '../file-lock.js';
import { LedgerBase } from './base.js';
import { readRange, sha256OfFile } from './io.js';
import { scanFile } from './scan.js';
import type { Ledger, LedgerResult, LedgerRow } from './types.js';

/** Rows per write+fsync in append mode, so a huge input batch is still committed in small steps. */
const APPEND_BATCH_ROWS = 1000;

interface AppendState {
  dev: number;
  ino: number;
  size: number;
  records: number;
  /** The last bytes before `size`: if they changed, the file was edited in place, so rescan it all. */
  tail: Buffer;
}

/** Enough bytes to notice an in-place edit (same inode, same or larger size) before trusting an offset. */
const TAIL_PROBE = 64;

/**
 * Append mode commits each batch under the lock after catching up with what other writers
 * appended since (so dedupe is exact across writers and batches never interleave).
 */
export class AppendLedger extends LedgerBase implements Ledger {
  private pending: string[][] = [];
  private keys = new Set<string>();
  private state: AppendState | null = null;

  add(cells: LedgerRow): void {
    this.checkOpen();
    this.pending.push(cells.map((c) => c ?? ''));
    this.armTimer();
  }

  protected pendingCount(): number {
    return this.pending.length;
  }

  protected batchLimit(): number {
    return APPEND_BATCH_ROWS;
  }

  private async createIfMissing(): Promise<boolean> {
    try {
      const st = await stat(this.opts.path);
      if (st.size > 0) return false;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw writeFailure(this.opts.path, 'open it', err);
    }
    const file: AtomicFile = await openAtomic(this.opts.path);
    try {
      await file.write(this.prelude());
      await file.commit();
    } catch (err) {
      await file.abort();
      throw err;
    }
    this.state = null;
    return true;
  }

  /** Brings keys, record count and size up to date with the file (full scan on a new inode or a shrink). */
  private async catchUp(fh: FileHandle): Promise<number> {
    const st = await fh.stat();
    let fresh = !this.state || this.state.ino !== st.ino || this.state.dev !== st.dev || st.size < this.state.size;
    if (!fresh) {
      const { size, tail } = this.state!;
      fresh = !(await readRange(fh, size - tail.length, size)).equals(tail);
    }
    if (fresh) this.keys.clear();
    const from = fresh ? 0 : this.state!.size;
    const base = fresh ? 0 : this.state!.records;
    const idx = this.keyIdx;
    const scan = await scanFile(this.opts.path, fh, from, st.size, this.scanOpts, (cells) => {
      if (idx >= 0 && cells[idx] !== undefined) this.keys.add(cells[idx]!);
    });
    if (fresh) this.fileCrlf = scan.crlf;
    let size = st.size;
    if (scan.torn) {
      await this.backupOnce();
      await this.reportTorn(fh, scan.goodEnd, st.size, scan.torn);
      try {
        await fh.truncate(scan.goodEnd);
        await fh.sync();
      } catch (err) {
        throw writeFailure(this.opts.path, 'cut its torn last row', err);
      }
      size = scan.goodEnd;
    }
    if (size === 0 && (this.opts.header || this.opts.bom)) {
      const prelude = Buffer.from(this.prelude());
      await this.writeAt(fh, prelude, 0, 0);
      size = prelude.length;
    }
    this.state = { dev: st.dev, ino: st.ino, size, records: base + scan.records, tail: await readRange(fh, Math.max(0, size - TAIL_PROBE), size) };
    return size;
  }

  private async writeAt(fh: FileHandle, buf: Buffer, pos: number, restoreTo: number): Promise<void> {
    try {
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await fh.write(buf, off, buf.length - off, pos + off);
        off += bytesWritten;
      }
      await fh.sync();
    } catch (err) {
      await fh.truncate(restoreTo).catch(() => undefined);
      await fh.sync().catch(() => undefined);
      throw writeFailure(this.opts.path, 'append to it', err, 'the rows committed before are kept and the unfinished batch was removed');
    }
  }

  /** Dedupe: whether the row's key is already in the file or in this run (then it is counted as skipped). */
  private isDuplicate(cells: string[]): boolean {
    if (this.keyIdx < 0) return false;
    const key = cells[this.keyIdx] ?? '';
    if (this.keys.has(key)) {
      this.skipped++;
      return true;
    }
    this.keys.add(key);
    return false;
  }

  /** Writes encoded rows at the end of the file (fsynced; a failed write is cut off again) and moves the state past them. */
  private async appendChunk(fh: FileHandle, chunk: string[]): Promise<void> {
    if (!this.backedUp && this.opts.backup) await this.backupOnce();
    const state = this.state!;
    const buf = Buffer.from(chunk.join(''));
    await this.writeAt(fh, buf, state.size, state.size);
    state.size += buf.length;
    state.tail = Buffer.concat([state.tail, buf.subarray(Math.max(0, buf.length - TAIL_PROBE))]).subarray(-TAIL_PROBE);
    state.records += chunk.length;
    this.appended += chunk.length;
  }

  protected async commitPending(final: boolean): Promise<LedgerResult | null> {
    if (!final && this.pending.length === 0) return null;
    const rows = this.pending;
    this.pending = [];
    let done = 0;
    let lock: FileLock;
    try {
      lock = await this.lock();
    } catch (err) {
      this.pending = rows.concat(this.pending);
      throw err;
    }
    let fh: FileHandle | undefined;
    try {
      await this.createIfMissing();
      try {
        fh = await open(this.opts.path, 'r+');
      } catch (err) {
        throw writeFailure(this.opts.path, 'open it for appending', err);
      }
      await this.catchUp(fh);
      const always = this.opts.fsync === 'always';
      let chunk: string[] = [];
      for (let n = 0; n < rows.length; n++) {
        const cells = rows[n]!;
        if (this.isDuplicate(cells)) continue;
        chunk.push(this.encode(cells));
        if (always || chunk.length >= APPEND_BATCH_ROWS) {
          await this.appendChunk(fh, chunk);
          chunk = [];
          done = n + 1;
        }
      }
      if (chunk.length) {
        await this.appendChunk(fh, chunk);
        done = rows.length;
      }
      if (!final) return null;
      const { size, records } = this.state!;
      return { path: this.opts.path, rows: records, appended: this.appended, updated: 0, skipped: this.skipped, bytes: size, sha256: await sha256OfFile(fh, size) };
    } catch (err) {
      // Rows not yet on disk stay pending, so a later commit (or close) tries them again.
      this.pending = rows.slice(done).concat(this.pending);
      // Their keys were taken for dedupe: a full rescan next time rebuilds the set from the file.
      this.state = null;
      throw err;
    } finally {
      await fh?.close().catch(() => undefined);
      await lock.release();
    }
  }
}
