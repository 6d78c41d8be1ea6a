// CSV in as batches of located records: one csv-parse parser per file, fed chunk by chunk,
// records collected synchronously (on_record) so there is no per-record stream or promise;
// a malformed row is a FILE:LINE bad line and the parser goes on with the next one.
import { parse, type CsvError } from 'csv-parse';
import type { BadLinePolicy } from '../core/bad-lines.js';
import type { JsonObject } from '../core/event.js';
import type { Item, Source } from '../core/ndjson-reader.js';

export interface CsvReadOptions {
  policy: BadLinePolicy;
  delimiter?: string;
  signal?: { stopped: boolean };
}

function newlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Header row names the fields; each later row is one record tagged with its first line. */
export async function* readCsvRecords(sources: Source[], opts: CsvReadOptions): AsyncGenerator<Item[]> {
  for (const source of sources) {
    if (opts.signal?.stopped) return;
    const file = source.name;
    let batch: Item[] = [];
    let failure: Error | null = null;
    const parser = parse({
      columns: (header: string[]) => header.map((h) => h.trim()),
      bom: true,
      raw: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      delimiter: opts.delimiter ?? ',',
      on_record: (rec: unknown, info) => {
        const { record, raw } = rec as { record: JsonObject; raw: string };
        const inner = raw.endsWith('\n') ? newlines(raw) - 1 : newlines(raw);
        batch.push({ value: record, file, line: info.lines - inner });
        return null;
      },
      on_skip: (err: CsvError | undefined, raw: string | undefined) => {
        const line = (err as unknown as { lines?: number } | undefined)?.lines ?? 0;
        opts.policy.add({ file, line, error: `invalid CSV: ${err?.message ?? 'unreadable row'}`, raw: (raw ?? '').replace(/\r?\n$/, '') });
        return undefined;
      },
    });
    parser.on('error', (err: Error) => {
      failure = err;
    });
    parser.resume();
    const stream = source.open();
    try {
      for await (const chunk of stream) {
        parser.write(chunk as Buffer);
        if (failure) break;
        if (batch.length) {
          const full = batch;
          batch = [];
          yield full;
        }
        if (opts.signal?.stopped) return;
      }
      if (!failure) {
        await new Promise<void>((resolve) => parser.end(resolve));
      }
      if (failure) {
        const e = failure as Error;
        opts.policy.add({ file, line: (e as unknown as { lines?: number }).lines ?? 0, error: `invalid CSV: ${e.message}`, raw: '' });
      }
      if (batch.length) yield batch;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code && !e.path) e.path = file;
      throw err;
    } finally {
      if (stream !== process.stdin) stream.destroy();
    }
  }
}
