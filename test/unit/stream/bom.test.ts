// The one BOM recogniser: a whole BOM, none, or the start of one that needs more bytes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { blankBom, bomLength } from '../../../src/stream/bom.js';

const BOM = [0xef, 0xbb, 0xbf];

describe('stream/bom', () => {
  it('tells a whole BOM, none, and a BOM cut short by the chunk', () => {
    expect(bomLength(Buffer.from([...BOM, 0x61]))).toBe(3);
    expect(bomLength(Buffer.from('abc'))).toBe(0);
    expect(bomLength(Buffer.from([0xef]))).toBe(-1);
    expect(bomLength(Buffer.from([0xef, 0xbb]))).toBe(-1);
    expect(bomLength(Buffer.from([0xef, 0xbb]), true)).toBe(0);
    expect(bomLength(Buffer.from([0xef, 0x61]))).toBe(0);
    expect(bomLength(Buffer.alloc(0))).toBe(-1);
  });

  it('any bytes: 3 exactly when they start with a BOM; -1 only for a proper prefix of it (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6 }), fc.boolean(), (bytes, withBom) => {
        const buf = Buffer.from(withBom ? [...BOM, ...bytes] : bytes);
        const n = bomLength(buf);
        const starts = buf.length >= 3 && BOM.every((b, i) => buf[i] === b);
        const prefix = buf.length < 3 && [...buf].every((b, i) => BOM[i] === b);
        expect(n).toBe(starts ? 3 : prefix ? -1 : 0);
      }),
      { numRuns: 300 },
    );
  });

  it('blanks a leading U+FEFF of decoded text to a space, keeping offsets', () => {
    expect(blankBom('\uFEFF{"a":1}')).toBe(' {"a":1}');
    expect(blankBom('{"a":1}')).toBe('{"a":1}');
  });
});
