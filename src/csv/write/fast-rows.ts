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
import { makeFieldEncoder, type ChunkBuffer, type CsvFormat } from './encode.js';
import { REDACTED, SECRET_MARKS, couldBeSecret, redactValue, secretAtByte, type KeyRule } from '../../redact/redact.js';
import { ESCAPED, LOOK, QUOTES, UNBUILT, type ValueClasses } from '../../stream/sparse-json.js';

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
  /** The REDACTED cell's bytes, the delimiter's, the quote's and the row terminator's. */
  private readonly redacted: Buffer;
  private readonly delim: number;
  private readonly quote: number;
  private readonly eol: Buffer;

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
    this.redacted = Buffer.from(this.field(REDACTED));
    this.delim = format.delimiter.charCodeAt(0);
    this.quote = format.quote.charCodeAt(0);
    this.eol = Buffer.from(format.eol);
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

  /**
   * One row with its terminator into `chunk`: each column's value (as buildValues takes them, or
   * UNBUILT: then `text(i)` builds it) with, for a string, its flags and its token's place [starts,
   * ends) in `src`, the line's bytes (`lineBytes` long). A plain string's bytes are copied as they
   * are (the block is valid UTF-8: its bytes are the text's), `\"` written as the quote it is.
   */
  rowInto(
    chunk: ChunkBuffer,
    src: Uint8Array,
    lineBytes: number,
    values: readonly unknown[],
    flags: ArrayLike<number>,
    starts: ArrayLike<number>,
    ends: ArrayLike<number>,
    text: (i: number) => string,
  ): void {
    const { redact, escapeFormulas } = this.plan.policy;
    const rules = this.plan.rules;
    const n = rules.length;
    const { delim, quote, redacted } = this;
    // Room for every copied cell (at most its token's bytes twice) and the constant ones.
    const budget = 2 * lineBytes + n * (redacted.length + 4) + 4;
    let out = chunk.room(budget);
    let o = chunk.end;
    let empty = true;
    for (let i = 0; i < n; i++) {
      if (i > 0) out[o++] = delim;
      const v = values[i];
      let cell: string | null = null;
      if (v === UNBUILT) {
        const f = flags[i]!;
        let s = starts[i]! + 1;
        const e = ends[i]! - 1;
        if (s === e) continue;
        const rule = redact ? rules[i] : 'keep';
        if (rule === 'always' || rule === 'name') {
          for (let k = 0; k < redacted.length; k++) out[o++] = redacted[k]!;
        } else if ((rule !== 'keep' && (f & LOOK) !== 0) || (escapeFormulas && mayNeedNeutralising(src[s]!))) {
          // A formula's first character (formula.ts owns the list), a possible secret: the cell the exact way.
          cell = this.exact(i, text(i));
        } else if ((f & (SPECIAL | QUOTES)) === 0) {
          for (; s < e; s++) out[o++] = src[s]!;
        } else {
          const special = (f & SPECIAL) !== 0;
          if (special) out[o++] = quote;
          for (; s < e; s++) {
            let c = src[s]!;
            // The only escape here is \" (else the string is ESCAPED).
            if (c === 0x5c) c = src[++s]!;
            if (c === quote && special) out[o++] = c;
            out[o++] = c;
          }
          if (special) out[o++] = quote;
        }
        if (cell === null) {
          empty = false;
          continue;
        }
      } else if (v === undefined || v === null || v === '') continue;
      const ascii = typeof v === 'number' && this.plainNumbers && Number.isFinite(v) && !(redact && rules[i] === 'always');
      if (ascii) cell = String(v);
      else if (cell === null) cell = this.cell(i, v, flags[i]!);
      if (cell === '') continue;
      empty = false;
      // A cell made here may be longer than its token (1e20): room for it (3 bytes a UTF-16 unit), and the rest.
      if (o + 3 * cell.length + budget > out.length) {
        chunk.commit(o);
        out = chunk.room(3 * cell.length + budget);
      }
      // A number's text is ASCII: written here, not through Buffer.write (a call out of JavaScript).
      if (ascii) for (let k = 0; k < cell.length; k++) out[o++] = cell.charCodeAt(k);
      else o += out.write(cell, o);
    }
    // A lone empty cell is written "" so the row is not a blank line (makeRowEncoder).
    if (n === 1 && empty) {
      out[o++] = quote;
      out[o++] = quote;
    }
    for (let k = 0; k < this.eol.length; k++) out[o++] = this.eol[k]!;
    chunk.commit(o);
  }

  /** A built value's cell (no plain number, not empty): a string whose flags say it is plain as it is, else the exact way. */
  private cell(i: number, v: unknown, f: number): string {
    if (typeof v !== 'string' || (f & ESCAPED) !== 0) return this.exact(i, v);
    const rule = this.plan.policy.redact ? this.plan.rules[i] : 'keep';
    if (rule === 'always' || rule === 'name') return this.field(REDACTED);
    if ((rule !== 'keep' && (f & LOOK) !== 0) || (this.plan.policy.escapeFormulas && mayNeedNeutralising(v.charCodeAt(0)))) return this.exact(i, v);
    return (f & SPECIAL) !== 0 ? this.field(v) : v;
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
