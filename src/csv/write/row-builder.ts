// Records to cells: one string per column, each made safe on its way out (formula
// neutralisation, redaction by key name and by value, a column rule of the privacy policy),
// for a fixed column list (compiled once) or one discovered from the records (docs/csv.md).
import type { JsonObject } from '../../event/event.js';
import { cellText, columnAccessor, forEachLeaf, type Accessor, type Replacer } from './flatten.js';
import { neutraliseFormula } from './formula.js';
import type { FastRowPlan } from './fast-rows.js';
import { REDACTED, couldBeSecret, keyRule, maybeSecret, redactValue, redactingReplacer, type KeyRule } from '../../redact/redact.js';

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
  /** Fixed columns: each column's reader before its column rule (buildValues applies the rule). */
  private readonly readers: Accessor[] = [];
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
    this.readers.push(read);
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
      const read = this.readers;
      const values = this.values;
      for (let i = 0; i < read.length; i++) values[i] = read[i]!(rec);
      return this.buildValues(values);
    }
    cells.fill('');
    this.row++;
    forEachLeaf(rec, this.visit);
    return cells;
  }

  private readonly values: unknown[] = [];

  /**
   * Fixed columns: the cells from each column's value as its accessor reads it (a reader that
   * found the values without building the record: parallel/tasks/export-csv.ts). A column rule's
   * function is applied here as the accessor would.
   */
  buildValues(values: readonly unknown[]): string[] {
    const cells = this.cells;
    const n = this.accessors.length;
    const kind = this.secretType;
    const mappers = this.mappers;
    for (let i = 0; i < n; i++) {
      const mapper = mappers[i];
      const v = mapper ? mapper(values[i]) : values[i];
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

  /** Fixed columns without column rules: what fast-rows.ts needs; null otherwise. */
  fastPlan(): FastRowPlan | null {
    if (!this.fixed || this.mappers.some((m) => m !== null)) return null;
    return { policy: this.policy, rules: this.secretCol, replacer: this.replacer };
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
