// export-csv's work per block in a worker: filters, cells (redaction, formula neutralisation) and
// CSV encoding, for a fixed column list (the main thread decided it at the first record).
import { ChunkBuffer, makeRowEncoder, type CsvFormat } from '../../csv/write/encode.js';
import { RowBuilder, type CellPolicy } from '../../csv/write/row-builder.js';
import { buildFilter, type FilterOptions } from '../../stream/filters.js';
import { stringifyExact } from '../../stream/exact-number.js';
import type { Item } from '../../stream/ndjson-reader.js';
import type { Spares, Task } from './task.js';

/** What an export worker needs: the fixed columns, cell policy, dialect and filters. */
export interface ExportTaskConfig {
  columns: string[];
  exclude?: string[];
  policy: CellPolicy;
  format: CsvFormat;
  filter: FilterOptions | null;
  /** Records of these kinds are not rows: forwarded (as NDJSON text) unless the CSV is on stdout. */
  passKinds: string[];
  forwardKinds: boolean;
}

/** What an export worker sends per block: its rows encoded, and the records to forward. */
export interface ExportBlock {
  /** The block's rows, encoded. */
  csv: Uint8Array;
  rows: number;
  rowsByType: Record<string, number>;
  /** Other stages' records to forward, as JSON text. */
  forward: string[];
  /** Records --since/--until left out for having no timestamp. */
  noTimestamp: number;
}

/** An export-csv worker: filters, safe cells and CSV encoding of each block. */
export function createTask(config: ExportTaskConfig, spares: Spares): Task<ExportBlock> {
  const builder = new RowBuilder(config.policy, config.columns, config.exclude);
  const encodeRow = makeRowEncoder(config.format);
  const stats = { noTimestamp: 0 };
  const filter = config.filter ? buildFilter(config.filter, stats) : null;
  const passKinds = new Set(config.passKinds);
  // Rows go into a buffer 16K characters at a time (one Buffer.from of the whole block's text
  // was a third of a worker's time: flattening a string of thousands of pieces).
  const chunk = new ChunkBuffer();
  let forward: string[] = [];
  let rowsByType: Record<string, number> = {};
  let rows = 0;
  return {
    add(items: Item[]): void {
      for (let i = 0; i < items.length; i++) {
        const rec = items[i]!.value;
        if (typeof rec.kind === 'string' && passKinds.has(rec.kind)) {
          if (config.forwardKinds) forward.push(stringifyExact(rec));
          continue;
        }
        if (filter !== null && !filter(rec)) continue;
        chunk.append(encodeRow(builder.build(rec)));
        rows++;
        const type = rec.event_type === 'error' || rec.event_type === 'success' ? rec.event_type : 'other';
        rowsByType[type] = (rowsByType[type] ?? 0) + 1;
      }
    },
    finish() {
      const taken = chunk.take();
      const out = spares.take(taken.length);
      out.set(taken);
      const csv = out.subarray(0, taken.length);
      const result: ExportBlock = { csv, rows, rowsByType, forward, noTimestamp: stats.noTimestamp };
      forward = [];
      rowsByType = {};
      rows = 0;
      stats.noTimestamp = 0;
      return { result, transfer: [out.buffer as ArrayBuffer] };
    },
  };
}
