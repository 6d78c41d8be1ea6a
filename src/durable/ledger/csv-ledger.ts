// The durable CSV file behind `export-csv --append / --dedupe / --upsert / --backup`
// (docs/durability.md): results are committed as they complete, survive a crash, can be resumed, and
// several processes may write one file at the same time without interleaving or losing a row.
// Length: over 350 lines, not split yet: the scan and torn-row repair, the append ledger and
// the upsert ledger are to become ledger/{scan,append,upsert}.ts.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { DataError, invalidOption } from '../../cli/errors.js';
import { CsvScanner, firstRecord, type ScannedRecord } from '../../csv/read/byte-scanner.js';
import { openAtomic, removeStaleTemps, writeFailure, type AtomicFile } from '../atomic-file.js';
import { backupFile, backupStamp } from '../backup.js';
import { acquireLock, type FileLock, type LockInfo } from '../file-lock.js';
import { commitOnSignal } from '../cleanup.js';

/** The contract with export-csv; encodeRow is its encoder (a terminator is added if it has none). */
export interface LedgerOptions {
  path: string;
  columns: string[];
  delimiter: string;
  quote: string;
  crlf: boolean;
  bom: boolean;
  header: boolean;
  mode: 'append' | 'upsert';
  /** append: dedupe on this column; upsert: the ledger's key (required). */
  key?: string;
  /** Keep this many backups (taken once per run, before the first change); 0 or absent: none. */
  backup?: number;
  /** batch (default): one fsync per committed batch; always: one per row. */
  fsync?: 'batch' | 'always';
  lockTimeoutMs?: number;
  encodeRow: (cells: string[]) => string;
  /** Warnings (a torn row repaired, waiting for a lock); default: stderr. */
  log?: (message: string) => void;
  /**
   * Every row is committed at most this many ms after add() took it, by a timer, whatever the
   * caller does next; 0 commits at once. Default 1000; `fsync: 'always'` implies 0.
   */
  commitMs?: number;
  /** Old name of commitMs (kept for callers of the first library version). */
  upsertCommitMs?: number;
  /** upsert: a row replaces the whole old row (absent cells become empty) instead of updating the given cells. */
  replaceRows?: boolean;
}

/** What close() reports, for export-csv's `export` record (bytes and sha256 describe the final file). */
export interface LedgerResult {
  path: string;
  rows: number;
  appended: number;
  updated: number;
  skipped: number;
  bytes: number;
  sha256: string;
}

/**
 * A row for the ledger: one cell per column; `undefined` means "not in the record": upsert keeps
 * the old cell (an empty string clears it), append writes it empty.
 */
export type LedgerRow = Array<string | undefined>;

/**
 * Add() is synchronous and cheap and arms the commit timer; flush() commits what is due
 * (and reports a failed timed commit); commit() commits everything now; close() commits the rest.
 * Every method may be called by many async callers at once: commits run one at a time in this
 * process (an in-process queue in front of the file lock).
 */
export interface Ledger {
  add(cells: LedgerRow): void;
  flush(): Promise<void>;
  commit(): Promise<void>;
  close(): Promise<LedgerResult>;
}

/** Rows per write+fsync in append mode, so a huge input batch is still committed in small steps. */
const APPEND_BATCH_ROWS = 1000;
/** Docs/durability.md promises at most this long between a row's arrival and its commit. */
export const DEFAULT_COMMIT_MS = 1000;
/** A torn tail bigger than this is not a torn row but a malformed file; refuse rather than cut. */
const MAX_TORN_BYTES = 16 * 1024 * 1024;
const NL = 0x0a;
/** Read size per step when scanning an existing file (constant memory however big it is). */
const SCAN_CHUNK = 1 << 20;

interface ScanOptions {
  delimiter: string;
  quote: string;
  columns: string[];
  expectHeader: boolean;
}

interface ScanResult {
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

type OnRecord = (cells: string[], start: number, end: number, crlf: boolean | null) => void | Promise<void>;

function headerMismatch(path: string, opts: ScanOptions, got: string[]): DataError {
  const d = opts.delimiter;
  return new DataError(`header does not match (file has ${got.join(d)}, run has ${opts.columns.join(d)}); nothing was written`, path);
}

async function lastByte(fh: FileHandle, size: number): Promise<number> {
  if (size === 0) return -1;
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, size - 1);
  return b[0]!;
}

async function readRange(fh: FileHandle, start: number, end: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(end - start);
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
    if (!bytesRead) break;
    off += bytesRead;
  }
  return buf.subarray(0, off);
}

/**
 * A crash tears at most the one record being written. A tail that holds a line which is a
 * whole record by itself (the right number of cells) means the file was malformed earlier, and
 * cutting would lose rows: refuse instead (a multi-line cell that looks like a row is refused too).
 */
function looksLikeOneTornRecord(tail: Buffer, opts: ScanOptions): boolean {
  const lines = tail.toString('utf8').split(/\r?\n/);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line && line.split(opts.delimiter).length >= opts.columns.length && !line.includes(opts.quote)) return false;
  }
  return true;
}

/**
 * One pass over [from, size): validates the header, hands each complete
 * record (and its byte range) to onRecord, and finds a torn last row without reading twice.
 */
async function scanFile(path: string, fh: FileHandle, from: number, size: number, opts: ScanOptions, onRecord: OnRecord): Promise<ScanResult> {
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

function sameCells(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/** Nothing is silently lost: the cut bytes go to `<path>.torn-<stamp>` before the cut. */
async function keepTornBytes(path: string, bytes: Buffer): Promise<string> {
  const stamp = backupStamp();
  for (let n = 0; ; n++) {
    const name = `${path}.torn-${stamp}${n ? `-${n}` : ''}`;
    try {
      const fh = await open(name, 'wx');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(path, `save its torn last row to ${name}`, err);
    }
  }
}

function defaultLog(message: string): void {
  process.stderr.write(`export-csv: warning: ${message}\n`);
}

async function sha256OfFile(fh: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let pos = 0; pos < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (!bytesRead) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash.digest('hex');
}

function validate(opts: LedgerOptions): number {
  if (!opts.columns.length) throw new DataError('no columns to write', opts.path);
  const flag = opts.mode === 'upsert' ? 'upsert' : 'dedupe';
  if (opts.mode === 'upsert' && !opts.key) throw invalidOption('upsert', 'needs a key column');
  if (opts.key === undefined) return -1;
  const idx = opts.columns.indexOf(opts.key);
  if (idx < 0) throw invalidOption(flag, `must name one of the columns (${opts.columns.join(', ')})`, opts.key);
  return idx;
}

/**
 * The header of an existing CSV file (its first record), or null when the file is missing, empty
 * or its first line is incomplete; export-csv takes it as the columns of --append/--upsert.
 */
export async function readCsvHeader(path: string, delimiter: string, quote: string): Promise<string[] | null> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw writeFailure(path, 'open it', err);
  }
  try {
    const head = await readRange(fh, 0, Math.min((await fh.stat()).size, 1 << 20));
    if (!head.includes(NL)) return null;
    return firstRecord(head, delimiter, quote);
  } finally {
    await fh.close();
  }
}

/** Fail fast, before any input is read, when the existing file's header cannot match. */
async function checkHeaderEarly(opts: LedgerOptions, scanOpts: ScanOptions): Promise<void> {
  if (!opts.header) return;
  let fh: FileHandle;
  try {
    fh = await open(opts.path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw writeFailure(opts.path, 'open it', err);
  }
  try {
    const head = await readRange(fh, 0, Math.min((await fh.stat()).size, 1 << 20));
    const first = firstRecord(head, opts.delimiter, opts.quote);
    const firstLineComplete = head.includes(NL);
    if (first && firstLineComplete && !(first.length === opts.columns.length && first.every((c, i) => c === opts.columns[i]))) {
      throw headerMismatch(opts.path, scanOpts, first);
    }
  } finally {
    await fh.close();
  }
}

/** The one entry point; validates options and the existing header before any row is taken. */
export async function openLedger(opts: LedgerOptions): Promise<Ledger> {
  const keyIdx = validate(opts);
  const scanOpts: ScanOptions = { delimiter: opts.delimiter, quote: opts.quote, columns: opts.columns, expectHeader: opts.header };
  await checkHeaderEarly(opts, scanOpts);
  return opts.mode === 'upsert' ? new UpsertLedger(opts, keyIdx, scanOpts) : new AppendLedger(opts, keyIdx, scanOpts);
}

abstract class LedgerBase {
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
class AppendLedger extends LedgerBase implements Ledger {
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
      let size = await this.catchUp(fh);
      const always = this.opts.fsync === 'always';
      let chunk: string[] = [];
      let chunkRows = 0;
      const writeChunk = async (): Promise<void> => {
        if (!chunk.length) return;
        if (!this.backedUp && this.opts.backup) await this.backupOnce();
        const buf = Buffer.from(chunk.join(''));
        await this.writeAt(fh!, buf, size, size);
        size += buf.length;
        this.state!.size = size;
        this.state!.tail = Buffer.concat([this.state!.tail, buf.subarray(Math.max(0, buf.length - TAIL_PROBE))]).subarray(-TAIL_PROBE);
        this.state!.records += chunkRows;
        this.appended += chunkRows;
        chunk = [];
        chunkRows = 0;
        done = next;
      };
      let next = 0;
      for (const cells of rows) {
        next++;
        if (this.keyIdx >= 0) {
          const key = cells[this.keyIdx] ?? '';
          if (this.keys.has(key)) {
            this.skipped++;
            continue;
          }
          this.keys.add(key);
        }
        chunk.push(this.encode(cells));
        chunkRows++;
        if (always || chunkRows >= APPEND_BATCH_ROWS) await writeChunk();
      }
      await writeChunk();
      if (!final) return null;
      return {
        path: this.opts.path,
        rows: this.state!.records,
        appended: this.appended,
        updated: 0,
        skipped: this.skipped,
        bytes: size,
        sha256: await sha256OfFile(fh, size),
      };
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

/**
 * Upsert mode collects updates in a Map and rewrites the file once per commit (streamed,
 * atomic, under the lock), so a run over N records costs O(file × commits), not O(N × file).
 * An update changes only the cells it names (undefined cells keep the file's value), unless
 * replaceRows; rows of the file that share a key are all updated, and none is removed.
 */
class UpsertLedger extends LedgerBase implements Ledger {
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
    const { path } = this.opts;
    const pending = this.pending;
    this.pending = new Map();
    let lock: FileLock | undefined;
    let src: FileHandle | undefined;
    let out: AtomicFile | undefined;
    try {
      lock = await this.lock();
      try {
        src = await open(path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw writeFailure(path, 'open it', err);
      }
      const size = src ? (await src.stat()).size : 0;
      if (src && pending.size === 0) {
        const scan = await scanFile(path, src, 0, size, this.scanOpts, () => undefined);
        if (!scan.torn && (scan.sawHeader || !this.opts.header) && size > 0) {
          this.knownRows = scan.records;
          return this.result(scan.records, size, await sha256OfFile(src, size));
        }
      }
      out = await openAtomic(path);
      const file = out;
      const ncols = this.opts.columns.length;
      let rows = 0;
      /** Keys of pending updates found in the file, and how many rows hold each. */
      const found = new Map<string, number>();
      const changedKeys = new Set<string>();
      let changed = !src || size === 0;
      let copyFrom = 0;
      const copy = async (start: number, end: number): Promise<void> => {
        for (let pos = start; pos < end; ) {
          const buf = await readRange(src!, pos, Math.min(end, pos + (1 << 20)));
          if (!buf.length) break;
          await file.write(buf);
          pos += buf.length;
        }
      };
      if (src && size > 0) {
        const idx = this.keyIdx;
        const scan = await scanFile(path, src, 0, size, this.scanOpts, (cells, start, end, crlf) => {
          this.fileCrlf = crlf;
          rows++;
          const key = cells[idx];
          const next = key === undefined ? undefined : pending.get(key);
          if (!next) return;
          found.set(key!, (found.get(key!) ?? 0) + 1);
          const merged: string[] = new Array(ncols);
          for (let i = 0; i < ncols; i++) merged[i] = next[i] ?? cells[i] ?? '';
          if (sameCells(cells, merged)) return;
          changedKeys.add(key!);
          changed = true;
          return (async () => {
            await copy(copyFrom, start);
            copyFrom = end;
            await file.write(this.encode(merged));
          })();
        });
        this.fileCrlf = scan.crlf;
        await copy(copyFrom, scan.goodEnd);
        if (scan.torn) {
          changed = true;
          await this.reportTorn(src, scan.goodEnd, size, scan.torn);
        }
        if (scan.goodEnd === 0) await file.write(this.prelude());
      } else {
        await file.write(this.prelude());
      }
      let updated = 0;
      let skipped = 0;
      const appendedKeys: string[] = [];
      const duplicates: string[] = [];
      for (const [key, cells] of pending) {
        const count = found.get(key);
        if (count !== undefined) {
          if (count > 1 && !this.reportedDuplicates.has(key)) duplicates.push(key);
          if (!changedKeys.has(key)) skipped++;
          else if (!this.newKeys.has(key)) updated++;
          continue;
        }
        changed = true;
        const row: string[] = new Array(ncols);
        for (let i = 0; i < ncols; i++) row[i] = cells[i] ?? '';
        await file.write(this.encode(row));
        rows++;
        if (!this.newKeys.has(key)) appendedKeys.push(key);
      }
      if (duplicates.length) {
        for (const k of duplicates) this.reportedDuplicates.add(k);
        const shown = duplicates.slice(0, 5).map((k) => JSON.stringify(k)).join(', ');
        const more = duplicates.length > 5 ? ` and ${duplicates.length - 5} more` : '';
        this.log(`${path}: key ${shown}${more} ${duplicates.length === 1 ? 'is' : 'are'} on more than one row; every such row was updated and all were kept`);
      }
      if (!changed && src) {
        await file.abort();
        out = undefined;
        this.knownRows = rows;
        this.skipped += skipped;
        this.updated += updated;
        return final ? this.result(rows, size, await sha256OfFile(src, size)) : null;
      }
      if (src && size > 0) await this.backupOnce();
      const res = await file.commit();
      out = undefined;
      this.knownRows = rows;
      this.skipped += skipped;
      this.updated += updated;
      for (const k of appendedKeys) this.newKeys.add(k);
      this.appended += appendedKeys.length;
      return this.result(rows, res.bytes, res.sha256);
    } catch (err) {
      this.restore(pending);
      throw err;
    } finally {
      await out?.abort();
      await src?.close().catch(() => undefined);
      await lock?.release();
    }
  }
}
