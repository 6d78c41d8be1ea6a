// The ledger's contract with its callers (export-csv and the library API), apart from the code.

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

/** Docs/durability.md promises at most this long between a row's arrival and its commit. */
export const DEFAULT_COMMIT_MS = 1000;
