// The upsert ledger (export-csv --upsert): updates by key, the file rewritten once per commit.
import { open, type FileHandle } from 'node:fs/promises';
import type { Ledger, LedgerResult, LedgerRow } from './types.js';
import { LedgerBase } from './base.js';
import { scanFile } from './scan.js';
import { readRange, sha256OfFile } from './io.js';
import { openAtomic, writeFailure, type AtomicFile } from '../atomic-file.js';
import type { FileLock } from '../file-lock.js';

function sameCells(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/**
 * Upsert mode collects updates in a Map and rewrites the file once per commit (streamed,
 * atomic, under the lock), so a run over N records costs O(file × commits), not O(N × file).
 * An update changes only the cells it names (undefined cells keep the file's value), unless
 * replaceRows; rows of the file that share a key are all updated, and none is removed.
 */
export class UpsertLedger extends LedgerBase implements Ledger {
  private pending = new Map<string, LedgerRow>();
  private newKeys = new Set<string>();
  private knownRows = 0;
  private readonly reportedDuplicates = new Set<string>();

  add(cells: LedgerRow): void {
    this.checkOpen();
    const key = cells[this.keyIdx] ?? '';
    const before = this.pending.get(key);
    if (this.opts.replaceRows) this.pending.set(key, cells.map((c) => c ?? ''));
    else if (!before) this.pending.set(key, cells.slice());
    else for (let i = 0; i < cells.length; i++) if (cells[i] !== undefined) before[i] = cells[i];
    this.armTimer();
  }

  protected pendingCount(): number {
    return this.pending.size;
  }

  protected batchLimit(): number {
    return Math.max(1000, this.knownRows / 10);
  }

  private restore(pending: Map<string, LedgerRow>): void {
    // Updates taken since are newer: they win cell by cell over the ones being restored.
    for (const [k, v] of this.pending) {
      const old = pending.get(k);
      if (!old) pending.set(k, v);
      else for (let i = 0; i < v.length; i++) if (v[i] !== undefined) old[i] = v[i];
    }
    this.pending = pending;
  }

  private result(rows: number, bytes: number, sha256: string): LedgerResult {
    return { path: this.opts.path, rows, appended: this.appended, updated: this.updated, skipped: this.skipped, bytes, sha256 };
  }

  protected async commitPending(final: boolean): Promise<LedgerResult | null> {
    if (!final && this.pending.size === 0) return null;
    const pending = this.pending;
    this.pending = new Map();
    let lock: FileLock | undefined;
    let src: FileHandle | undefined;
    let out: AtomicFile | undefined;
    try {
      lock = await this.lock();
      src = await this.openExisting();
      const size = src ? (await src.stat()).size : 0;
      if (src && pending.size === 0) {
        const whole = await this.resultIfWhole(src, size);
        if (whole) return whole;
      }
      out = await openAtomic(this.opts.path);
      const pass = src && size > 0 ? await this.copyUpdated(src, size, pending, out) : await this.startFile(out);
      const counts = await this.appendNew(pending, pass, out);
      if (!pass.changed && src) {
        await out.abort();
        out = undefined;
        this.settle(pass.rows, counts, false);
        return final ? this.result(pass.rows, size, await sha256OfFile(src, size)) : null;
      }
      if (src && size > 0) await this.backupOnce();
      const res = await out.commit();
      out = undefined;
      this.settle(pass.rows, counts, true);
      return this.result(pass.rows, res.bytes, res.sha256);
    } catch (err) {
      this.restore(pending);
      throw err;
    } finally {
      await out?.abort();
      await src?.close().catch(() => undefined);
      await lock?.release();
    }
  }

  /** The ledger file, or undefined when there is none yet. */
  private async openExisting(): Promise<FileHandle | undefined> {
    try {
      return await open(this.opts.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw writeFailure(this.opts.path, 'open it', err);
      return undefined;
    }
  }

  /** Nothing pending (close): the result of the file as it is, when it is whole and has its header. */
  private async resultIfWhole(src: FileHandle, size: number): Promise<LedgerResult | null> {
    const scan = await scanFile(this.opts.path, src, 0, size, this.scanOpts, () => undefined);
    if (scan.torn || (!scan.sawHeader && this.opts.header) || size === 0) return null;
    this.knownRows = scan.records;
    return this.result(scan.records, size, await sha256OfFile(src, size));
  }

  /** A new (or empty) file: its BOM and header. */
  private async startFile(file: AtomicFile): Promise<Pass> {
    await file.write(this.prelude());
    return { rows: 0, found: new Map(), changedKeys: new Set(), changed: true };
  }

  /**
   * Copies the file into `file`, byte for byte except the rows a pending update changes, which
   * are encoded anew; a torn last row is left out (and reported).
   */
  private async copyUpdated(src: FileHandle, size: number, pending: Map<string, LedgerRow>, file: AtomicFile): Promise<Pass> {
    const pass: Pass = { rows: 0, found: new Map(), changedKeys: new Set(), changed: false };
    let copied = 0;
    const replace = async (start: number, end: number, row: string[]): Promise<void> => {
      await copyBytes(src, file, copied, start);
      copied = end;
      await file.write(this.encode(row));
    };
    const scan = await scanFile(this.opts.path, src, 0, size, this.scanOpts, (cells, start, end, crlf) => {
      this.fileCrlf = crlf;
      pass.rows++;
      const row = this.updatedRow(cells, pending, pass);
      return row ? replace(start, end, row) : undefined;
    });
    this.fileCrlf = scan.crlf;
    await copyBytes(src, file, copied, scan.goodEnd);
    if (scan.torn) {
      pass.changed = true;
      await this.reportTorn(src, scan.goodEnd, size, scan.torn);
    }
    if (scan.goodEnd === 0) await file.write(this.prelude());
    return pass;
  }

  /** A row of the file with its pending update applied, or null when it has none or it changes nothing. */
  private updatedRow(cells: string[], pending: Map<string, LedgerRow>, pass: Pass): string[] | null {
    const key = cells[this.keyIdx];
    const next = key === undefined ? undefined : pending.get(key);
    if (!next) return null;
    pass.found.set(key!, (pass.found.get(key!) ?? 0) + 1);
    const ncols = this.opts.columns.length;
    const merged: string[] = new Array(ncols);
    for (let i = 0; i < ncols; i++) merged[i] = next[i] ?? cells[i] ?? '';
    if (sameCells(cells, merged)) return null;
    pass.changedKeys.add(key!);
    pass.changed = true;
    return merged;
  }

  /** Appends the pending rows whose key the file does not hold; counts the others (and warns of keys on several rows). */
  private async appendNew(pending: Map<string, LedgerRow>, pass: Pass, file: AtomicFile): Promise<Counts> {
    const counts: Counts = { updated: 0, skipped: 0, appendedKeys: [] };
    const duplicates: string[] = [];
    const ncols = this.opts.columns.length;
    for (const [key, cells] of pending) {
      const count = pass.found.get(key);
      if (count !== undefined) {
        if (count > 1 && !this.reportedDuplicates.has(key)) duplicates.push(key);
        if (!pass.changedKeys.has(key)) counts.skipped++;
        else if (!this.newKeys.has(key)) counts.updated++;
        continue;
      }
      pass.changed = true;
      const row: string[] = new Array(ncols);
      for (let i = 0; i < ncols; i++) row[i] = cells[i] ?? '';
      await file.write(this.encode(row));
      pass.rows++;
      if (!this.newKeys.has(key)) counts.appendedKeys.push(key);
    }
    if (duplicates.length) {
      for (const k of duplicates) this.reportedDuplicates.add(k);
      const shown = duplicates.slice(0, 5).map((k) => JSON.stringify(k)).join(', ');
      const more = duplicates.length > 5 ? ` and ${duplicates.length - 5} more` : '';
      this.log(`${this.opts.path}: key ${shown}${more} ${duplicates.length === 1 ? 'is' : 'are'} on more than one row; every such row was updated and all were kept`);
    }
    return counts;
  }

  /** Takes a commit's counts into the run's totals (keys appended count only when the file was committed). */
  private settle(rows: number, counts: Counts, committed: boolean): void {
    this.knownRows = rows;
    this.skipped += counts.skipped;
    this.updated += counts.updated;
    if (!committed) return;
    for (const k of counts.appendedKeys) this.newKeys.add(k);
    this.appended += counts.appendedKeys.length;
  }
}

/** What one pass over the file found: rows written, pending keys held by the file (and on how many rows), keys changed. */
interface Pass {
  rows: number;
  found: Map<string, number>;
  changedKeys: Set<string>;
  changed: boolean;
}

/** A commit's counts, added to the run's totals once it is settled. */
interface Counts {
  updated: number;
  skipped: number;
  appendedKeys: string[];
}

/** Copies bytes [start, end) of the file into `file` in 1 MiB steps. */
async function copyBytes(src: FileHandle, file: AtomicFile, start: number, end: number): Promise<void> {
  for (let pos = start; pos < end; ) {
    const buf = await readRange(src, pos, Math.min(end, pos + (1 << 20)));
    if (!buf.length) break;
    await file.write(buf);
    pos += buf.length;
  }
}
