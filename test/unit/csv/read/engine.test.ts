import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { CsvSyntaxError, dialect, INCOMPLETE, parseRecord, quoteOpenAfter, Until, type Parsed } from '../../../../src/csv/read/engine.js';
import { firstRecord } from '../../../../src/csv/read/byte-scanner.js';
import { CsvRowParser } from '../../../../src/csv/read/stream-reader.js';
import type { BadLine } from '../../../../src/stream/bad-lines.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** One framed record (the row reader's use), or the error's code. */
function record(text: string, lenient = true, d = ',', q = '"'): string[] | string {
  const buf = b(text);
  try {
    return (parseRecord(buf, 0, buf.length, dialect(d, q, lenient), Until.Record) as Parsed).cells;
  } catch (err) {
    return (err as CsvSyntaxError).code;
  }
}

/** Every record of a whole file with its byte range (the byte scanner's use, strict). */
function records(text: string, until: Until = Until.Eof): Array<[string[], number, number]> | string | typeof INCOMPLETE {
  const buf = b(text);
  const out: Array<[string[], number, number]> = [];
  const d = dialect(',', '"');
  for (let i = 0; i < buf.length; ) {
    let r;
    try {
      r = parseRecord(buf, i, buf.length, d, until);
    } catch (err) {
      return (err as CsvSyntaxError).code;
    }
    if (r === INCOMPLETE) return r;
    out.push([r.cells, i, r.next]);
    i = r.next;
  }
  return out;
}

describe('csv/read/engine: parseRecord', () => {
  it('quoted cells hold the delimiter, doubled quotes and line breaks', () => {
    expect(record('a,"b,c",d')).toEqual(['a', 'b,c', 'd']);
    expect(record('"x ""y"" z",')).toEqual(['x "y" z', '']);
    expect(record('"line\r\nbreak","",""""')).toEqual(['line\r\nbreak', '', '"']);
    expect(record('"日本","😀"')).toEqual(['日本', '😀']);
  });

  it('any delimiter and quote, also several bytes long', () => {
    expect(record("'a;b';c", true, ';', "'")).toEqual(['a;b', 'c']);
    expect(record('a\t"b\tc"', true, '\t')).toEqual(['a', 'b\tc']);
    expect(record('a§"b§c"§d', true, '§')).toEqual(['a', 'b§c', 'd']);
    expect(record('a,«b,c«', true, ',', '«')).toEqual(['a', 'b,c']);
  });

  it('CRLF or LF ends a record; the CR of CRLF is not data, a CR inside a quoted cell is', () => {
    expect(records('a,b\r\nc,d\n')).toEqual([[['a', 'b'], 0, 5], [['c', 'd'], 5, 9]]);
    expect(records('"a\r\nb",c\r\n"d"\r\n')).toEqual([[['a\r\nb', 'c'], 0, 10], [['d'], 10, 15]]);
    // A file cut between CR and LF: the CR is a torn line break, not data.
    expect(records('a,b\r')).toEqual([[['a', 'b'], 0, 4]]);
    expect(records('"a",b\r')).toEqual([[['a', 'b'], 0, 6]]);
    // A framed record keeps a CR that is not part of its line break.
    expect(record('a,b\r')).toEqual(['a', 'b\r']);
  });

  it('byte ranges count bytes, not characters', () => {
    expect(records('é,"ü"\n日,x\n')).toEqual([[['é', 'ü'], 0, 8], [['日', 'x'], 8, 14]]);
  });

  it('more bytes may follow: a record without its end is INCOMPLETE, never a guess', () => {
    expect(records('a,b', Until.More)).toBe(INCOMPLETE);
    expect(records('"a\n', Until.More)).toBe(INCOMPLETE);
    // The quote just read may be the first of a doubled pair.
    expect(records('"a"', Until.More)).toBe(INCOMPLETE);
    expect(records('"a"\r', Until.More)).toBe(INCOMPLETE);
    expect(records('a,b\nc', Until.More)).toBe(INCOMPLETE);
  });

  it('lenient: a quote inside an unquoted cell is a literal, text after a closing quote keeps the quotes', () => {
    expect(record('37"N,x')).toEqual(['37"N', 'x']);
    expect(record('"a"b,c')).toEqual(['"a"b', 'c']);
    expect(record('"a""b"x,c')).toEqual(['"a"b"x', 'c']);
    expect(record('""x')).toEqual(['""x']);
  });

  it('strict: the same records are syntax errors, with the cell and byte', () => {
    expect(record('37"N,x', false)).toBe('quote-in-unquoted');
    expect(record('"a"b,c', false)).toBe('text-after-quote');
    let err: CsvSyntaxError | null = null;
    try {
      parseRecord(b('x,ab"c'), 0, 6, dialect(',', '"'), Until.Record);
    } catch (e) {
      err = e as CsvSyntaxError;
    }
    expect([err?.code, err?.field, err?.offset, err?.value]).toEqual(['quote-in-unquoted', 1, 4, 'ab']);
  });

  it('an unclosed quote is an error once the input ends, in either mode', () => {
    expect(record('a,"b')).toBe('unclosed-quote');
    expect(record('a,"b', false)).toBe('unclosed-quote');
    expect(records('a\n"b,c\n')).toBe('unclosed-quote');
  });

  it('quoteOpenAfter frames lines: lenient opens a quote only at a cell start, strict counts them', () => {
    const lenient = dialect(',', '"', true);
    const strict = dialect(',', '"', false);
    const open = (s: string, d = lenient, inQuote = false): boolean => quoteOpenAfter(b(s), 0, b(s).length, inQuote, d);
    expect(open('a,"b')).toBe(true);
    expect(open('a,b"c')).toBe(false);
    expect(open('a,b"c', strict)).toBe(true);
    expect(open('c",d', lenient, true)).toBe(false);
    expect(open('x""y', lenient, true)).toBe(true);
    expect(open('a§"b', dialect('§', '"', true))).toBe(true);
  });
});

// csv-parse (a dev dependency) is the oracle: the engine must read what it read, and fail where
// it failed, with the row reader's options and with the header check's.
const readerOptions = (d: string, q: string, lenient: boolean) => ({ delimiter: d, quote: q, escape: q, record_delimiter: '\n', relax_column_count: true, relax_quotes: lenient });

function oracle(text: string, d: string, q: string, lenient: boolean): string[] | string {
  try {
    return (parse(Buffer.from(text), readerOptions(d, q, lenient)) as string[][])[0] ?? [];
  } catch {
    return 'error';
  }
}

function oracleError(text: string, d: string, q: string, lenient: boolean): string {
  try {
    parse(Buffer.from(text), readerOptions(d, q, lenient));
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

const formats = fc.constantFrom([',', '"'], [';', '"'], ['\t', "'"], ['|', '"']);
const unit = fc.constantFrom('a', 'é', '日', ' ', ',', ';', '\t', '|', '"', "'", '\n', '\r', '=', '\u2028');

describe('csv/read/engine against csv-parse', () => {
  it('written with minimal quoting: the same cells', () => {
    const cell = fc.oneof(fc.string({ unit }), fc.string());
    fc.assert(
      fc.property(formats, fc.array(cell, { minLength: 1, maxLength: 8 }), fc.boolean(), ([d, q], cells, lenient) => {
        const text = cells.map((c) => (c.includes(d!) || c.includes(q!) || /[\r\n]/.test(c) ? q + c.replaceAll(q!, q! + q!) + q : c)).join(d!);
        fc.pre(text !== '');
        expect(record(text, lenient, d, q)).toEqual(oracle(text, d!, q!, lenient));
      }),
      { numRuns: 1000 },
    );
  });

  it('arbitrary text, lenient and strict: the same cells, or an error where csv-parse fails', () => {
    fc.assert(
      fc.property(formats, fc.string({ unit, minLength: 1 }), fc.boolean(), ([d, q], text, lenient) => {
        // The row reader frames records line by line (a line's CRLF or LF is not part of them): only a
        // text that it takes as one record reaches the parser.
        fc.pre(!text.endsWith('\r'));
        const lines = text.split('\n');
        let inQuote = false;
        for (let i = 0; i < lines.length; i++) {
          inQuote = quoteOpenAfter(b(lines[i]!), 0, b(lines[i]!).length, inQuote, dialect(d!, q!, lenient));
          if (i < lines.length - 1) fc.pre(inQuote);
        }
        const ours = record(text, lenient, d, q);
        const ref = oracle(text, d!, q!, lenient);
        if (ref !== 'error') {
          expect(ours).toEqual(ref);
          return;
        }
        expect(typeof ours).toBe('string');
        // A record still open at the end of the input is the reader's own "unclosed quote" report.
        if (inQuote) return;
        // The reader's bad-line reason is csv-parse's message without its line number, as when csv-parse read these records.
        const bad: BadLine[] = [];
        const reader = new CsvRowParser({ delimiter: d, quote: q, strictQuotes: !lenient, columns: ['c'] }, 'f', () => undefined, (x) => bad.push(x));
        reader.feed(Buffer.from(text + '\n'));
        reader.end();
        const reason = oracleError(text, d!, q!, lenient).replace(/ at line \d+.*$/, '').replace(/ on line \d+$/, '');
        expect(bad.map((x) => x.error)).toEqual([`malformed quoted cell: ${reason}`]);
      }),
      { numRuns: 3000 },
    );
  });

  it('the header check reads the first record as csv-parse did (BOM, CRLF, blank first line)', () => {
    const first = (text: string): string[] | null => {
      try {
        const rows = parse(Buffer.from(text), { delimiter: ',', quote: '"', escape: '"', bom: true, to_line: 1, relax_column_count: true }) as string[][];
        return rows[0] ?? null;
      } catch {
        return null;
      }
    };
    for (const text of ['a,b\nc\n', '\uFEFFa,"b\nc"\r\nd\n', '"a""b",c\r\n', '\nx,y\n', '"a\nb",c\n', 'a"b,c\n', '"a"b\n', '"a,b\n', 'a,b']) {
      expect([text, firstRecord(Buffer.from(text), ',', '"')]).toEqual([text, first(text)]);
    }
  });
});
