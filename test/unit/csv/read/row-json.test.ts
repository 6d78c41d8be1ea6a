// import-csv's row text straight from the cells (row-json.ts) against the object path it
// replaces: JSON.stringify of the row's object, for any header (duplicate names, integer-like
// names V8 orders first, `__proto__` (kept as a key), toJSON, escapes, lone surrogates) and any cells.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cellQuoter, quoteCell, recordMaker, rowJsonMaker } from '../../../../src/csv/read/row-json.js';
import { CsvRowParser } from '../../../../src/csv/read/stream-reader.js';

/** Text JSON escapes or V8 treats specially: quotes, backslashes, controls, surrogates (lone and paired), U+2028. */
const arbText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom('', 'a', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udc00x', '😀', '\u2028', 'Zoë', '日本') },
);
/** Header names: the above plus integer-like names, `__proto__`, toJSON and Object.prototype's names. */
const arbName = fc.oneof(
  { weight: 3, arbitrary: arbText },
  { weight: 2, arbitrary: fc.constantFrom('0', '1', '2', '01', '-1', '4294967294', '4294967295', '1.5', '__proto__', 'toJSON', 'constructor', 'hasOwnProperty', 'a', 'b') },
);

describe('rowJsonMaker', () => {
  it('writes the bytes of JSON.stringify(row object), or gives null for a header it is not sure of', () => {
    let fast = 0;
    fc.assert(
      fc.property(
        fc.array(arbName, { minLength: 1, maxLength: 6 }).chain((header) => fc.tuple(fc.constant(header), fc.array(fc.array(arbText, { minLength: header.length, maxLength: header.length }), { maxLength: 5 }))),
        ([header, rows]) => {
          const make = recordMaker(header);
          // Every column is a key of the object, `__proto__` too (its own property, as JSON.parse makes it).
          expect(new Set(Object.keys(make(header)))).toEqual(new Set(header));
          const text = rowJsonMaker(header);
          if (text === null) {
            // Only a header whose object does not have exactly its names, in order, falls back.
            expect(Object.keys(make(header))).not.toEqual(header);
            return;
          }
          fast++;
          for (const cells of rows) {
            const want = JSON.stringify(make(cells));
            expect(text(cells, quoteCell)).toBe(want);
            // The record's text as the reader has it: cells and delimiters, or quoted as CSV writes them.
            expect(text(cells, cellQuoter(cells.join(','), false))).toBe(want);
            expect(text(cells, cellQuoter(cells.map((c) => `"${c.replaceAll('"', '""')}"`).join(','), true))).toBe(want);
          }
        },
      ),
      { numRuns: 3000 },
    );
    expect(fast).toBeGreaterThan(1000);
  });

  it('falls back for duplicate names and integer-like names out of order; keeps a `__proto__` column', () => {
    expect(rowJsonMaker(['a', 'a'])).toBeNull();
    expect(rowJsonMaker(['__proto__', 'x'])!(['1', '2'], quoteCell)).toBe('{"__proto__":"1","x":"2"}');
    expect(rowJsonMaker(['__proto__', 'x', '__proto__'])).toBeNull();
    expect(JSON.stringify(recordMaker(['__proto__', 'x', '__proto__'])(['1', '2', '3']))).toBe('{"__proto__":"3","x":"2"}');
    expect(rowJsonMaker(['b', '1'])).toBeNull();
    expect(rowJsonMaker(['1', '2', 'b'])!(['x', 'y', 'z'], quoteCell)).toBe('{"1":"x","2":"y","b":"z"}');
    expect(rowJsonMaker(['toJSON', '"q"\\'])!(['\ud800', '\n'], quoteCell)).toBe('{"toJSON":"\\ud800","\\"q\\"\\\\":"\\n"}');
  });

  it('quotes a cell as JSON.stringify does', () => {
    fc.assert(
      fc.property(arbText, (c) => {
        expect(quoteCell(c)).toBe(JSON.stringify(c));
      }),
      { numRuns: 5000 },
    );
  });

  it('the reader gives the same text through onText as JSON.stringify of its objects, for any header and dialect', () => {
    const arbOpts = fc.constantFrom({}, { quote: "'" }, { delimiter: ';' }, { unescapeFormulas: true }, { strictQuotes: true });
    const arbCsvCell = fc.oneof(arbName, fc.constantFrom('"a,b"', '"x""y"', "'a;b'", "'=1", '\r', '\t', '"\\"', '"é\n"', '\ud83d'));
    fc.assert(
      fc.property(fc.array(fc.array(arbCsvCell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }), arbOpts, fc.boolean(), (rows, opts, bytes) => {
        let csv = Buffer.from(rows.map((r) => r.join(opts.delimiter ?? ',')).join('\n') + '\n');
        // Invalid UTF-8: the reader parses such a record as bytes.
        if (bytes) csv = Buffer.concat([csv.subarray(0, 3), Buffer.from([0xff]), csv.subarray(3)]);
        const objects: string[] = [];
        const texts: string[] = [];
        const bad = { objects: 0, texts: 0 };
        new CsvRowParser(opts, 'f', (row) => void objects.push(JSON.stringify(row)), () => void bad.objects++).feed(csv);
        const p = new CsvRowParser(opts, 'f', () => expect.fail('an object in text mode'), () => void bad.texts++);
        p.onText = (json) => void texts.push(json);
        p.feed(csv);
        expect(texts).toEqual(objects);
        expect(bad.texts).toBe(bad.objects);
      }),
      { numRuns: 1000 },
    );
  });
});
