// What the append and upsert ledgers share: the commit queue and its timer, the commit on a
// signal, the lock (and its timeout), the row encoding that follows the file's line ending, the
// backup taken once, and the report of a repaired torn row.
import type { FileHandle } from 'node:fs/promises';
import { DataError } from '../../cli/errors.js';
import { removeStaleTemps } from '../atomic-file.js';
import { backupFile } from '../backup.js';
import { acquireLock, type FileLock, type LockInfo } from '../file-lock.js';
import { commitOnSignal } from '../cleanup.js';
import { keepTornBytes, readRange } from './io.js';
import type { ScanOptions } from './scan.js';
import { DEFAULT_COMMIT_MS, type LedgerOptions, type LedgerResult } from './types.js';

function defaultLog(message: string): void {
  process.stderr.write(`export-csv: warning: ${message}\n`);
}

/** The base of both ledgers; a subclass says what is pending and how it is committed. */
export abstract class LedgerBase {
  protected readonly log: (m: string) => void;
  protected readonly eol: string;
  protected backedUp = false;
  private tempsSwept = false;
  protected closed = false;
  appended = 0;
  updated = 0;
  skipped = 0;
  /** ms from a row's arrival to its commit (0: at once). */
  protected readonly commitMs: number;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  private readonly unhook: () => void;

  constructor(
    protected readonly opts: LedgerOptions,
    protected readonly keyIdx: number,
    protected readonly scanOpts: ScanOptions,
  ) {
    this.log = opts.log ?? defaultLog;
    this.eol = opts.crlf ? '\r\n' : '\n';
    this.commitMs = opts.fsync === 'always' ? 0 : Math.max(0, opts.commitMs ?? opts.upsertCommitMs ?? DEFAULT_COMMIT_MS);
    // SIGINT/SIGTERM/SIGHUP: what was taken is committed before the process exits.
    this.unhook = commitOnSignal(async () => {
      if (this.closed || !this.pendingCount()) return;
      this.clearTimer();
      await this.enqueue(() => this.commitPending(false));
    });
  }

  /** Rows taken but not yet committed. */
  protected abstract pendingCount(): number;
  /** Pending rows above which flush() commits at once instead of waiting for the timer. */
  protected abstract batchLimit(): number;
  /** Commits what is pending (final: also computes the result, even with nothing pending). */
  protected abstract commitPending(final: boolean): Promise<LedgerResult | null>;

  /**
   * One commit at a time per ledger, however many async callers share it; two commits of
   * one process must never wait for each other's file lock.
   */
  protected enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.chain.then(task);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The time bound is kept by a timer, not by the next input, which may never come. */
  protected armTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.enqueue(() => this.commitPending(false)).catch((err) => {
        this.failure ??= err;
      });
    }, this.commitMs);
  }

  private rethrow(): void {
    if (this.failure === null) return;
    const err = this.failure;
    this.failure = null;
    throw err;
  }

  protected checkOpen(): void {
    if (this.closed) throw new DataError('add after close', this.opts.path);
  }

  async commit(): Promise<void> {
    this.rethrow();
    this.clearTimer();
    await this.enqueue(() => this.commitPending(false));
  }

  async flush(): Promise<void> {
    this.rethrow();
    if (this.commitMs === 0 || this.pendingCount() >= this.batchLimit()) return this.commit();
    // Back-pressure: a caller faster than the commits waits for the one under way.
    await this.chain;
    this.rethrow();
  }

  async close(): Promise<LedgerResult> {
    if (this.closed) throw new DataError('ledger already closed', this.opts.path);
    this.closed = true;
    this.clearTimer();
    this.unhook();
    // A failed timed commit left its rows pending: the final commit tries them again.
    this.failure = null;
    return (await this.enqueue(() => this.commitPending(true)))!;
  }

  /** The line ending of the existing file, which appended and replaced rows follow. */
  protected fileCrlf: boolean | null = null;

  protected encode(cells: string[]): string {
    const row = this.opts.encodeRow(cells);
    if (!row.endsWith('\n')) return row + (this.fileCrlf === null ? this.eol : this.fileCrlf ? '\r\n' : '\n');
    if (this.fileCrlf === true && !row.endsWith('\r\n')) return row.slice(0, -1) + '\r\n';
    if (this.fileCrlf === false && row.endsWith('\r\n')) return row.slice(0, -2) + '\n';
    return row;
  }

  protected prelude(): string {
    return (this.opts.bom ? '\uFEFF' : '') + (this.opts.header ? this.encode(this.opts.columns) : '');
  }

  /** A wait for the lock that ran out: --lock-timeout is the whole wait, so later commits (close) fail at once. */
  private lockTimedOut: unknown = null;

  protected async lock(): Promise<FileLock> {
    if (this.lockTimedOut) throw this.lockTimedOut;
    const lock = await acquireLock(this.opts.path, {
      timeoutMs: this.opts.lockTimeoutMs,
      onWait: (holder: LockInfo | null) =>
        this.log(`${this.opts.path}: waiting for the lock held by ${holder ? `pid ${holder.pid} on ${holder.hostname}` : 'another process'}`),
    }).catch((err: unknown) => {
      if (err instanceof DataError && /still locked/.test(err.message)) this.lockTimedOut = err;
      throw err;
    });
    if (!this.tempsSwept) {
      this.tempsSwept = true;
      await removeStaleTemps(this.opts.path);
    }
    return lock;
  }

  protected async backupOnce(): Promise<void> {
    if (this.backedUp || !this.opts.backup) return;
    this.backedUp = true;
    await backupFile(this.opts.path, this.opts.backup);
  }

  protected async reportTorn(fh: FileHandle, start: number, size: number, why: string): Promise<void> {
    const bytes = await readRange(fh, start, size);
    const kept = await keepTornBytes(this.opts.path, bytes);
    this.log(`${this.opts.path}: repaired a torn last row (${why}): cut ${bytes.length} byte${bytes.length === 1 ? '' : 's'}, kept in ${kept}`);
  }
}
