// The durable CSV file behind `export-csv --append / --dedupe / --upsert / --backup`
// (docs/durability.md): results are committed as they complete, survive a crash, can be resumed, and
// several processes may write one file at the same time without interleaving or losing a row.
// This module is the entry (openLedger, readCsvHeader, the types); the parts: types.ts, scan.ts
// (one pass over the file, torn-row detection), io.ts, header.ts, base.ts (commit queue, timer,
// lock), append.ts and upsert.ts.
import { DataError, invalidOption } from '../../cli/errors.js';
import { AppendLedger } from './append.js';
import { checkHeaderEarly } from './header.js';
import type { ScanOptions } from './scan.js';
import type { Ledger, LedgerOptions } from './types.js';
import { UpsertLedger } from './upsert.js';

export { readCsvHeader } from './header.js';
export { type Ledger, type LedgerOptions, type LedgerResult, type LedgerRow } from './types.js';

function validate(opts: LedgerOptions): number {
  if (!opts.columns.length) throw new DataError('no columns to write', opts.path);
  const flag = opts.mode === 'upsert' ? 'upsert' : 'dedupe';
  if (opts.mode === 'upsert' && !opts.key) throw invalidOption('upsert', 'needs a key column');
  if (opts.key === undefined) return -1;
  const idx = opts.columns.indexOf(opts.key);
  if (idx < 0) throw invalidOption(flag, `must name one of the columns (${opts.columns.join(', ')})`, opts.key);
  return idx;
}

/** The one entry point; validates options and the existing header before any row is taken. */
export async function openLedger(opts: LedgerOptions): Promise<Ledger> {
  const keyIdx = validate(opts);
  const scanOpts: ScanOptions = { delimiter: opts.delimiter, quote: opts.quote, columns: opts.columns, expectHeader: opts.header };
  await checkHeaderEarly(opts, scanOpts);
  return opts.mode === 'upsert' ? new UpsertLedger(opts, keyIdx, scanOpts) : new AppendLedger(opts, keyIdx, scanOpts);
}
