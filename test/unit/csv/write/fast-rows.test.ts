import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FastRows } from '../../../../src/csv/write/fast-rows.js';
import { RowBuilder, type CellPolicy } from '../../../../src/csv/write/row-builder.js';
import { ChunkBuffer, makeRowEncoder, type CsvFormat } from '../../../../src/csv/write/encode.js';
import { columnPaths, EVENT_COLUMNS } from '../../../../src/csv/write/flatten.js';
import { keyTree, SparseScanner, UNBUILT } from '../../../../src/stream/sparse-json.js';

// The columns export-csv's workers write (the event columns), a secret name, a dotted column.
const COLUMNS = [...EVENT_COLUMNS, 'api_token', 'details.code'];

/** The fast rows and the exact way (buildValues, then makeRowEncoder) side by side, as export-csv's task wires them. */
function pair(format: CsvFormat, policy: CellPolicy) {
  const builder = new RowBuilder(policy, COLUMNS);
  const rows = FastRows.create(format, builder.fastPlan()!)!;
  const encode = makeRowEncoder(format);
  const places = builder.columns.map(columnPaths);
  const paths: string[][] = [];
  for (const p of places) {
    paths.push(p.own);
    if (p.nested) paths.push(p.nested);
  }
  const tree = keyTree(paths)!;
  // Every column's strings left unbuilt (as export-csv's task asks), and none: both ways must write the same.
  const raw = new Uint8Array(tree.slots).fill(1);
  const scanners = [new SparseScanner(tree, rows.classes, raw), new SparseScanner(tree, rows.classes)];
  const own = places.map((p) => tree.slotOf(p.own));
  const nested = places.map((p) => (p.nested ? tree.slotOf(p.nested) : -1));
  // Small buffers: a row must make room for itself as they grow.
  const chunk = new ChunkBuffer(16);
  return (line: string): void => {
    // Not at offset 0, in a bigger buffer: the row is cut from where the line sits.
    const bytes = Buffer.from(`\n${line}\n`);
    for (const scanner of scanners) {
      if (!scanner.scan(bytes, 1, bytes.length - 1)) return;
      const slots = own.map((s, i) => (scanner.values[s] === undefined && nested[i] !== -1 ? nested[i]! : s));
      const values = slots.map((s) => scanner.values[s]);
      const built = slots.map((s) => (scanner.values[s] === UNBUILT ? scanner.stringAt(s) : scanner.values[s]));
      const exact = encode(builder.buildValues(built));
      const flags = slots.map((s) => scanner.flags[s]!);
      const at = (a: Int32Array) => slots.map((s) => a[s]!);
      rows.rowInto(chunk, bytes, Buffer.byteLength(line), values, flags, at(scanner.starts), at(scanner.ends), (i) => scanner.stringAt(slots[i]!));
      expect(chunk.take().toString(), line).toBe(exact);
    }
  };
}

// Strings that need each policy: secrets, formulas, quotes, delimiters, escapes, non-ASCII.
const text = fc.oneof(
  fc.constantFrom(
    '', 'x', '=SUM(A1)', '+1', '-5', '-x', '@me', "'=x", "'", '\tx', 'a,b', 'a;b', 'a|b', 'say "hi"', "it's", 'line\nbreak', 'cr\r',
    'password=hunter2', 'token: abc', 'Bearer abc123def456', 'bearer x', 'AKIAIOSFODNN7EXAMPLE', 'eyJhbGciOi.eyJzdWIiOi.sig',
    'https://user:pw@host/x', 'ghp_abcdefghijklmnopqrstuvwxyz', 'xoxb-1234567890-abc', 'sk_live_abcdefghijklmnop',
    'Authorization: Basic Zm9v', '-----BEGIN RSA PRIVATE KEY-----x', '2026-11-21T08:00:00.004Z', 'Zoë "the" Berg', '😀', 'naïve, café',
  ),
  fc.string({ unit: fc.constantFrom(...'aAbBxJ:=_-,;|" \'\\é9e.+@\t\n'), maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);
const value = fc.oneof(
  text.map((s) => JSON.stringify(s)),
  text.map((s) => JSON.stringify(s).replace(/[é]/g, '\\u00e9')),
  fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })).map(String),
  fc.constantFrom('-0', '1.0', '9007199254740993', '1e400', '-1e-7', 'true', 'false', 'null', '{}', '[]'),
);
const KEYS = [...EVENT_COLUMNS, 'api_token', 'kind', 'event_type', 'x'];
const inner = fc.array(fc.tuple(fc.constantFrom(...KEYS, 'code'), value), { maxLength: 4 }).map((kv) => `{${kv.map(([k, v]) => `"${k}":${v}`).join(',')}}`);
const line = fc
  .array(fc.tuple(fc.constantFrom(...KEYS, 'user_context', 'details'), fc.oneof(value, inner)), { maxLength: 12 })
  .map((kv) => `{${kv.map(([k, v]) => `"${k}":${v}`).join(',')}}`);

const format = fc.record({
  delimiter: fc.constantFrom(',', ';', '\t', '|', '.', 'e', 'x'),
  quote: fc.constantFrom('"', "'", '|'),
  eol: fc.constantFrom('\n' as const, '\r\n' as const),
}).filter((f) => f.delimiter !== f.quote);
const policy = fc.record({
  escapeFormulas: fc.boolean(),
  redact: fc.boolean(),
  redactKeys: fc.constantFrom(undefined, [/^name$/i]),
  keepKeys: fc.constantFrom(undefined, [/^message$/i], [/token/i]),
});

describe('FastRows: rows from the sparse reader, as buildValues and makeRowEncoder write them', () => {
  it('writes every row the exact way does, byte for byte (random lines, dialects and policies)', () => {
    fc.assert(
      fc.property(format, policy, fc.array(line, { minLength: 1, maxLength: 20 }), (fmt, pol, lines) => {
        const check = pair(fmt, pol);
        for (const l of lines) check(l);
      }),
      { numRuns: 1500 },
    );
  });

  it('handles an ordinary event without the exact way for its strings', () => {
    const check = pair({ delimiter: ',', quote: '"', eol: '\n' }, { escapeFormulas: true, redact: true });
    check('{"email":"a@b.org","user_context":{"name":"Zoë van \\"the\\" Berg","center_id":23},"message":"User x, \\"y\\"","timestamp":"2026-11-21T08:00:00.004Z","api_token":"t"}');
  });

  it('declines a dialect it does not handle', () => {
    const plan = new RowBuilder({ escapeFormulas: true, redact: true }, COLUMNS).fastPlan()!;
    expect(FastRows.create({ delimiter: '§', quote: '"', eol: '\n' }, plan)).toBeNull();
    expect(new RowBuilder({ escapeFormulas: true, redact: true }).fastPlan()).toBeNull();
  });
});
