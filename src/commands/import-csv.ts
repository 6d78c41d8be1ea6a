// import-csv: CSV in (csv-parse), one flat JSON object per row out. Every value is a string;
// an empty cell is "" (CSV cannot tell an empty string from a null, so nothing is invented).
import { Parser, type CsvError, type Options as ParseOptions } from 'csv-parse';
import { commonArgs, defineCommand, filesArg, filterArgs, type ToolContext } from '../core/cli.js';
import { makeRowEncoder, parseCharOption, validateFormat } from '../core/csv-encoder.js';
import { unescapeFormula } from '../core/formula.js';
import { UsageError } from '../core/errors.js';
import type { BadLine } from '../core/bad-lines.js';
import type { JsonObject } from '../core/event.js';
import type { Predicate } from '../core/filters.js';
import type { Source } from '../core/ndjson-reader.js';

export interface ImportOptions {
  delimiter?: string;
  quote?: string;
  /** Column names for a headerless file; undefined: the first row is the header. */
  columns?: string[];
  unescapeFormulas?: boolean;
}

/** The csv-parse low-level engine behind its stream: we feed it raw chunks and take rows back. */
interface ParseApi {
  parse(buf: Buffer | undefined, end: boolean, push: (rec: unknown) => void, close: () => void): CsvError | undefined;
  info: { lines: number; records: number };
}

/**
 * A push parser for one file: feed(chunk) and end() call onRecord for each row and onBad for
 * each malformed one (ragged, unclosed quote) with the line where the bad record starts.
 */
export class CsvRowParser {
  private readonly api: ParseApi;
  private lastEnd = 0;
  private readonly push: (rec: unknown) => void;
  private readonly encodeRaw: (cells: readonly string[]) => string;

  constructor(
    opts: ImportOptions,
    private readonly file: string,
    onRecord: (rec: JsonObject) => void,
    private readonly onBad: (bad: BadLine) => void,
  ) {
    const delimiter = opts.delimiter ?? ',';
    const quote = opts.quote ?? '"';
    this.encodeRaw = makeRowEncoder({ delimiter, quote, eol: '\n' });
    const unescape = opts.unescapeFormulas === true;
    const parseOpts: ParseOptions = {
      delimiter,
      quote,
      escape: quote,
      bom: true,
      columns: opts.columns ?? true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        if (err) this.skipped(err);
        return undefined;
      },
    };
    this.api = (new Parser(parseOpts) as unknown as { api: ParseApi }).api;
    this.push = unescape
      ? (rec) => {
          const r = rec as Record<string, string>;
          for (const k in r) if (r[k]!.charCodeAt(0) === 0x27) r[k] = unescapeFormula(r[k]!);
          this.lastEnd = this.api.info.lines;
          onRecord(r);
        }
      : (rec) => {
          this.lastEnd = this.api.info.lines;
          onRecord(rec as JsonObject);
        };
  }

  private skipped(err: CsvError): void {
    const end = (err as CsvError & { lines?: number }).lines ?? this.api.info.lines;
    const start = Math.min(this.lastEnd + 1, end);
    this.lastEnd = end;
    const record = (err as CsvError & { record?: unknown }).record;
    const raw = Array.isArray(record) ? this.encodeRaw(record.map(String)).replace(/\n$/, '') : '';
    let reason: string;
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
      reason = `unclosed quote: the quoted cell opened here runs to the end of the file${end > start ? ` (line ${end})` : ''}`;
    } else if (err.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' || err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      reason = `ragged row: ${err.message.replace(/ on line \d+$/, '').replace(/^Invalid Record Length: /, '')}`;
    } else {
      reason = err.message;
    }
    this.onBad({ file: this.file, line: start, error: reason, raw });
  }

  feed(chunk: Buffer): void {
    const err = this.api.parse(chunk, false, this.push, noop);
    if (err) throw this.fatal(err);
  }

  end(): void {
    const err = this.api.parse(undefined, true, this.push, noop);
    if (err) throw this.fatal(err);
  }

  private fatal(err: CsvError): Error {
    const e = new Error(`${this.file}:${(err as CsvError & { lines?: number }).lines ?? '?'}: ${err.message}`);
    return Object.assign(e, { exitCode: 1 });
  }
}

function noop(): void {}

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
  const stream = source.open();
  try {
    for await (const chunk of stream) {
      parser.feed(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      ctx.progress.tick(count);
      count = 0;
      await out.flush();
      if (ctx.stop.stopped || out.closed) return false;
    }
    parser.end();
    await out.flush();
    return true;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code && !e.path) e.path = source.name;
    throw err;
  } finally {
    if (stream !== process.stdin) stream.destroy();
  }
}

export default defineCommand({
  meta: { name: 'import-csv', description: 'Read CSV (csv-parse) and write one flat JSON object per row; all values are strings' },
  args: {
    ...filesArg,
    delimiter: { type: 'string', valueHint: 'CHAR', default: ',', description: 'Field delimiter, one character (\\t for tab)' },
    quote: { type: 'string', valueHint: 'CHAR', default: '"', description: 'Quote character' },
    columns: { type: 'string', valueHint: 'A,B,C', description: 'Column names for a headerless file (the first row is then data)' },
    'unescape-formulas': { type: 'boolean', description: 'Remove the leading \' that export-csv put before formula-looking cells' },
    ...filterArgs,
    ...commonArgs,
  },
  async run(ctx) {
    const fmt = validateFormat({
      delimiter: parseCharOption('delimiter', ctx.args.delimiter as string),
      quote: parseCharOption('quote', ctx.args.quote as string),
      eol: '\n',
    });
    const cols = ctx.list('columns').flatMap((v) => v.split(',')).map((v) => v.trim());
    if (ctx.list('columns').length && cols.some((c) => c === '')) throw new UsageError('invalid --columns: a column name is empty');
    const opts: ImportOptions = {
      delimiter: fmt.delimiter,
      quote: fmt.quote,
      columns: cols.length ? cols : undefined,
      unescapeFormulas: ctx.args['unescape-formulas'] === true,
    };
    for (const source of ctx.sources()) {
      if (!(await importSource(ctx, source, opts))) return;
    }
  },
});
