import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toCsv } from '../../../src/csv/write/output.js';
import { importCsv } from '../../../src/commands/import-csv.js';
import { cellText, flattenRecord } from '../../../src/csv/write/flatten.js';
import type { JsonObject } from '../../../src/event/event.js';

const text = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('a', ',', ';', '"', "'", '\n', '\r', '\r\n', '\t', ' ', '=', '-', '@', 'é', '名', '😀', '\u2028') }),
);
const key = fc.constantFrom('email', 'name', 'message', 'x', 'y', 'z', 'ключ', 'with space', 'q"uote', 'c,omma');
const leaf = fc.oneof(text, fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.array(fc.oneof(text, fc.integer(), fc.constant(null)), { maxLength: 3 }));
const value = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: fc.dictionary(key, leaf, { minKeys: 1, maxKeys: 3 }) });
const record = fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }) as fc.Arbitrary<JsonObject>;
const format = fc.record({
  delimiter: fc.constantFrom(',', ';', '\t', '|'),
  quote: fc.constantFrom('"', "'"),
  eol: fc.constantFrom('\n' as const, '\r\n' as const),
});

/** What import-csv must give back: every column seen (first-seen order), values as cell text. */
function expected(records: JsonObject[]): { columns: string[]; rows: Record<string, string>[] } {
  const flat = records.map(flattenRecord);
  const columns: string[] = [];
  for (const f of flat) for (const k of Object.keys(f)) if (!columns.includes(k)) columns.push(k);
  return { columns, rows: flat.map((f) => Object.fromEntries(columns.map((c) => [c, cellText(f[c])]))) };
}

async function collect<T>(g: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
}

describe('export-csv → import-csv round trip (pure cores)', () => {
  it('returns the flattened records unchanged: unicode, quotes, delimiters, newlines, nulls, new columns late', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 12 }), format, fc.boolean(), fc.boolean(), async (records, fmt, bom, tinySpill) => {
        fc.pre(fmt.delimiter !== fmt.quote);
        const csv = await toCsv(records, {
          format: fmt,
          bom,
          policy: { escapeFormulas: false, redact: false },
          // A tiny memory limit moves the spill to a temp file after a few rows.
          spill: tinySpill ? { memoryLimit: 64 } : undefined,
        });
        const bad: unknown[] = [];
        const back = await collect(importCsv([Buffer.from(csv, 'utf8')], { delimiter: fmt.delimiter, quote: fmt.quote, onBad: (b) => bad.push(b) }));
        const want = expected(records);
        expect(bad).toEqual([]);
        expect(back).toEqual(want.rows);
        if (back.length) expect(Object.keys(back[0]!)).toEqual(want.columns);
      }),
      { numRuns: 200 },
    );
  });

  it('with the safe defaults, --unescape-formulas restores formula-looking text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ a: text, b: text }), { minLength: 1, maxLength: 8 }), async (records) => {
        const csv = await toCsv(records, { policy: { escapeFormulas: true, redact: false } });
        const back = await collect(importCsv([csv], { unescapeFormulas: true }));
        expect(back).toEqual(records);
      }),
      { numRuns: 150 },
    );
  });

  it('streams chunks split anywhere, even inside a multi-byte character', async () => {
    const records = [{ a: 'é名😀', b: 'x\ny' }, { a: '"q"', b: '' }];
    const bytes = Buffer.from(await toCsv(records), 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      const back = await collect(importCsv([bytes.subarray(0, cut), bytes.subarray(cut)]));
      expect(back).toEqual(records);
    }
  });
});
