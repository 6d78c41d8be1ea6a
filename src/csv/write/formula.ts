// CSV-injection defence (OWASP): a cell a spreadsheet would run as a formula gets a leading
// single quote. The rule is invertible (unescapeFormula), so `--unescape-formulas` round-trips.

/** = + - @ TAB CR: the characters that make Excel, LibreOffice and Sheets evaluate a cell. */
function isTrigger(c: number): boolean {
  return c === 0x3d || c === 0x2b || c === 0x2d || c === 0x40 || c === 0x09 || c === 0x0d;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * False when a cell whose first UTF-16 unit is `c` is never neutralised (no trigger, no single
 * quote): a cheap first test for callers that have the first character already (fast-rows.ts).
 */
export function mayNeedNeutralising(c: number): boolean {
  return c === 0x27 || isTrigger(c);
}

/** True when the cell must be neutralised: it starts (after any single quotes) with a trigger and is not a number. */
export function needsNeutralising(cell: string): boolean {
  const c = cell.charCodeAt(0);
  if (c === 0x27) {
    // Cells already starting with quotes before a trigger get one more, so unescaping is exact.
    let i = 1;
    while (cell.charCodeAt(i) === 0x27) i++;
    return i < cell.length && isTrigger(cell.charCodeAt(i));
  }
  if (!isTrigger(c)) return false;
  return !((c === 0x2b || c === 0x2d) && NUMBER.test(cell));
}

/** The cell as written when formula neutralisation is on. */
export function neutraliseFormula(cell: string): string {
  return needsNeutralising(cell) ? "'" + cell : cell;
}

/** The inverse: strips the one quote neutraliseFormula added (import-csv --unescape-formulas). */
export function unescapeFormula(cell: string): string {
  if (cell.charCodeAt(0) !== 0x27) return cell;
  let i = 1;
  while (cell.charCodeAt(i) === 0x27) i++;
  return i < cell.length && isTrigger(cell.charCodeAt(i)) ? cell.slice(1) : cell;
}
