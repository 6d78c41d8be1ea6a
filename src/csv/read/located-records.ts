// CSV sources as batches (one per chunk read) through the one source loop (stream/source.ts):
// located records for process --from csv and a CSV registry (header names trimmed), plain rows
// for import-csv. A malformed or oversize row is a FILE:LINE bad line and the reader goes on
// with the next one, in bounded memory.
import type { BadLine, BadLinePolicy } from '../../stream/bad-lines.js';
import { CsvRowParser, type ImportOptions } from './stream-reader.js';
import type { Item, ReadOptions, Source } from '../../stream/ndjson-reader.js';
import { readSources, type SourceOptions } from '../../stream/source.js';
import type { JsonObject } from '../../event/event.js';

/** How process --from csv and a CSV registry read: the bad-line policy, the delimiter, the line limit and the source hooks. */
export interface CsvReadOptions {
  policy: BadLinePolicy;
  delimiter?: string;
  maxLineBytes?: number;
  signal?: { stopped: boolean };
  onIdle?: ReadOptions['onIdle'];
  onBytes?: ReadOptions['onBytes'];
}

/** Header row names the fields; each later row is one record tagged with its first line. */
export function readCsvRecords(sources: Source[], opts: CsvReadOptions): AsyncGenerator<Item[]> {
  return readSources<Item>(sources, opts, (file, batch) =>
    new CsvRowParser(
      { delimiter: opts.delimiter ?? ',', maxLineBytes: opts.maxLineBytes, trimHeader: true },
      file,
      (value, line) => {
        // An empty cell is an absent value, as in NDJSON a missing key: `center_id` empty and
        // `adcid` 7 is centre 7, not "no center_id".
        for (const k of Object.keys(value)) if (value[k] === '') delete value[k];
        batch.out.push({ value, file, line });
      },
      (bad) => opts.policy.add({ ...bad, error: `invalid CSV: ${bad.error}` }),
    ),
  );
}

/** import-csv's rows: one object per row (header names as written, an empty cell ""); bad rows go to onBad as they are. */
export function readCsvRows(sources: Source[], opts: ImportOptions & SourceOptions, onBad: (bad: BadLine) => void): AsyncGenerator<JsonObject[]> {
  return readSources<JsonObject>(sources, opts, (file, batch) => new CsvRowParser(opts, file, (row) => batch.out.push(row), onBad));
}
