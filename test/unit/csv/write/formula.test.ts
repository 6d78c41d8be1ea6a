import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { needsNeutralising, neutraliseFormula, unescapeFormula } from '../../../../src/csv/write/formula.js';

const triggers = ['=', '+', '-', '@', '\t', '\r'];
const isNumber = (s: string) => /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s);

describe('formula neutralisation', () => {
  it('every cell a spreadsheet would run as a formula is neutralised', () => {
    fc.assert(
      fc.property(fc.constantFrom(...triggers), fc.string({ unit: 'grapheme' }), (t, rest) => {
        const cell = t + rest;
        const out = neutraliseFormula(cell);
        if (isNumber(cell)) expect(out).toBe(cell);
        else {
          expect(out).toBe("'" + cell);
          expect(triggers).not.toContain(out[0]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('unescapeFormula inverts neutraliseFormula exactly, for any text', () => {
    const text = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.constantFrom("'", '=', '+', '-', '@', '\t', '\r', '1', '.', 'e', 'a') }));
    fc.assert(fc.property(text, (s) => {
      expect(unescapeFormula(neutraliseFormula(s))).toBe(s);
    }), { numRuns: 1000 });
  });

  it('examples', () => {
    expect(neutraliseFormula('=SUM(A1:A2)')).toBe("'=SUM(A1:A2)");
    expect(neutraliseFormula('@cmd')).toBe("'@cmd");
    expect(neutraliseFormula('-1.5e3')).toBe('-1.5e3');
    expect(neutraliseFormula('+33 1 23')).toBe("'+33 1 23");
    expect(neutraliseFormula("'=x")).toBe("''=x");
    expect(neutraliseFormula("it's")).toBe("it's");
    expect(needsNeutralising('')).toBe(false);
    expect(unescapeFormula("'plain")).toBe("'plain");
  });
});
