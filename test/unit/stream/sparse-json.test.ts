import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { keyTree, SparseScanner } from '../../../src/stream/sparse-json.js';
import { parseJson, isExactNumber } from '../../../src/stream/exact-number.js';
import { columnAccessor, columnPaths, EVENT_COLUMNS } from '../../../src/csv/write/flatten.js';
import type { JsonObject } from '../../../src/stream/json.js';
import { FastRows } from '../../../src/csv/write/fast-rows.js';
import { RowBuilder } from '../../../src/csv/write/row-builder.js';

// The wanted fields: the event columns (own key, then user_context for the user fields), a
// dotted column, and kind / event_type, as export-csv's workers ask for them.
const COLUMNS = [...EVENT_COLUMNS, 'details.code', 'a.b.c'];
const places = COLUMNS.map(columnPaths);
const paths: string[][] = [['kind'], ['event_type']];
for (const p of places) {
  paths.push(p.own);
  if (p.nested) paths.push(p.nested);
}
const tree = keyTree(paths)!;
const scanner = new SparseScanner(tree);
// The same reader collecting byte classes of the string values (export-csv's cells): it must read alike.
const rowsPlan = new RowBuilder({ escapeFormulas: true, redact: true }, [...EVENT_COLUMNS]).fastPlan()!;
const classed = new SparseScanner(tree, FastRows.create({ delimiter: ',', quote: '"', eol: '\n' }, rowsPlan)!.classes);
const accessors = COLUMNS.map(columnAccessor);

/** Each column's value from the scan, as export-csv's task reads it. */
function scanned(): unknown[] {
  return places.map((p) => {
    const v = scanner.values[tree.slotOf(p.own)];
    return v !== undefined || !p.nested ? v : scanner.values[tree.slotOf(p.nested)];
  });
}

const same = (a: unknown, b: unknown): boolean =>
  isExactNumber(a) || isExactNumber(b) ? isExactNumber(a) && isExactNumber(b) && a.text === b.text : Object.is(a, b);

/** The property: a line the scanner takes is one the exact reader takes, with the same values. */
function check(bytes: Buffer): boolean {
  if (!isUtf8(bytes)) return false; // the caller's precondition: such a block is read the exact way
  const took = classed.scan(bytes, 0, bytes.length);
  expect(scanner.scan(bytes, 0, bytes.length)).toBe(took);
  if (!took) return false;
  scanner.values.forEach((v, slot) => expect(same(classed.values[slot], v), `slot ${slot} of ${bytes.toString()}`).toBe(true));
  const exact = parseJson(bytes.toString('utf8')) as JsonObject; // throws when the scanner took bad JSON
  expect(typeof exact === 'object' && exact !== null && !Array.isArray(exact)).toBe(true);
  const got = scanned();
  accessors.forEach((read, i) => expect(same(got[i], read(exact)), `${COLUMNS[i]} of ${bytes.toString()}`).toBe(true));
  expect(same(scanner.values[tree.slotOf(['kind'])], exact.kind)).toBe(true);
  expect(same(scanner.values[tree.slotOf(['event_type'])], exact.event_type)).toBe(true);
  return true;
}

const KEYS = ['event_id', 'email', 'name', 'center_id', 'message', 'user_context', 'details', 'code', 'a', 'b', 'c', 'kind', 'event_type', 'x', 'na\\u006de', 'é', '__proto__', 'constructor'];
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', '=SUM(A1)', 'a"b', 'tab\there', 'line\nbreak', '\u2028', '😀', 'x\\y', '\ud800'),
);
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('1.0', '-0', '9007199254740993', '1e3', '1E-7', '0.10', '-12.5e+2', '123456789012345', '1234567890123456'),
);
// A JSON text built by hand so that raw number texts, escapes and duplicate keys all occur.
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; object: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text.map((s) => JSON.stringify(s)),
    number.map(String),
    fc.constantFrom('true', 'false', 'null', '[]', '{}'),
    fc.array(tie('value'), { maxLength: 3 }).map((a) => `[${a.join(',')}]`),
    tie('object'),
  ),
  object: fc
    .array(fc.tuple(fc.constantFrom(...KEYS), tie('value'), fc.constantFrom('', ' ', '\t', '\r')), { maxLength: 7 })
    .map((kv) => `{${kv.map(([k, v, ws]) => `${ws}"${k}"${ws}:${ws}${v}${ws}`).join(',')}}`),
})).object;

describe('the sparse JSON reader', () => {
  it('takes only lines JSON.parse takes, with the same values for the wanted fields (random objects)', () => {
    fc.assert(
      fc.property(jsonText, (line) => {
        check(Buffer.from(line));
      }),
      { numRuns: 3000 },
    );
  });

  it('never takes a broken line: random byte edits of valid lines (each taken one checked against JSON.parse)', () => {
    fc.assert(
      fc.property(jsonText, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 3 }), (line, edits) => {
        let bytes = Buffer.from(line);
        for (const [at, byte, op] of edits) {
          const i = bytes.length ? at % bytes.length : 0;
          if (op === 'set' && bytes.length) bytes[i] = byte;
          else if (op === 'insert') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
          else bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
        }
        // A taken line must parse (check throws otherwise) and agree.
        check(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it('takes an ordinary event line (so the fast path is really used) and reads it as JSON.parse does', () => {
    const event = {
      event_id: 'e1', timestamp: '2026-11-21T08:00:00.004Z', event_type: 'error', category: 'Unclaimed Records',
      message: 'Zoë said "hi", 😀', action_needed: null,
      user_context: { email: 'a@b.org', name: 'Zoë', center_id: 23, registry_id: null, auth_email: 'x@y.z' },
      details: { registry_records: 2, code: 1.5 }, source: { job: 'j', file: 'f.csv', line: 2 },
    };
    expect(check(Buffer.from(JSON.stringify(event)))).toBe(true);
    expect(scanned()).toEqual(['a@b.org', 'Zoë', 23, null, 'x@y.z', 'Unclaimed Records', 'Zoë said "hi", 😀', null, '2026-11-21T08:00:00.004Z', 'e1', 1.5, undefined]);
  });

  it('leaves to the exact reader what it cannot be sure of', () => {
    for (const line of [
      '', ' ', '[1]', '"x"', '{"a":1', '{"a":1}x', '{"a":01}', '{"a":1.}', '{"a":-}', '{"a":tru}', '{"a":"\u0001"}',
      '{"a":"\\x"}', '{"a":"\\u12"}', '{"a" 1}', '{"a":1,}', '{,"a":1}', '{"email":{"x":1}}', '{"message":[1]}',
      '{"na\\u006de":"escaped wanted key"}', '{"x":' + '['.repeat(100) + ']'.repeat(100) + '}',
    ]) {
      expect(scanner.scan(Buffer.from(line), 0, Buffer.byteLength(line)), line).toBe(false);
    }
    // Names every object inherits cannot be read from a sparse record.
    expect(keyTree([['constructor']])).toBeNull();
    expect(keyTree([['a', '__proto__']])).toBeNull();
  });

  it('the last of duplicate keys wins, also for an object walked into', () => {
    expect(check(Buffer.from('{"email":"a","email":"b","user_context":{"name":"n"},"user_context":5}'))).toBe(true);
    expect(scanned().slice(0, 2)).toEqual(['b', undefined]);
  });
});
