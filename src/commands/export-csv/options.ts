// export-csv's flags: their definitions (the help and the typed ctx.args come from them), the
// export options they give, and the checks made before the first row is written.
import { commonArgs, filesArg, filterArgs, type ToolArgs, type ToolContext } from '../../cli/run.js';
import { validateFormat } from '../../csv/write/encode.js';
import { type RowBuilder } from '../../csv/write/row-builder.js';
import { type ExportOptions } from '../../csv/write/output.js';
import { compileTemplate } from '../../csv/write/file-names.js';
import { forEachLeaf } from '../../csv/write/flatten.js';
import type { JsonObject } from '../../event/event.js';
import { charOption, durationOption, listOption } from '../../cli/options.js';
import { invalidOption, UsageError } from '../../cli/errors.js';
import { isGzipPath } from '../../durable/gzip-file.js';
import { parseDuration } from '../../cli/duration.js';
import { jobsArg } from '../../parallel/jobs.js';

/** export-csv's flags, in the order --help lists them. */
export const exportArgs = {
    ...filesArg,
    output: { type: 'string', alias: 'o', valueHint: 'PATH', description: 'Write to PATH atomically and print one export record (gzip when PATH ends in .gz); may hold {category}, {job}, {source} ({value} with --split-by)' },
    columns: { type: 'string', valueHint: 'A,B,C', description: 'Columns to write, in order (dotted paths reach nested fields; default: the event columns for events, else every key seen)' },
    exclude: { type: 'string', valueHint: 'A,B', description: 'Columns to leave out (a prefix leaves out its nested fields)' },
    rename: { type: 'string', valueHint: 'OLD=NEW', description: 'Rename a column in the header (repeatable)' },
    delimiter: { type: 'string', valueHint: 'CHAR', default: ',', description: 'Field delimiter, one character (\\t for tab)' },
    quote: { type: 'string', valueHint: 'CHAR', default: '"', description: 'Quote character' },
    header: { type: 'boolean', default: true, description: 'Write a header row (--no-header to leave it out)' },
    bom: { type: 'boolean', description: 'Start with a UTF-8 byte order mark' },
    crlf: { type: 'boolean', description: 'End rows with CRLF instead of LF' },
    excel: { type: 'boolean', description: 'For spreadsheets: BOM + CRLF + formula neutralisation' },
    'escape-formulas': { type: 'boolean', default: true, description: 'Prefix cells starting with = + - @ tab CR (not numbers) with \' (--no-escape-formulas to turn off)' },
    redact: { type: 'boolean', default: true, description: 'Replace secrets with [REDACTED] (--no-redact to turn off)' },
    'redact-key': { type: 'string', valueHint: 'REGEX', description: 'Also redact columns whose name matches REGEX, whatever the value (repeatable)' },
    'keep-key': { type: 'string', valueHint: 'REGEX', description: 'Never redact columns whose name matches REGEX (repeatable; e.g. a *_token column that holds no secret)' },
    'split-by': { type: 'string', valueHint: 'FIELD', description: 'One file per value of FIELD; -o must hold {value} or {FIELD}' },
    'allow-empty': { type: 'boolean', description: 'Let an export with no rows replace an existing non-empty file' },
    backup: { type: 'string', valueHint: 'N', bare: '5', description: 'Before changing a file, copy it to backups/ beside it and keep the N newest copies (5 when N is left out)' },
    'pass-through': { type: 'boolean', description: 'Also forward the input records to stdout (needs -o)' },
    append: { type: 'boolean', description: 'Append to the -o file durably: header checked, a torn last row repaired, a lock between concurrent writers' },
    dedupe: { type: 'string', valueHint: 'KEY', description: 'With -o: append only rows whose KEY column is not in the file yet (implies --append)' },
    upsert: { type: 'string', valueHint: 'KEY', description: 'With -o: update the fields the record has in the row with the same KEY (null clears a cell), append new keys (a status ledger)' },
    fsync: { type: 'enum', options: ['batch', 'always'], default: 'batch', valueHint: 'batch|always', description: 'With --append/--dedupe/--upsert: commit (write + fsync) rows together within --commit-interval, or each record at once on its own' },
    'commit-interval': { type: 'string', valueHint: 'DURATION', default: '1s', description: 'With --append/--dedupe/--upsert: every record is on disk at most this long after it arrived (250ms, 1s; 0 = at once)' },
    'replace-rows': { type: 'boolean', description: 'With --upsert: a record replaces the whole row (absent fields become empty) instead of updating only its fields' },
    'lock-timeout': { type: 'string', valueHint: 'DURATION', default: '60s', description: 'With --append/--dedupe/--upsert/--audit-log: how long to wait for another writer\'s lock on the file (30s, 5m, 1h)' },
    'privacy-policy': { type: 'string', valueHint: 'FILE', description: 'JSON policy giving fields a level (public < internal < confidential < restricted); fields above --privacy-level are dropped or redacted, as it says' },
    'privacy-level': { type: 'string', valueHint: 'LEVEL', description: 'Export at LEVEL (needs --privacy-policy; default: its lowest level)' },
    'audit-log': { type: 'string', valueHint: 'FILE', description: 'Also append each export record (who, privacy level, redaction, argv) to FILE as one NDJSON line, locked and fsynced' },
    ...jobsArg,
    ...filterArgs,
    ...commonArgs,
} as const satisfies ToolArgs;

/** What run() and its helpers get: ctx.args typed from exportArgs. */
export type ExportContext = ToolContext<typeof exportArgs>;

/** Records that are not data for a CSV (other stages' audit records) pass through instead. */
export const PASS_KINDS = new Set(['summary', 'export', 'notification', 'run']);
/** Whether the record is another stage's audit record, forwarded rather than written as a row. */
export function isPassThroughKind(rec: JsonObject): boolean {
  return typeof rec.kind === 'string' && PASS_KINDS.has(rec.kind);
}

function columnList(ctx: ExportContext, name: 'columns' | 'exclude'): string[] | undefined {
  const all = listOption(ctx.list(name));
  return all.length ? all : undefined;
}

function parseRename(values: string[]): Map<string, string> | undefined {
  if (!values.length) return undefined;
  const map = new Map<string, string>();
  for (const pair of listOption(values, true)) {
    const m = /^([^=]+?)\s*=\s*(.+)$/.exec(pair);
    if (!m) throw invalidOption('rename', 'must be old=new', pair);
    map.set(m[1]!, m[2]!);
  }
  return map;
}

function parseRedactKeys(flag: string, values: string[]): RegExp[] {
  return values.map((v) => {
    try {
      return new RegExp(v, 'i');
    } catch (err) {
      throw invalidOption(flag, `must be a regular expression (${(err as Error).message})`, v);
    }
  });
}

/** The CSV format, columns and cell policy the flags ask for. */
export function exportOptionsFrom(ctx: ExportContext): ExportOptions {
  const a = ctx.args;
  const excel = a.excel === true;
  const format = validateFormat({
    delimiter: charOption('delimiter', a.delimiter),
    quote: charOption('quote', a.quote),
    eol: a.crlf === true || excel ? '\r\n' : '\n',
  });
  return {
    columns: columnList(ctx, 'columns'),
    exclude: columnList(ctx, 'exclude'),
    rename: parseRename(ctx.list('rename')),
    format,
    header: a.header !== false,
    bom: a.bom === true || excel,
    policy: {
      escapeFormulas: a['escape-formulas'] !== false,
      redact: a.redact !== false,
      redactKeys: parseRedactKeys('redact-key', ctx.list('redact-key')),
      keepKeys: parseRedactKeys('keep-key', ctx.list('keep-key')),
    },
  };
}

/** Leaf paths of the record that no column reads (a column also reads what is nested under it). */
export function unknownKeys(rec: JsonObject, known: Set<string>): string[] {
  const out: string[] = [];
  forEachLeaf(rec, (path) => {
    if (known.has(path)) return;
    for (let i = path.lastIndexOf('.'); i > 0; i = path.lastIndexOf('.', i - 1)) if (known.has(path.slice(0, i))) return;
    out.push(path);
  });
  return out;
}

/**
 * --rename/--exclude names that name no column. Fixed columns (events, --columns, a ledger's
 * header) are known before the first row: an unknown name is then a usage error. Discovered
 * columns are known only at the end: unknown names are then one warning with the columns.
 */
export function unknownNames(builder: RowBuilder, opts: ExportOptions): string[] {
  const cols = new Set(builder.columns);
  const out: string[] = [];
  for (const from of opts.rename?.keys() ?? []) if (!cols.has(from) && !builder.hidden.has(from)) out.push(`--rename ${from}`);
  for (const e of opts.exclude ?? []) if (!builder.excludedSeen.has(e)) out.push(`--exclude ${e}`);
  return out;
}

/** Fixed columns: an unknown --rename/--exclude name is a usage error before any row is written. */
export function checkNamesUpFront(builder: RowBuilder, opts: ExportOptions): void {
  if (!builder.fixed) return;
  const unknown = unknownNames(builder, opts);
  if (unknown.length) throw new UsageError(`${unknown.join(', ')}: no such column (columns: ${builder.columns.join(', ')})`);
}

/** --commit-interval: a duration, 0 to commit each record at once. */
function commitIntervalOption(raw: string | undefined): number {
  const ms = parseDuration(raw ?? '1s');
  if (ms === undefined) throw invalidOption('commit-interval', 'must be a duration such as 1s, 250ms or 0', raw);
  return ms;
}

/** The filter flags given, as the export record reports them. */
export function filtersUsed(ctx: ExportContext): JsonObject {
  const f: JsonObject = {};
  for (const name of ['type', 'since', 'until'] as const) {
    const v = ctx.args[name];
    if (v !== undefined) f[name] = v;
  }
  if (ctx.list('category').length) f.category = ctx.list('category');
  if (ctx.list('where').length) f.where = ctx.list('where');
  return f;
}


/** A ledger run (--append/--dedupe/--upsert) and its settings; null for a plain export. */
export interface LedgerPlan {
  mode: 'append' | 'upsert';
  /** The --dedupe or --upsert key column. */
  key: string | undefined;
  replaceRows: boolean;
  commitMs: number;
  fsync: 'batch' | 'always';
}

/** Everything the flags decide before the first record, checked once. */
export interface ExportPlan {
  opts: ExportOptions;
  /** -o as given; undefined or '-' for stdout. */
  output: string | undefined;
  toStdout: boolean;
  /** The -o template's file name per record; null for one output. */
  template: ((rec: JsonObject) => string) | null;
  splitBy: string | undefined;
  passThrough: boolean;
  allowEmpty: boolean;
  lockTimeoutMs: number;
  keepBackups: number | undefined;
  ledger: LedgerPlan | null;
  filters: JsonObject;
}

/** Reads and checks the flags that shape the run; a combination that cannot work is a usage error. */
export function planExport(ctx: ExportContext): ExportPlan {
  const opts = exportOptionsFrom(ctx);
  const output = ctx.args.output;
  const toStdout = output === undefined || output === '-';
  const splitBy = ctx.args['split-by'];
  const passThrough = ctx.args['pass-through'] === true;
  const allowEmpty = ctx.args['allow-empty'] === true;
  const lockTimeoutMs = durationOption('lock-timeout', ctx.args['lock-timeout'], '60s');
  const keepBackups = ctx.int('backup', 1);
  if (toStdout && splitBy) throw new UsageError('--split-by needs -o with a {value} placeholder');
  if (toStdout && passThrough) throw new UsageError('--pass-through needs -o (stdout carries the CSV otherwise)');
  const dedupeKey = ctx.args.dedupe;
  const upsertKey = ctx.args.upsert;
  const mode = upsertKey !== undefined ? 'upsert' : ctx.args.append === true || dedupeKey !== undefined ? 'append' : null;
  const ledgerFlag = upsertKey !== undefined ? 'upsert' : dedupeKey !== undefined ? 'dedupe' : 'append';
  if (mode && toStdout) throw new UsageError(`--${ledgerFlag} needs -o FILE`);
  if (mode && isGzipPath(output!)) throw new UsageError(`--${ledgerFlag} cannot write a .gz file (a compressed file cannot be appended to or updated in place row by row); write a plain .csv and compress it when the ledger is finished`);
  if (upsertKey !== undefined && (ctx.args.append === true || dedupeKey !== undefined)) throw new UsageError('--upsert cannot be combined with --append or --dedupe');
  const replaceRows = ctx.args['replace-rows'] === true;
  if (replaceRows && upsertKey === undefined) throw new UsageError('--replace-rows needs --upsert KEY');
  const commitMs = commitIntervalOption(ctx.args['commit-interval']);
  return {
    opts,
    output,
    toStdout,
    template: toStdout ? null : compileTemplate(output!, splitBy, opts.policy),
    splitBy,
    passThrough,
    allowEmpty,
    lockTimeoutMs,
    keepBackups,
    ledger: mode ? { mode, key: upsertKey ?? dedupeKey, replaceRows, commitMs, fsync: ctx.args.fsync } : null,
    filters: filtersUsed(ctx),
  };
}
