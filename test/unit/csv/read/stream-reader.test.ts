// The CSV reader on its own (CsvRowParser, and readCsvRecords over sources): rows with their
// first line, quoted cells across lines and chunks, bad rows reported with FILE:LINE, and
// csv-parse as the reference for any chunking.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { CsvRowParser, type ImportOptions } from '../../../../src/csv/read/stream-reader.js';
import { readCsvRecords } from '../../../../src/csv/read/located-records.js';
import { BadLinePolicy, type BadLine } from '../../../../src/stream/bad-lines.js';

function parseAll(chunks: Array<string | Buffer>, opts: ImportOptions = {}) {
  const rows: Array<{ rec: Record<string, unknown>; line: number }> = [];
  const bad: BadLine[] = [];
  const p = new CsvRowParser(opts, 'in.csv', (rec, line) => rows.push({ rec, line }), (b) => bad.push(b));
  for (const c of chunks) p.feed(typeof c === 'string' ? Buffer.from(c) : c);
  p.end();
  return { rows, bad };
}

describe('csv/read/stream-reader', () => {
  it('header row names the fields; each row carries the line it starts on; a BOM is not data', () => {
    const { rows, bad } = parseAll(['\uFEFFid,note\n1,"two\nlines"\n3,plain\n']);
    expect(rows).toEqual([
      { rec: { id: '1', note: 'two\nlines' }, line: 2 },
      { rec: { id: '3', note: 'plain' }, line: 4 },
    ]);
    expect(bad).toEqual([]);
  });

  it('ragged rows and an unclosed quote are bad lines with FILE:LINE; the rows around them are kept', () => {
    const { rows, bad } = parseAll(['a,b\n1,2\n1,2,3\n4,5\n"open,6\n'], {});
    expect(rows.map((r) => r.rec)).toEqual([{ a: '1', b: '2' }, { a: '4', b: '5' }]);
    expect(bad.map((b) => [b.file, b.line])).toEqual([['in.csv', 3], ['in.csv', 5]]);
  });

  it('--columns, another delimiter and quote, --unescape-formulas', () => {
    const { rows } = parseAll(["x;|a;b|;'=1+2\n"], { columns: ['k', 'v', 'f'], delimiter: ';', quote: '|', unescapeFormulas: true });
    expect(rows[0]!.rec).toEqual({ k: 'x', v: 'a;b', f: '=1+2' });
  });

  it('CRLF line breaks, also inside a quoted cell (kept there), in one-byte chunks', () => {
    const text = 'id,note\r\n1,"a\r\nb"\r\n2,c\r\n';
    const { rows, bad } = parseAll([...Buffer.from(text)].map((b) => Buffer.from([b])));
    expect(rows).toEqual([
      { rec: { id: '1', note: 'a\r\nb' }, line: 2 },
      { rec: { id: '2', note: 'c' }, line: 4 },
    ]);
    expect(bad).toEqual([]);
  });

  it('lenient by default: a quote inside an unquoted cell is a literal; --strict-quotes reports it with its reason', () => {
    // (Strict, quotes are paired across lines before a record is parsed: these lines pair theirs.)
    const text = 'pos,n\n3"7"N,1\n"a"b,2\n';
    expect(parseAll([text]).rows.map((r) => r.rec)).toEqual([{ pos: '3"7"N', n: '1' }, { pos: '"a"b', n: '2' }]);
    const strict = parseAll([text], { strictQuotes: true });
    expect(strict.rows).toEqual([]);
    expect(strict.bad.map((b) => [b.line, b.error, b.raw])).toEqual([
      [2, 'malformed quoted cell: Invalid Opening Quote: a quote is found on field 0', '3"7"N,1'],
      [3, 'malformed quoted cell: Invalid Closing Quote: got "b"', '"a"b,2'],
    ]);
  });

  it('an unclosed quote names the line it opened on and the last line of the file', () => {
    const { rows, bad } = parseAll(['a,b\n1,2\n3,"x\ny\nz\n']);
    expect(rows.map((r) => r.rec)).toEqual([{ a: '1', b: '2' }]);
    expect(bad.map((b) => [b.line, b.error])).toEqual([[3, 'unclosed quote: the quoted cell opened here runs to the end of the file (line 5)']]);
  });

  it('agrees with csv-parse on any valid CSV in any chunking (property)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', ' ', 'é') as fc.Arbitrary<string>, maxLength: 6 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.nat(), { maxLength: 5 }), fc.array(fc.array(cell, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 6 }), (width, at, grid) => {
        const header = Array.from({ length: width }, (_, i) => `c${i}`);
        const body = grid.map((r) => r.slice(0, width));
        const text = stringify([header, ...body], { quoted_match: /[\r\n]/ });
        const expected = parse(text, { columns: true, relax_column_count: false, skip_empty_lines: true }) as Array<Record<string, string>>;
        const buf = Buffer.from(text);
        const points = [...new Set(at.map((n) => n % (buf.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(buf.subarray(prev, p));
          prev = p;
        }
        chunks.push(buf.subarray(prev));
        const { rows, bad } = parseAll(chunks);
        expect(bad).toEqual([]);
        expect(rows.map((r) => r.rec)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('readCsvRecords: trimmed header names, empty cells absent, bad rows through the policy as invalid CSV', async () => {
    const bad: BadLine[] = [];
    const policy = new BadLinePolicy({ maxBad: Infinity, report: () => undefined });
    const add = policy.add.bind(policy);
    policy.add = (b) => {
      bad.push(b);
      add(b);
    };
    const source = { name: 'dir.csv', open: () => Readable.from([Buffer.from(' id , center_id\n1,\n2,7\n3,4,5\n')]) };
    const items = [];
    for await (const batch of readCsvRecords([source], { policy })) items.push(...batch);
    expect(items).toEqual([
      { value: { id: '1' }, file: 'dir.csv', line: 2 },
      { value: { id: '2', center_id: '7' }, file: 'dir.csv', line: 3 },
    ]);
    expect(bad.map((b) => [b.file, b.line, b.error.slice(0, 12)])).toEqual([['dir.csv', 4, 'invalid CSV:']]);
  });
});
