import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { splitQuotedRecord } from '../../../../src/csv/read/csv-record.js';

// csv-parse with import-csv's options is the reference: same cells for what it accepts, and
// null (so import-csv falls back to csv-parse's own diagnostics) for what it rejects.
function reference(text: string, delimiter: string, quote: string): string[] | null {
  try {
    const rows = parse(Buffer.from(text + '\n'), { delimiter, quote, escape: quote, record_delimiter: '\n', relax_column_count: true }) as string[][];
    return rows.length === 1 ? rows[0]! : null;
  } catch {
    return null;
  }
}

const formats = fc.constantFrom([',', '"'], [';', '"'], ['\t', "'"], ['|', '"']);
const cell = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'é', '日', '😀', ' ', ',', ';', '\t', '|', '"', "'", '\n', '\r\n', '=') }),
  fc.string(),
);

describe('splitQuotedRecord', () => {
  it('gives csv-parse\'s cells for records written with minimal quoting', () => {
    fc.assert(
      fc.property(formats, fc.array(cell, { minLength: 1, maxLength: 8 }), ([d, q], cells) => {
        const encoded = cells.map((c) => (c.includes(d!) || c.includes(q!) || /[\r\n]/.test(c) ? q + c.replaceAll(q!, q! + q!) + q : c)).join(d!);
        const text = encoded.replace(/\r$/, '');
        const ref = reference(text, d!, q!);
        fc.pre(ref !== null);
        expect(splitQuotedRecord(text, d!, q!)).toEqual(ref);
      }),
      { numRuns: 500 },
    );
  });

  it('never accepts what csv-parse rejects, and agrees with it on what both accept (arbitrary text)', () => {
    fc.assert(
      fc.property(formats, fc.string({ unit: fc.constantFrom('a', ',', ';', '"', "'", '\t', '|', ' ', '\n', 'é') }), ([d, q], text) => {
        fc.pre(text !== '' && !text.endsWith('\n') && !text.endsWith('\r'));
        const ours = splitQuotedRecord(text, d!, q!);
        const ref = reference(text, d!, q!);
        if (ours !== null) expect(ours).toEqual(ref);
      }),
      { numRuns: 2000 },
    );
  });

  it('examples', () => {
    expect(splitQuotedRecord('a,"b,c",d', ',', '"')).toEqual(['a', 'b,c', 'd']);
    expect(splitQuotedRecord('"x ""y"" z",', ',', '"')).toEqual(['x "y" z', '']);
    expect(splitQuotedRecord('"line\r\nbreak","",""""', ',', '"')).toEqual(['line\r\nbreak', '', '"']);
    expect(splitQuotedRecord('a"b,c', ',', '"')).toBeNull();
    expect(splitQuotedRecord('"a"b,c', ',', '"')).toBeNull();
    expect(splitQuotedRecord('"a,c', ',', '"')).toBeNull();
    expect(splitQuotedRecord(' "a",c', ',', '"')).toBeNull();
  });
});
