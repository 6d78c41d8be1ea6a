// The export hot path: records → cells (compiled per column once) → one row string → a reused
// output Buffer. Hand-written rather than csv-stringify: on 1,000,000 events its sync API per
// batch cost ~+70% and a stream per record ~2.1× (BENCHMARKS.md); csv-stringify stays the reference
// that the property tests compare this encoder against.
import type { JsonObject } from '../../event/event.js';
import { invalidOption } from '../../cli/errors.js';
import { cellText, columnAccessor, forEachLeaf, type Accessor, type Replacer } from './flatten.js';
import { neutraliseFormula } from './formula.js';
import { REDACTED, couldBeSecret, keyRule, maybeSecret, redactValue, redactingReplacer, type KeyRule } from '../../redact/redact.js';

/** The CSV dialect written: delimiter, quote and row terminator. */
export interface CsvFormat {
  delimiter: string;
  quote: string;
  /** Row terminator: "
" (the default) or "\r\n". */
  eol: '\n' | '\r\n';
}

/** Comma, double quote, LF: what docs/csv.md promises by default. */
export const DEFAULT_FORMAT: CsvFormat = { delimiter: ',', quote: '"', eol: '\n' };

/** Checks a dialect before use: a one-byte ASCII quote that differs from the delimiter. */
export function validateFormat(fmt: CsvFormat): CsvFormat {
  // Quotes are counted on raw bytes (line splitting, the spill's repair): a quote must be one byte.
  if (fmt.quote.charCodeAt(0) > 0x7e) throw invalidOption('quote', 'must be one ASCII character', fmt.quote);
  if (fmt.delimiter === fmt.quote) throw invalidOption('quote', 'must differ from --delimiter', fmt.quote);
  return fmt;
}

function escapeRe(c: string): string {
  return c.replace(/[\\\]^-]/g, '\\$&');
}

/** Minimal quoting: only cells holding the delimiter, the quote or a line break are quoted. */
export function makeFieldEncoder(fmt: CsvFormat): (cell: string) => string {
  const q = fmt.quote;
  const qq = q + q;
  const special = new RegExp(`[${escapeRe(fmt.delimiter)}${escapeRe(q)}\\r\\n]`);
  return (cell) => (special.test(cell) ? q + cell.replaceAll(q, qq) + q : cell);
}

/** One row with its terminator; a lone empty cell is written "" so the row is not a blank line. */
export function makeRowEncoder(fmt: CsvFormat): (cells: readonly string[]) => string {
  const field = makeFieldEncoder(fmt);
  const { delimiter, eol, quote } = fmt;
  const empty = quote + quote + eol;
  return (cells) => {
    const n = cells.length;
    if (n === 1 && cells[0] === '') return empty;
    let row = n ? field(cells[0]!) : '';
    for (let i = 1; i < n; i++) row += delimiter + field(cells[i]!);
    return row + eol;
  };
}

const INITIAL = 1 << 20;

/**
 * A growable pair of reused Buffers: rows are encoded into one while the other is being
 * written. take() hands out the filled part; the caller must finish writing a chunk before
 * calling take() a second time after it.
 */
export class ChunkBuffer {
  private bufs: [Buffer, Buffer] = [Buffer.allocUnsafe(INITIAL), Buffer.allocUnsafe(INITIAL)];
  private which = 0;
  private cur: Buffer = this.bufs[0];
  private used = 0;
  total = 0;

  // Rows are joined into a short string first: one Buffer.write per ~16K characters costs far
  // less than one per row (measured: buf.write was ~10% of the run when called per row).
  private text = '';

  get length(): number {
    return this.used + this.text.length;
  }

  append(text: string): void {
    this.text += text;
    if (this.text.length > 16384) this.settle();
  }

  private settle(): void {
    const text = this.text;
    if (text === '') return;
    this.text = '';
    // A UTF-16 unit is at most 3 UTF-8 bytes; the check is a bound, the write is exact.
    if (this.used + text.length * 3 > this.cur.length) this.grow(text.length * 3);
    this.used += this.cur.write(text, this.used, 'utf8');
  }

  /** Bytes already encoded (rows a worker thread made), after what is pending. */
  appendBytes(bytes: Uint8Array): void {
    this.settle();
    if (this.used + bytes.length > this.cur.length) this.grow(bytes.length);
    this.cur.set(bytes, this.used);
    this.used += bytes.length;
  }

  take(): Buffer {
    this.settle();
    const out = this.cur.subarray(0, this.used);
    this.total += this.used;
    this.which ^= 1;
    this.cur = this.bufs[this.which]!;
    this.used = 0;
    return out;
  }

  private grow(need: number): void {
    let size = this.cur.length * 2;
    while (size < this.used + need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.cur.copy(next, 0, 0, this.used);
    this.cur = next;
    this.bufs[this.which] = next;
  }
}

/** What is done to every cell on its way out: formula neutralisation and redaction. */
export interface CellPolicy {
  /** Neutralise formula-looking cells (default on). */
  escapeFormulas: boolean;
  /** Redact secret keys and secret-looking values (default on). */
  redact: boolean;
  /** Extra secret key patterns (--redact-key). */
  redactKeys?: RegExp[];
  /** Keys never redacted (--keep-key). */
  keepKeys?: RegExp[];
}

/**
 * What a column rule (export-csv's --privacy-policy) says about one column: leave it out, or
 * pass each value through a function first (redaction, or filtering inside an object); null: as is.
 */
export type ColumnRule = 'drop' | ((value: unknown) => unknown) | null;

/**
 * Two leaves of one record that flatten to the same column (`{"a.b": 1, "a": {"b": 2}}`): one
 * value would silently replace the other, so the record is refused instead (a bad line).
 */
export class ColumnCollision extends Error {
  constructor(readonly column: string) {
    super(`two fields flatten to the same column "${column}" (a key with a dot and a nested object); rename one (e.g. with jq) so no value is lost`);
    this.name = 'ColumnCollision';
  }
}

/**
 * Turns records into cell arrays for a column list that may grow (first-seen order). With a
 * fixed list (events, --columns) the accessors are compiled once; otherwise every leaf path of
 * every record is looked up and new paths become new columns.
 */
export class RowBuilder {
  readonly columns: string[] = [];
  private readonly index = new Map<string, number>();
  private accessors: Accessor[] = [];
  /** Discovery mode: the column rule's value function per column (null: none). */
  private readonly mappers: Array<((value: unknown) => unknown) | null> = [];
  private secretCol: KeyRule[] = [];
  /** Fixed columns: whether this row's value could be a secret (a string or an object). */
  private readonly secretType: boolean[] = [];
  private readonly cells: string[] = [];
  /** Discovery mode: the row number that last wrote each column, to catch two leaves in one. */
  private readonly written: number[] = [];
  private row = 0;
  private readonly rule: (path: string) => KeyRule;
  private readonly replacer: Replacer | undefined;
  private readonly exclude: (path: string) => boolean;

  constructor(
    private readonly policy: CellPolicy,
    /** A fixed column list; undefined discovers columns from the records. */
    fixed?: readonly string[],
    exclude: readonly string[] = [],
    private readonly columnRule?: (path: string) => ColumnRule,
  ) {
    const ropts = { keys: policy.redactKeys, keep: policy.keepKeys };
    this.rule = policy.redact ? (path) => keyRule(path, ropts) : () => 'keep';
    this.replacer = policy.redact ? redactingReplacer(ropts) : undefined;
    const ex = [...exclude];
    const seen = this.excludedSeen;
    const excluded = ex.length
      ? (p: string) => {
          for (const e of ex) {
            if (p === e || p.startsWith(e + '.')) {
              seen.add(e);
              return true;
            }
          }
          return false;
        }
      : () => false;
    const rules = new Map<string, ColumnRule>();
    const ruleOf = (p: string): ColumnRule => {
      if (!columnRule) return null;
      let r = rules.get(p);
      if (r === undefined) rules.set(p, (r = columnRule(p)));
      return r;
    };
    this.ruleOf = ruleOf;
    const hidden = this.hidden;
    this.exclude = (p) => {
      const out = excluded(p) || (columnRule !== undefined && ruleOf(p) === 'drop');
      if (out) hidden.add(p);
      return out;
    };
    this.fixed = fixed !== undefined;
    if (fixed) for (const c of fixed) if (!this.exclude(c)) this.addColumn(c);
  }

  readonly fixed: boolean;
  private readonly ruleOf: (path: string) => ColumnRule;
  /** --exclude names that matched a column or a field (the others are reported as unknown). */
  readonly excludedSeen = new Set<string>();
  /** Columns and fields left out by --exclude or a privacy rule (still names --rename may use). */
  readonly hidden = new Set<string>();

  private addColumn(path: string): number {
    const i = this.columns.length;
    this.columns.push(path);
    this.index.set(path, i);
    const rule = this.ruleOf(path);
    const mapper = typeof rule === 'function' ? rule : null;
    const read = columnAccessor(path);
    this.accessors.push(mapper ? (r) => mapper(read(r)) : read);
    this.mappers.push(mapper);
    this.secretCol.push(this.rule(path));
    this.secretType.push(false);
    this.cells.push('');
    this.written.push(0);
    return i;
  }

  /** One cell: text, then redaction, then formula neutralisation. */
  private cell(i: number, v: unknown): string {
    if (v === undefined || v === null) return '';
    let s = typeof v === 'string' ? v : cellText(v, this.replacer);
    if (s === '') return s;
    if (this.policy.redact) {
      const rule = this.secretCol[i];
      if (rule === 'always' || (rule === 'name' && couldBeSecret(v))) return REDACTED;
      if (rule !== 'keep' && couldBeSecret(v)) s = redactValue(s);
    }
    return this.policy.escapeFormulas ? neutraliseFormula(s) : s;
  }

  /** Fixed columns: whether the record has a value for each (null counts: it clears a cell). */
  present(rec: JsonObject): boolean[] {
    return this.accessors.map((get) => get(rec) !== undefined);
  }

  /** The record's cells (a reused array, one entry per column known so far). */
  build(rec: JsonObject): string[] {
    const cells = this.cells;
    if (this.fixed) {
      const acc = this.accessors;
      const n = acc.length;
      const kind = this.secretType;
      for (let i = 0; i < n; i++) {
        const v = acc[i]!(rec);
        if (typeof v === 'string') {
          cells[i] = v;
          kind[i] = true;
        } else {
          cells[i] = v === undefined || v === null ? '' : cellText(v, this.replacer);
          kind[i] = couldBeSecret(v);
        }
      }
      if (this.policy.redact) {
        const secret = this.secretCol;
        // One pre-check over the whole row instead of one per cell (a cell's secret is also
        // in the joined text, so nothing is missed; a false hit only costs the per-cell pass).
        const scan = maybeSecret(cells.join('\n'));
        for (let i = 0; i < n; i++) {
          const rule = secret[i];
          if (rule === 'keep' || cells[i] === '') continue;
          if (rule === 'always' || (rule === 'name' && kind[i])) cells[i] = REDACTED;
          else if (scan && kind[i]) cells[i] = redactValue(cells[i]!);
        }
      }
      if (this.policy.escapeFormulas) for (let i = 0; i < n; i++) cells[i] = neutraliseFormula(cells[i]!);
      return cells;
    }
    cells.fill('');
    this.row++;
    forEachLeaf(rec, this.visit);
    return cells;
  }

  // Bound once: discovery mode visits every leaf of every record.
  private readonly visit = (path: string, value: unknown): void => {
    let i = this.index.get(path);
    if (i === undefined) {
      if (this.exclude(path)) return;
      i = this.addColumn(path);
    } else if (this.written[i] === this.row) {
      throw new ColumnCollision(path);
    }
    this.written[i] = this.row;
    const mapper = this.mappers[i];
    this.cells[i] = this.cell(i, mapper ? mapper(value) : value);
  };
}
