// import-csv: CSV in (the shared reader of csv/read/stream-reader.ts, through the one source
// loop and the one batch loop), one flat JSON object per row out. Every value is a string; an
// empty cell is "" (CSV cannot tell an empty string from a null, so nothing is invented).
import { Readable } from 'node:stream';
import { commonArgs, defineCommand, filesArg, filterArgs } from '../cli/run.js';
import { validateFormat } from '../csv/write/encode.js';
import { charOption, listOption } from '../cli/options.js';
import { CsvRowParser, type ImportOptions } from '../csv/read/stream-reader.js';
import { readCsvRows } from '../csv/read/located-records.js';
import { UsageError } from '../cli/errors.js';
import type { BadLine } from '../stream/bad-lines.js';
import type { JsonObject } from '../event/event.js';
import type { Predicate } from '../stream/filters.js';
import type { Source } from '../stream/source.js';
import { runStage, type Stage } from '../stream/stage.js';
import type { ToolContext } from '../cli/run.js';
import { jobsArg, jobsOption } from '../parallel/jobs.js';
import { isWorkerBatch, parallelRecords, parallelStartBytes } from '../parallel/records.js';
import { CsvCutter } from '../parallel/csv-blocks.js';
import type { ImportBlock, ImportTaskConfig } from '../parallel/tasks/import-csv.js';

export { CsvRowParser, type ImportOptions };

/** Library form: CSV text or chunks in, records out (bad rows reported through onBad). */
export async function* importCsv(
  chunks: Iterable<Buffer | string> | AsyncIterable<Buffer | string>,
  opts: ImportOptions & { file?: string; filter?: Predicate | null; onBad?: (bad: BadLine) => void } = {},
): AsyncGenerator<JsonObject> {
  const filter = opts.filter ?? null;
  const source: Source = { name: opts.file ?? 'input', open: () => Readable.from(chunks) };
  for await (const rows of readCsvRows([source], opts, opts.onBad ?? (() => undefined))) {
    for (const row of rows) if (filter === null || filter(row)) yield row;
  }
}

/** The rows that pass the shared filters (--type, --where, …), as they are. */
function filterStage(filter: Predicate | null): Stage<JsonObject> {
  return {
    push: (row, emit) => {
      if (filter === null || filter(row)) emit(row);
    },
    end: () => undefined,
  };
}

export default defineCommand({
  meta: { name: 'import-csv', description: 'Read CSV and write one flat JSON object per row; all values are strings' },
  args: {
    ...filesArg,
    delimiter: { type: 'string', valueHint: 'CHAR', default: ',', description: 'Field delimiter, one character (\\t for tab)' },
    quote: { type: 'string', valueHint: 'CHAR', default: '"', description: 'Quote character' },
    columns: { type: 'string', valueHint: 'A,B,C', description: 'Column names for a headerless file (the first row is then data)' },
    'unescape-formulas': { type: 'boolean', description: 'Remove the leading \' that export-csv put before formula-looking cells' },
    'strict-quotes': { type: 'boolean', description: 'A quote inside an unquoted cell (37"N) is a bad line (default: a literal character, as Python\'s csv and spreadsheets read it)' },
    ...jobsArg,
    ...filterArgs,
    ...commonArgs,
  },
  examples: [
    { text: 'A CSV export back to NDJSON, formula escapes removed', command: 'import-csv --unescape-formulas errors.csv > errors.ndjson' },
    { text: 'A semicolon-separated file without a header', command: "import-csv --delimiter ';' --columns id,email,status users.csv" },
  ],
  seeAlso: 'CSV dialects and round trips: docs/csv.md in the package.',
  input: () => 'CSV',
  async run(ctx) {
    const fmt = validateFormat({
      delimiter: charOption('delimiter', ctx.args.delimiter),
      quote: charOption('quote', ctx.args.quote),
      eol: '\n',
    });
    const cols = listOption(ctx.list('columns'), true);
    if (ctx.list('columns').length && cols.some((c) => c === '')) throw new UsageError('invalid --columns: a column name is empty');
    const opts: ImportOptions = {
      delimiter: fmt.delimiter,
      quote: fmt.quote,
      columns: cols.length ? cols : undefined,
      unescapeFormulas: ctx.args['unescape-formulas'] === true,
      strictQuotes: ctx.args['strict-quotes'] === true,
      maxLineBytes: ctx.maxLineBytes,
    };
    const jobs = jobsOption(ctx.args.jobs);
    if (jobs > 1 && mayBeLarge(ctx)) {
      await importParallel(ctx, opts, jobs);
      return;
    }
    const rows = readCsvRows(ctx.sources(), { ...opts, signal: ctx.stop, ...ctx.readHooks }, (bad) => ctx.policy.add(bad));
    await runStage(ctx, filterStage(ctx.filter), rows);
  },
});

/** A pipe, or files that add up to the size at which workers start: small files stay on the one-thread path. */
function mayBeLarge(ctx: ToolContext): boolean {
  let known = 0;
  for (const s of ctx.sources()) {
    const size = s.size?.();
    if (size == null) return true;
    known += size;
  }
  return known >= parallelStartBytes();
}

/**
 * --jobs: blocks of whole records are read, filtered and written as NDJSON by worker threads
 * (parallel/csv-blocks.ts, tasks/import-csv.ts); the rows come back in input order, the records
 * the main thread read itself (the first ones, before the workers start) go out as before.
 */
async function importParallel(ctx: ToolContext, opts: ImportOptions, jobs: number): Promise<void> {
  const config: ImportTaskConfig = { opts, filter: ctx.filterSpec };
  const filter = ctx.filter;
  const batches = parallelRecords<ImportBlock, JsonObject>(ctx, {
    task: 'import-csv',
    jobs,
    config: () => config,
    keepResults: true,
    cutter: (file, target, emit, alloc) => new CsvCutter(file, { ...opts, maxLineBytes: ctx.maxLineBytes }, target, emit, alloc),
  });
  for await (const batch of batches) {
    if (isWorkerBatch(batch)) {
      const r = batch.result;
      ctx.filterStats.noTimestamp += r.noTimestamp;
      if (r.rows > 0) ctx.out.writeEncoded(r.ndjson, r.rows, true);
      ctx.progress.tick(batch.records);
    } else {
      for (const row of batch) if (filter === null || filter(row)) ctx.out.write(row);
      ctx.progress.tick(batch.length);
    }
    await ctx.out.flush();
    if (ctx.stop.stopped || ctx.out.closed) return;
  }
}
