// import-csv --jobs: the CSV cutter's blocks against the one-thread reader. For any bytes (quoted
// cells with line breaks, stray quotes, CR/CRLF, a BOM, invalid UTF-8, long records), any read
// sizes, block size, --max-line-bytes, dialect and moment the workers start, the blocks read on
// their own (as a worker reads them, after a structured clone) plus the parts the cutter read
// itself give the rows and the bad lines (FILE:LINE, reason, raw) of one reader over the source,
// in the same order.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CsvRowParser, type ImportOptions } from '../../../src/csv/read/stream-reader.js';
import { CsvCutter, parseCsvBlock, type CsvBlock } from '../../../src/parallel/csv-blocks.js';
import type { SerialPart } from '../../../src/parallel/blocks.js';
import type { BadLine } from '../../../src/stream/bad-lines.js';
import type { JsonObject } from '../../../src/stream/json.js';
import { chunked } from '../../helpers/chunks.js';

/** Pieces of CSV text: most of what can go wrong around quotes and line ends. */
const arbPiece = fc.constantFrom('a', 'bc', ',', ';', '§', '"', '""', '\n', '\r\n', '\r', ' ', 'é', '37"N', '"x,\ny"', 'q"', "'", '\uFEFF', '\u2028');
/** A cell: mostly ordinary, some quoted (with delimiters, quotes and line breaks inside), some broken. */
const arbCell = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('', 'a', 'Zoë', '12', ' x ', "'=1") },
  { weight: 3, arbitrary: fc.constantFrom('"a,b"', '"say ""hi"""', '"two\nlines"', '"crlf\r\nin"', "'s;q'", '"§"') },
  { weight: 1, arbitrary: fc.constantFrom('37"N', '"open', '"a"b', 'x"', '"', "'") },
  { weight: 1, arbitrary: fc.array(arbPiece, { maxLength: 4 }).map((p) => p.join('')) },
);
/** A line of cells, joined by any of the delimiters (a wrong one makes a ragged row). */
const arbLine = fc
  .tuple(fc.array(arbCell, { minLength: 1, maxLength: 4 }), fc.constantFrom(',', ';', '§'), fc.constantFrom('\n', '\r\n'))
  .map(([cells, d, eol]) => cells.join(d) + eol);

interface Case {
  bytes: Buffer;
  reads: number[];
  block: number;
  opts: ImportOptions & { maxLineBytes: number };
  /** After this many reads the workers are running. */
  workersAt: number;
}

const arbCase: fc.Arbitrary<Case> = fc
  .record({
    pieces: fc.array(fc.oneof({ weight: 5, arbitrary: arbLine }, { weight: 1, arbitrary: arbPiece }), { maxLength: 40 }),
    bom: fc.boolean(),
    invalidUtf8: fc.boolean(),
    reads: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
    block: fc.integer({ min: 1, max: 80 }),
    maxLineBytes: fc.constantFrom(16 * 1024 * 1024, 30, 8),
    delimiter: fc.constantFrom(',', ';', '§'),
    quote: fc.constantFrom('"', "'"),
    strictQuotes: fc.boolean(),
    columns: fc.option(fc.constantFrom(['x'], ['x', 'y'], ['x', 'y', 'z']), { nil: undefined }),
    unescapeFormulas: fc.boolean(),
    workersAt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 })),
  })
  .map(({ pieces, bom, invalidUtf8, reads, block, maxLineBytes, delimiter, quote, strictQuotes, columns, unescapeFormulas, workersAt }) => {
    let bytes = Buffer.from((bom ? '\uFEFF' : '') + pieces.join(''), 'utf8');
    if (invalidUtf8 && bytes.length > 3) bytes = Buffer.concat([bytes.subarray(0, 3), Buffer.from([0xff, 0x22]), bytes.subarray(3)]);
    return { bytes, reads, block, opts: { delimiter, quote, strictQuotes, columns, unescapeFormulas, maxLineBytes }, workersAt };
  });

interface Seen {
  rows: string[];
  bad: BadLine[];
}

/** One reader over the whole source, as import-csv --jobs 1 reads it. */
function oneThread(c: Case): Seen {
  const seen: Seen = { rows: [], bad: [] };
  const p = new CsvRowParser(c.opts, 'in.csv', (row, line) => void seen.rows.push(`${line} ${JSON.stringify(row)}`), (b) => void seen.bad.push(b));
  for (const chunk of chunked(c.bytes, c.reads)) p.feed(Buffer.from(chunk));
  p.end();
  return seen;
}

/** The cutter, its blocks read as a worker reads them (from a copy of their bytes, after the reads are gone). */
function cut(c: Case): Seen & { blocks: number; backHere: boolean } {
  const seen: Seen & { blocks: number; backHere: boolean } = { rows: [], bad: [], blocks: 0, backHere: false };
  const order: Array<CsvBlock | SerialPart<JsonObject>> = [];
  const cutter = new CsvCutter('in.csv', c.opts, c.block, (piece) => void order.push(piece));
  const chunks = chunked(c.bytes, c.reads);
  chunks.forEach((chunk, i) => {
    if (i === c.workersAt) cutter.useWorkers();
    // The reader reuses its read buffer: the cutter must copy what it keeps.
    const reused = Buffer.from(chunk);
    cutter.push(reused);
    reused.fill(0x41);
    if (i % 3 === 2) cutter.cut();
  });
  cutter.end();
  for (const piece of order) {
    if ('items' in piece) {
      if (seen.blocks > 0) seen.backHere = true;
      // A part read here has no line numbers to show: its rows are checked by content and order.
      for (const b of piece.bad) seen.bad.push(b);
      for (const row of piece.items) seen.rows.push(`? ${JSON.stringify(row)}`);
      continue;
    }
    seen.blocks++;
    const cloned = structuredClone({ ...piece, bytes: new Uint8Array(piece.bytes) }) as CsvBlock;
    parseCsvBlock(cloned, c.opts, (row) => void seen.rows.push(`? ${JSON.stringify(row)}`), (b) => void seen.bad.push(b));
  }
  return seen;
}

describe('CsvCutter (import-csv --jobs)', () => {
  it('blocks read on their own give the rows and bad lines of one reader, in order', () => {
    let withBlocks = 0;
    let backHere = 0;
    fc.assert(
      fc.property(arbCase, (c) => {
        const one = oneThread(c);
        const two = cut(c);
        if (two.blocks > 0) withBlocks++;
        if (two.backHere) backHere++;
        expect(two.rows).toEqual(one.rows.map((r) => `? ${r.slice(r.indexOf(' ') + 1)}`));
        expect(two.bad).toEqual(one.bad);
      }),
      { numRuns: 3000 },
    );
    // The property is about blocks: many cases must have made some, and some must have gone back
    // to reading here (a record open longer than --max-line-bytes) after a block.
    expect(withBlocks).toBeGreaterThan(900);
    expect(backHere).toBeGreaterThan(30);
  });

  it('line numbers of rows in blocks are the one reader\'s (multi-line records included)', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const lines: number[] = [];
        const p = new CsvRowParser(c.opts, 'in.csv', (_row, line) => void lines.push(line), () => undefined);
        for (const chunk of chunked(c.bytes, c.reads)) p.feed(Buffer.from(chunk));
        p.end();
        const got: number[] = [];
        const cutter = new CsvCutter('in.csv', c.opts, c.block, (piece) => {
          if ('items' in piece) {
            for (let i = 0; i < piece.items.length; i++) got.push(-1);
            return;
          }
          const q = new CsvRowParser(c.opts, piece.file, (_row, line) => void got.push(line), () => undefined);
          q.resume(piece.startLine - 1, piece.header);
          let from = 0;
          for (const e of piece.ends) {
            q.feed(piece.bytes.subarray(from, e));
            from = e;
          }
          if (piece.last) q.end();
        });
        cutter.useWorkers();
        for (const chunk of chunked(c.bytes, c.reads)) cutter.push(Buffer.from(chunk));
        cutter.end();
        expect(got.length).toBe(lines.length);
        got.forEach((l, i) => {
          if (l !== -1) expect(l).toBe(lines[i]);
        });
      }),
      { numRuns: 1000 },
    );
  });
});
