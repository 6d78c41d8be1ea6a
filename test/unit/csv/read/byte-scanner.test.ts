import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { CsvScanner, type ScannedRecord } from '../../../../src/csv/read/byte-scanner.js';

function scan(text: string | Buffer, chunk = 1 << 20, base = 0): { records: Array<[string[], number, number, boolean]>; error: string | null } {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  const scanner = new CsvScanner({ delimiter: ',', quote: '"', base });
  const got: ScannedRecord[] = [];
  for (let i = 0; i < buf.length; i += chunk) got.push(...scanner.push(buf.subarray(i, i + chunk)));
  const end = scanner.end();
  got.push(...end.records);
  return { records: got.map((r) => [r.cells, r.start, r.end, r.crlf]), error: end.error };
}

describe('csv/read/byte-scanner: examples', () => {
  it('byte ranges and line endings of each record, a BOM and blank lines skipped', () => {
    expect(scan('\uFEFFa,b\r\n\r\n"c\nd",é\n')).toEqual({
      records: [
        [['a', 'b'], 3, 8, true],
        [['c\nd', 'é'], 10, 19, false],
      ],
      error: null,
    });
  });

  it('the same records in any chunking, down to one byte', () => {
    const text = 'id,"x ""y"""\r\n1,"a\r\nb"\n2,日本\n';
    const whole = scan(text);
    for (const chunk of [1, 2, 3, 7]) expect(scan(text, chunk)).toEqual(whole);
  });

  it('offsets continue from base (a scan that resumes where the last one stopped)', () => {
    expect(scan('a,b\n', 1 << 20, 100).records).toEqual([[['a', 'b'], 100, 104, false]]);
  });

  it('a last record without a line break is a record; a lone CR at the end is a torn line break', () => {
    expect(scan('a,b\nc,d').records).toEqual([[['a', 'b'], 0, 4, false], [['c', 'd'], 4, 7, false]]);
    expect(scan('a,b\r').records).toEqual([[['a', 'b'], 0, 4, false]]);
  });

  it('strict quotes: each malformed shape is an error naming the byte where its record starts', () => {
    expect(scan('a,b\n"c,d\n').error).toBe('a quoted field is not closed at byte 4');
    expect(scan('a,b\n"c"x,d\n').error).toBe('a character follows a closing quote at byte 4');
    expect(scan('a,b\nc"x,d\n').error).toBe('a quote inside an unquoted field at byte 4');
    // The records before the error are still reported.
    expect(scan('a,b\nc"x,d\n').records).toEqual([[['a', 'b'], 0, 4, false]]);
  });
});

describe('csv/read/byte-scanner (the ledger\'s reader)', () => {
  it('agrees with csv-parse on any RFC 4180 file, and its byte ranges tile the file', async () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'ü', '日', ';', ',', '\t', '"', '\n', '\r', ' ', 'x') , maxLength: 8 });
    fc.assert(
      fc.property(
        fc.constantFrom(';', ',', '\t', '|'),
        fc.boolean(),
        fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 64 }),
        (delimiter, crlf, table, chunkSize) => {
          const enc = (cells: string[]) =>
            cells.map((c) => (c === '' || c.includes(delimiter) || /["\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(delimiter) + (crlf ? '\r\n' : '\n');
          const buf = Buffer.from(table.map(enc).join(''));
          const scanner = new CsvScanner({ delimiter, quote: '"', base: 0 });
          const got = [];
          for (let i = 0; i < buf.length; i += chunkSize) got.push(...scanner.push(buf.subarray(i, i + chunkSize)));
          const end = scanner.end();
          expect(end.error).toBeNull();
          got.push(...end.records);
          expect(got.map((r) => r.cells)).toEqual(parse(buf, { delimiter, relax_column_count: true }));
          expect(got.map((r) => r.cells)).toEqual(table);
          let at = 0;
          for (const r of got) {
            expect(r.start).toBe(at);
            at = r.end;
          }
          expect(at).toBe(buf.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

