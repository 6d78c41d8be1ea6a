// The header of an existing ledger file, read with the one CSV parser before any row is taken.
import { open, type FileHandle } from 'node:fs/promises';
import { firstRecord } from '../../csv/read/byte-scanner.js';
import { writeFailure } from '../atomic-file.js';
import { readRange } from './io.js';
import { headerMismatch, type ScanOptions } from './scan.js';
import type { LedgerOptions } from './types.js';

const NL = 0x0a;

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
export async function checkHeaderEarly(opts: LedgerOptions, scanOpts: ScanOptions): Promise<void> {
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
