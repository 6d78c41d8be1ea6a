import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mayHoldInexactNumber, parseJson, stringifyExact } from '../../../src/stream/exact-number.js';

// A JSON number's text, in every form the grammar allows.
const numberText = fc
  .tuple(
    fc.constantFrom('', '-'),
    fc.oneof(fc.constant('0'), fc.bigInt({ min: 1n, max: 10n ** 30n }).map(String)),
    fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{1,3}$/)), { nil: undefined }),
  )
  .map(([sign, int, frac, exp]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}${exp === undefined ? '' : exp.join('')}`);

describe('exact numbers', () => {
  it('any number keeps its text through parse and stringify, in objects and arrays, with any spacing', () => {
    fc.assert(
      fc.property(numberText, numberText, fc.constantFrom('', ' ', '\t'), (a, b, ws) => {
        const text = `{"a":${ws}${a},"s":"x:1.0","b":[${ws}${b}${ws},{"c":${a}}]}`;
        const expected = `{"a":${a},"s":"x:1.0","b":[${b},{"c":${a}}]}`;
        expect(stringifyExact(parseJson(text))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('the pre-scan never misses a number whose text a double changes, wherever it sits', () => {
    fc.assert(
      fc.property(numberText, fc.constantFrom('', ' ', '\n'), (n, ws) => {
        const changed = String(Number(n)) !== n;
        for (const text of [`{"a":${ws}${n}}`, `{"s":"x","a" :${ws}${n}${ws}}`, `{"a":["x",${ws}${n}]}`, `{"a":[${n},1]}`]) {
          if (changed) expect(mayHoldInexactNumber(text), text).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('ordinary lines take the fast path (no second parse)', () => {
    for (const line of [
      '{"event_id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","timestamp":"2026-11-21T10:15:30.120Z","n":12,"x":1.5,"z":0,"c":[1,2,3]}',
      '{"center_id":42,"line":17,"ratio":0.25,"big":123456789012345}',
    ]) expect(mayHoldInexactNumber(line), line).toBe(false);
    for (const line of ['{"id":9007199254740993}', '{"x":1.0}', '{"x":1e3}', '{"x":-0}', '{"x":0.0000001}', '{"x": [2.50]}']) expect(mayHoldInexactNumber(line), line).toBe(true);
  });

  it('a duplicate key keeps the last value, as JSON.parse does', () => {
    expect(stringifyExact(parseJson('{"a":1.0,"a":2.0}'))).toBe('{"a":2.0}');
  });
});
