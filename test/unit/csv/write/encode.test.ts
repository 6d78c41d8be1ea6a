import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { ChunkBuffer, makeRowEncoder, type CsvFormat } from '../../../../src/csv/write/encode.js';
import { RowBuilder } from '../../../../src/csv/write/row-builder.js';

const formats = fc.record({
  delimiter: fc.constantFrom(',', ';', '\t', '|', ' '),
  quote: fc.constantFrom('"', "'"),
  eol: fc.constantFrom('\n' as const, '\r\n' as const),
});
const cell = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.constantFrom('a', ',', ';', '"', "'", '\n', '\r', '\t', ' ', 'é', '名') }));

describe('encode and row-builder', () => {
  // csv-stringify leaves a lone CR (or LF in CRLF files) unquoted; we always quote line breaks (quoted_match
  // makes the reference do the same), since a bare CR splits the row in many readers.
  it('matches csv-stringify byte for byte on random rows (minimal quoting)', () => {
    fc.assert(
      fc.property(formats, fc.array(fc.array(cell, { minLength: 2, maxLength: 6 }), { minLength: 1, maxLength: 10 }), (fmt, rows) => {
        fc.pre(fmt.delimiter !== fmt.quote);
        const ours = rows.map(makeRowEncoder(fmt)).join('');
        const theirs = stringify(rows, { delimiter: fmt.delimiter, quote: fmt.quote, escape: fmt.quote, record_delimiter: fmt.eol === '\n' ? 'unix' : 'windows', quoted_match: /[\r\n]/ });
        expect(ours).toBe(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('writes a lone empty cell as "" so the row is not a blank line', () => {
    expect(makeRowEncoder({ delimiter: ',', quote: '"', eol: '\n' })([''])).toBe('""\n');
  });

  it('ChunkBuffer grows for a row larger than the buffer and keeps what was written', () => {
    const cb = new ChunkBuffer();
    cb.append('head,');
    const big = 'é'.repeat(3 << 20);
    cb.append(big);
    expect(cb.take().toString('utf8')).toBe('head,' + big);
    cb.append('next');
    expect(cb.take().toString('utf8')).toBe('next');
  });

  it('RowBuilder: seed 000 fields fall back to user_context; nulls empty; booleans and JSON cells', () => {
    const b = new RowBuilder({ escapeFormulas: true, redact: true }, ['email', 'name', 'center_id', 'flag', 'list', 'source.file', 'when']);
    const cells = b.build({ user_context: { email: 'a@b.org', name: 'Ada', center_id: 42 }, flag: false, list: [1, { password: 'x' }], source: { file: 'd.csv' }, when: null });
    expect([...cells]).toEqual(['a@b.org', 'Ada', '42', 'false', '[1,{"password":"[REDACTED]"}]', 'd.csv', '']);
  });

  it('RowBuilder discovers columns in first-seen order, honours --exclude prefixes', () => {
    const b = new RowBuilder({ escapeFormulas: false, redact: false }, undefined, ['details']);
    expect([...b.build({ a: 1, details: { x: 1 }, n: { b: { c: 'x' } } })]).toEqual(['1', 'x']);
    expect([...b.build({ z: true, a: 2, e: {} })]).toEqual(['2', '', 'true', '{}']);
    expect(b.columns).toEqual(['a', 'n.b.c', 'z', 'e']);
  });
});

export type { CsvFormat };
