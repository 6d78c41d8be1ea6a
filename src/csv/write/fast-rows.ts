// export-csv's rows from the values the sparse reader built (stream/sparse-json.ts) with what it
// learnt of each string while reading its bytes (ValueClasses): whether a cell needs quotes, and
// whether it may hold a secret (redact.ts's secretAtByte). The exact way (RowBuilder.buildValues:
// a join of the row's cells, a regexp pre-check for secrets, a regexp per cell for quotes, then
// makeRowEncoder) cost ~1.3 µs of the ~5 µs an export worker spent per event (issue 16).
//
// It is an optimisation only: a cell it is unsure of (an escape in the string, a possible secret,
// a formula, a value that is no string) is made the exact way, one cell at a time, with the
// functions buildValues and makeRowEncoder use; a property test compares the two row for row.
import { cellText, type Replacer } from './flatten.js';
import { mayNeedNeutralising, neutraliseFormula } from './formula.js';
import { makeFieldEncoder, type CsvFormat } from './encode.js';
import { REDACTED, SECRET_MARKS, couldBeSecret, redactValue, secretAtByte, type KeyRule } from '../../redact/redact.js';
import { ESCAPED, LOOK, type ValueClasses } from '../../stream/sparse-json.js';

/** What the fast rows need of a RowBuilder with fixed columns and no column rules. */
export interface FastRowPlan {
  /** row-builder.ts's CellPolicy (its two switches). */
  policy: { redact: boolean; escapeFormulas: boolean };
  /** Each column's redaction rule by name. */
  rules: readonly KeyRule[];
  replacer: Replacer | undefined;
}

/** In a string's flags: it holds the delimiter or the quote (it is quoted). */
const SPECIAL = 1;

/** Rows of fixed columns from values and their flags, as makeRowEncoder(buildValues(values)) writes them. */
export class FastRows {
  /** The byte classes to give the sparse reader. */
  readonly classes: ValueClasses;
  private readonly field: (cell: string) => string;
  private readonly redacted: string;

  private constructor(
    private readonly format: CsvFormat,
    private readonly plan: FastRowPlan,
  ) {
    const classes = new Uint8Array(128);
    classes[format.delimiter.charCodeAt(0)]! |= SPECIAL;
    classes[format.quote.charCodeAt(0)]! |= SPECIAL;
    if (plan.policy.redact) for (const c of SECRET_MARKS) classes[c.charCodeAt(0)]! |= LOOK;
    this.classes = { classes, look: secretAtByte };
    this.field = makeFieldEncoder(format);
    this.redacted = this.field(REDACTED);
    // A number's text (digits, `.`, `e`, signs; never a formula: neutraliseFormula knows numbers) needs no quotes.
    this.plainNumbers = !/[-+.e0-9]/.test(format.delimiter + format.quote);
  }

  private readonly plainNumbers: boolean;

  /** Rows for this dialect, or null when it is one they do not handle (a delimiter or quote that is not one ASCII character). */
  static create(format: CsvFormat, plan: FastRowPlan): FastRows | null {
    const ascii = (s: string): boolean => s.length === 1 && s.charCodeAt(0) < 0x80;
    if (!ascii(format.delimiter) || !ascii(format.quote) || plan.rules.length === 0) return null;
    return new FastRows(format, plan);
  }

  /** One row with its terminator: each column's value (as buildValues takes them) and, for a string, its flags from the reader. */
  row(values: readonly unknown[], flags: ArrayLike<number>): string {
    const { redact, escapeFormulas } = this.plan.policy;
    const rules = this.plan.rules;
    const n = rules.length;
    let row = '';
    let cell = '';
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const f = flags[i]!;
      if (typeof v === 'number' && this.plainNumbers && Number.isFinite(v) && !(redact && rules[i] === 'always')) cell = String(v);
      else if (typeof v !== 'string' || (f & ESCAPED) !== 0) cell = this.exact(i, v);
      else if (v === '') cell = v;
      else {
        const rule = redact ? rules[i] : 'keep';
        if (rule === 'always' || rule === 'name') cell = this.redacted;
        else if (rule !== 'keep' && (f & LOOK) !== 0) cell = this.exact(i, v);
        else {
          // A formula's first character (formula.ts owns the list): the cell the exact way.
          if (escapeFormulas && mayNeedNeutralising(v.charCodeAt(0))) cell = this.exact(i, v);
          else cell = (f & SPECIAL) !== 0 ? this.field(v) : v;
        }
      }
      row = i === 0 ? cell : row + this.format.delimiter + cell;
    }
    // A lone empty cell is written "" so the row is not a blank line (makeRowEncoder).
    if (n === 1 && cell === '') return this.format.quote + this.format.quote + this.format.eol;
    return row + this.format.eol;
  }

  /** One cell as buildValues and makeRowEncoder make it. */
  private exact(i: number, v: unknown): string {
    let s = typeof v === 'string' ? v : v === undefined || v === null ? '' : cellText(v, this.plan.replacer);
    if (s === '') return s;
    const { redact, escapeFormulas } = this.plan.policy;
    if (redact) {
      const rule = this.plan.rules[i];
      const kind = typeof v === 'string' || couldBeSecret(v);
      if (rule === 'always' || (rule === 'name' && kind)) s = REDACTED;
      else if (rule !== 'keep' && kind) s = redactValue(s);
    }
    return this.field(escapeFormulas ? neutraliseFormula(s) : s);
  }
}
