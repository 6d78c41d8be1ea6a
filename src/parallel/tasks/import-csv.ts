// import-csv's work per block in a worker: the block's CSV records read as the one-thread reader
// reads them (csv-blocks.ts), the shared filters, and each row's NDJSON text.
import { ChunkBuffer } from '../../csv/write/encode.js';
import type { ImportOptions } from '../../csv/read/stream-reader.js';
import { buildFilter, type FilterOptions } from '../../stream/filters.js';
import type { BadLine } from '../../stream/bad-lines.js';
import type { JsonObject } from '../../stream/json.js';
import { parseCsvBlock, type CsvBlock } from '../csv-blocks.js';
import type { Task } from './task.js';

/** What an import worker needs: the reader's options (the header comes with each block) and the filters. */
export interface ImportTaskConfig {
  opts: ImportOptions;
  filter: FilterOptions | null;
}

/** What an import worker sends per block: its rows as NDJSON bytes. */
export interface ImportBlock {
  ndjson: Uint8Array;
  rows: number;
  /** Rows --since/--until left out for having no timestamp. */
  noTimestamp: number;
}

/** An import-csv worker: reads each block's records, filters them and writes their NDJSON. */
export function createTask(config: ImportTaskConfig): Task<ImportBlock> {
  const stats = { noTimestamp: 0 };
  const filter = config.filter ? buildFilter(config.filter, stats) : null;
  const chunk = new ChunkBuffer();
  let rows = 0;
  // The one-thread writer's text for a record (NdjsonWriter.write); a CSV row holds strings only.
  const onRow = (row: JsonObject) => {
    if (filter !== null && !filter(row)) return;
    chunk.append(JSON.stringify(row) + '\n');
    rows++;
  };
  // No filter: the row's text straight from its cells (csv/read/row-json.ts), the same bytes.
  const onText =
    filter !== null
      ? null
      : (json: string) => {
          chunk.append(json + '\n');
          rows++;
        };
  return {
    add() {
      throw new Error('import-csv workers read blocks of CSV bytes (read())');
    },
    read(block, bad: BadLine[]): number {
      let records = 0;
      parseCsvBlock(
        block as CsvBlock,
        config.opts,
        (row) => {
          records++;
          onRow(row);
        },
        (b) => void bad.push(b),
        onText &&
          ((json) => {
            records++;
            onText(json);
          }),
      );
      return records;
    },
    finish() {
      // A buffer of its own: the main thread hands it to stdout as it is (keepResults), none comes back.
      const out = new Uint8Array(chunk.take());
      const result: ImportBlock = { ndjson: out, rows, noTimestamp: stats.noTimestamp };
      rows = 0;
      stats.noTimestamp = 0;
      return { result, transfer: [out.buffer as ArrayBuffer] };
    },
  };
}
