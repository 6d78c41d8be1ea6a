// import-csv: CSV in (the shared reader of csv/read/stream-reader.ts), one flat JSON object per row
// out. Every value is a string; an empty cell is "" (CSV cannot tell an empty string from a
// null, so nothing is invented).
import { commonArgs, defineCommand, filesArg, filterArgs, type ToolContext } from '../cli/run.js';
import { validateFormat } from '../csv/write/csv-encoder.js';
import { charOption, listOption } from '../cli/options.js';
import { CsvRowParser, type ImportOptions } from '../csv/read/stream-reader.js';
import { UsageError } from '../cli/errors.js';
import type { BadLine } from '../stream/bad-lines.js';
import type { JsonObject } from '../event/event.js';
import type { Predicate } from '../stream/filters.js';
import { readChunks, type Source } from '../stream/ndjson-reader.js';

export { CsvRowParser, type ImportOptions };

/** Library form: CSV text or chunks in, records out (bad rows reported through onBad). */
export async function* importCsv(
  chunks: Iterable<Buffer | string> | AsyncIterable<Buffer | string>,
  opts: ImportOptions & { file?: string; filter?: Predicate | null; onBad?: (bad: BadLine) => void } = {},
): AsyncGenerator<JsonObject> {
  const pending: JsonObject[] = [];
  const filter = opts.filter ?? null;
  const parser = new CsvRowParser(opts, opts.file ?? 'input', (r) => {
    if (filter === null || filter(r)) pending.push(r);
  }, opts.onBad ?? (() => undefined));
  for await (const c of chunks as AsyncIterable<Buffer | string>) {
    parser.feed(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
    yield* pending.splice(0);
  }
  parser.end();
  yield* pending.splice(0);
}

async function importSource(ctx: ToolContext, source: Source, opts: ImportOptions): Promise<boolean> {
  const out = ctx.out;
  const filter = ctx.filter;
  let count = 0;
  const parser = new CsvRowParser(
    opts,
    source.name,
    filter === null
      ? (r) => {
          out.write(r);
          count++;
        }
      : (r) => {
          if (filter(r)) out.write(r);
          count++;
        },
    (bad) => ctx.policy.add(bad),
  );
  for await (const chunk of readChunks(source, ctx.readHooks)) {
    parser.feed(chunk);
    ctx.progress.tick(count);
    count = 0;
    await out.flush();
    if (ctx.stop.stopped || out.closed) return false;
  }
  parser.end();
  await out.flush();
  return true;
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
    for (const source of ctx.sources()) {
      if (!(await importSource(ctx, source, opts))) return;
    }
  },
});
