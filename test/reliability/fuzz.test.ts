// Fuzzing the cores with fast-check (at least 100 runs each): arbitrary and hostile bytes into
// the NDJSON reader and the CSV reader, hostile records into process, analyze, export-csv and
// notify. fast-check prints the seed and the shrunk counter-example of a failure.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { simpleParser } from 'mailparser';
import { readNdjson, type Item } from '../../src/stream/ndjson-reader.js';
import { BadLinePolicy, type BadLine } from '../../src/stream/bad-lines.js';
import { importCsv } from '../../src/commands/import-csv.js';
import { createProcessStage, looksLikeEvent, processLogLines } from '../../src/commands/process.js';
import { summarizeEvents } from '../../src/summary/summary.js';
import { toCsv } from '../../src/csv/write/output.js';
import { renderMessage } from '../../src/notify/message.js';
import { composeMime } from '../../src/notify/transports/mime.js';
import { collect } from '../../src/stream/stage.js';
import type { JsonObject } from '../../src/event/event.js';

const RUNS = { numRuns: 150 };
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Strings built from the characters that break parsers and terminals. */
const hostileChar = fc.constantFrom('a', 'Z', ' ', '"', "'", ',', ';', '\t', '\n', '\r', '\r\n', '\\', '{', '}', '[', ']', ':', '=', '+', '-', '@', '\u0000', '\u001b', '\u2028', 'é', '名', '😀', '\uFEFF', '\uFFFD', 'None', 'null');
const hostileString = fc.oneof(fc.string({ unit: hostileChar, maxLength: 24 }), fc.string({ maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 12 }));
const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, hostileString, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(hostileString, tie('value'), { maxKeys: 3 })),
})).value;
const jsonObject = fc.dictionary(hostileString, jsonValue, { maxKeys: 6 }) as fc.Arbitrary<JsonObject>;

/** Cuts bytes into chunks at arbitrary places (inside a character, a CRLF or the BOM too). */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = p;
  }
  if (prev < bytes.length) out.push(bytes.subarray(prev));
  return out;
}

async function readAll(chunks: Buffer[]): Promise<{ items: Item[]; bad: BadLine[] }> {
  const bad: BadLine[] = [];
  const policy = new BadLinePolicy({ report: () => undefined });
  const add = policy.add.bind(policy);
  policy.add = (b) => {
    bad.push(b);
    add(b);
  };
  const items: Item[] = [];
  for await (const batch of readNdjson([{ name: 'fuzz', open: () => Readable.from(chunks, { objectMode: false }) }], { policy })) items.push(...batch);
  return { items, bad };
}

/** The reader's contract, computed on the whole buffer at once: each line is a record, a bad line or blank. */
function oracle(bytes: Buffer): { records: Array<{ line: number; value: unknown }>; bad: number[] } {
  let body = bytes;
  if (body.length >= 3 && body.subarray(0, 3).equals(BOM)) body = body.subarray(3);
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = body.indexOf(0x0a); i !== -1; i = body.indexOf(0x0a, start)) {
    lines.push(body.subarray(start, i));
    start = i + 1;
  }
  if (start < body.length) lines.push(body.subarray(start));
  const records: Array<{ line: number; value: unknown }> = [];
  const bad: number[] = [];
  lines.forEach((raw, k) => {
    const line = raw.length && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
    if (line.length === 0) return;
    if (!isUtf8(line)) return void bad.push(k + 1);
    const text = line.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (text.trim() !== '') bad.push(k + 1);
      return;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) records.push({ line: k + 1, value });
    else bad.push(k + 1);
  });
  return { records, bad };
}

/** One NDJSON line of a given kind, with what the reader must make of it. */
const ndjsonLine = fc.oneof(
  // What the line says is JSON.stringify's text, so the value to expect is that text parsed back
  // (the generator's -0 is written as 0 and must come back as 0).
  jsonObject.map((o) => ({ bytes: Buffer.from(JSON.stringify(o)), valid: JSON.parse(JSON.stringify(o)) as unknown })),
  jsonObject.map((o) => ({ bytes: Buffer.from(` \t${JSON.stringify(o)} `), valid: JSON.parse(JSON.stringify(o)) as unknown })),
  jsonObject.chain((o) => {
    const text = JSON.stringify(o);
    return fc.integer({ min: 1, max: Math.max(1, text.length - 1) }).map((n) => ({ bytes: Buffer.from(text.slice(0, n)), valid: undefined }));
  }),
  fc.constantFrom('[1,2]', '"str"', 'null', '42', 'true', '{"a":1}{"b":2}', '{"a":', '}', '\u0000', ' ', '\r', '\uFEFF{}').map((t) => ({ bytes: Buffer.from(t), valid: undefined })),
  fc.uint8Array({ maxLength: 12 }).map((u) => ({ bytes: Buffer.from(u.filter((b) => b !== 0x0a)), valid: undefined })),
  fc.constantFrom('ff', 'c0af', 'e697', 'eda080', 'f4908080', '80').map((h) => ({ bytes: Buffer.concat([Buffer.from('{"a":"'), Buffer.from(h, 'hex'), Buffer.from('"}')]), valid: undefined })),
);

describe('fuzz: NDJSON reader', () => {
  it('arbitrary bytes in arbitrary chunks: no exception, every line is a record, a bad line or blank, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), async (u, cuts) => {
        const bytes = Buffer.from(u);
        const { items, bad } = await readAll(chunked(bytes, cuts));
        const want = oracle(bytes);
        expect(items.map((i) => i.line)).toEqual(want.records.map((r) => r.line));
        expect(items.map((i) => i.value)).toEqual(want.records.map((r) => r.value));
        expect(bad.map((b) => b.line)).toEqual(want.bad);
        for (const b of bad) expect(b.file).toBe('fuzz');
      }),
      RUNS,
    );
  });

  it('valid, invalid, non-object, invalid UTF-8 and NUL lines with LF/CRLF, a BOM, no final break: each valid record once, with its line; each bad line reported once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ line: ndjsonLine, eol: fc.constantFrom('\n', '\r\n') }), { maxLength: 25 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (lines, bom, finalBreak, cuts) => {
          const parts: Buffer[] = bom ? [BOM] : [];
          lines.forEach(({ line, eol }, k) => parts.push(line.bytes, k < lines.length - 1 || finalBreak ? Buffer.from(eol) : Buffer.alloc(0)));
          const bytes = Buffer.concat(parts);
          const { items, bad } = await readAll(chunked(bytes, cuts));
          const want = oracle(bytes);
          expect(items.map((i) => ({ line: i.line, value: i.value }))).toEqual(want.records);
          expect(bad.map((b) => b.line)).toEqual(want.bad);
          // Every generated object comes out exactly once, with its own line number.
          lines.forEach(({ line }, k) => {
            if (line.valid === undefined) return;
            const hits = items.filter((i) => i.line === k + 1);
            expect(hits.length).toBe(1);
            expect(hits[0]!.value).toEqual(line.valid);
          });
          expect(new Set(bad.map((b) => b.line)).size).toBe(bad.length);
        },
      ),
      RUNS,
    );
  });
});

const csvCell = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '"', ',', ';', '|', '\t', '\n', '\r', '\r\n', "'", '=', '+', '-', '@', 'é', '名', '😀'), maxLength: 10 });

describe('fuzz: CSV reader (import-csv core)', () => {
  it('arbitrary bytes in arbitrary chunks: no exception; records carry exactly the header keys; bad rows have a line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', 'x', '\uFEFF'), maxLength: 60 }).map((s) => new TextEncoder().encode(s))), fc.array(fc.nat(), { maxLength: 6 }), async (u, cuts) => {
        const bytes = Buffer.from(u);
        const bad: BadLine[] = [];
        const recs = await collect(importCsv(chunked(bytes, cuts), { onBad: (b) => bad.push(b) }));
        const lines = bytes.toString('latin1').split('\n').length;
        for (const b of bad) {
          expect(b.line).toBeGreaterThanOrEqual(1);
          expect(b.line).toBeLessThanOrEqual(lines);
        }
        if (recs.length) {
          const keys = Object.keys(recs[0]!);
          for (const r of recs) {
            expect(Object.keys(r)).toEqual(keys);
            for (const v of Object.values(r)) expect(typeof v).toBe('string');
          }
        }
        // The same bytes in one chunk give the same result: chunk boundaries never matter.
        const whole = await collect(importCsv([bytes], { onBad: () => undefined }));
        expect(whole).toEqual(recs);
      }),
      RUNS,
    );
  });

  it('valid CSV (csv-stringify) of hostile cells round-trips, with any delimiter, CRLF or LF, a BOM, in arbitrary chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5 }).chain((n) =>
          fc.record({
            header: fc.uniqueArray(csvCell.filter((s) => s !== ''), { minLength: n, maxLength: n }),
            rows: fc.array(fc.array(csvCell, { minLength: n, maxLength: n }), { maxLength: 12 }),
          }),
        ),
        fc.constantFrom(',', ';', '\t', '|'),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        async ({ header, rows }, delimiter, eol, bom, cuts) => {
          const text = stringify([header, ...rows], { delimiter, record_delimiter: eol === '\n' ? 'unix' : 'windows', quoted_match: [/^[\s\uFEFF]|\s$/, /[\r\n]/] });
          // (csv-stringify quotes only the record delimiter itself: a bare LF inside a CRLF file needs the match too.)
          const bytes = Buffer.concat([bom ? BOM : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
          const bad: BadLine[] = [];
          const back = await collect(importCsv(chunked(bytes, cuts), { delimiter, onBad: (b) => bad.push(b) }));
          expect(bad).toEqual([]);
          expect(back).toEqual(rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]!]))));
        },
      ),
      RUNS,
    );
  });

  it('a ragged row among valid rows with multi-line cells is reported at its own line; every other row is kept', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(csvCell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 10 }),
        fc.nat(),
        fc.constantFrom(1, 2, 4, 5),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (rows, where, width, cuts) => {
          const at = where % (rows.length + 1);
          const header = stringify([['a', 'b', 'c']]);
          const encoded = rows.map((r) => stringify([r]));
          const ragged = Array.from({ length: width }, (_, i) => `x${i}`).join(',') + '\n';
          const before = header + encoded.slice(0, at).join('');
          const line = before.split('\n').length;
          const text = before + ragged + encoded.slice(at).join('');
          const bad: BadLine[] = [];
          const back = await collect(importCsv(chunked(Buffer.from(text, 'utf8'), cuts), { onBad: (b) => bad.push(b) }));
          expect(bad.map((b) => [b.line, b.error])).toEqual([[line, `ragged row: expected 3 fields, got ${width}`]]);
          expect(back).toEqual(rows.map(([a, b, c]) => ({ a, b, c })));
        },
      ),
      RUNS,
    );
  });
});

/** Directory entries and partial events with fields of every type, hostile strings included. */
const entryField = fc.oneof(hostileString, fc.emailAddress(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant('None'), jsonValue);
const hostileEntry = fc.record(
  {
    email: entryField,
    name: fc.oneof(entryField, fc.record({ first_name: entryField, last_name: entryField })),
    center_id: entryField,
    adcid: entryField,
    registry_id: entryField,
    auth_email: entryField,
    authorizations: fc.oneof(entryField, fc.array(fc.oneof(fc.record({ study_id: entryField, activities: fc.array(entryField, { maxLength: 3 }) }), hostileString), { maxLength: 3 })),
    active: entryField,
    extra: jsonValue,
  },
  { requiredKeys: [] },
) as fc.Arbitrary<JsonObject>;
const hostileEvent = fc.record(
  {
    event_type: fc.oneof(fc.constantFrom('error', 'success'), entryField),
    category: fc.oneof(fc.constantFrom('Unclaimed Records', 'Bad ORCID Claims', 'Flywheel Error', 'User Successfully Created'), entryField),
    message: entryField,
    action_needed: entryField,
    timestamp: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), entryField),
    user_context: fc.oneof(hostileEntry, entryField),
    details: jsonValue,
    source: jsonValue,
    event_id: entryField,
  },
  { requiredKeys: ['event_type'] },
) as fc.Arbitrary<JsonObject>;

const USER_KEYS = ['email', 'name', 'center_id', 'registry_id', 'auth_email'];

function checkEvent(ev: JsonObject, file: string, line: number): void {
  expect(['error', 'success']).toContain(ev.event_type);
  expect(typeof ev.category).toBe('string');
  expect(typeof ev.message).toBe('string');
  expect(typeof ev.event_id).toBe('string');
  expect(Number.isNaN(Date.parse(ev.timestamp as string))).toBe(false);
  const u = ev.user_context as JsonObject;
  expect(Object.keys(u).sort()).toEqual([...USER_KEYS].sort());
  for (const k of ['email', 'registry_id', 'auth_email']) expect(u[k] === null || typeof u[k] === 'string').toBe(true);
  expect(typeof u.name).toBe('string');
  expect(u.center_id === null || Number.isInteger(u.center_id)).toBe(true);
  for (const k of USER_KEYS) expect(u[k]).not.toBe('None');
  expect(ev.source).toMatchObject({ file, line });
  // Writable as one NDJSON line that parses back to the same event.
  const text = JSON.stringify(ev);
  expect(text).not.toMatch(/\n/);
  expect(JSON.stringify(JSON.parse(text))).toBe(text);
}

describe('fuzz: the cores of process, analyze, export-csv and notify', () => {
  it('process: every hostile entry or partial event is accounted for (events or one invalid report), each event well formed and traced to its line', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(hostileEntry, hostileEvent), { maxLength: 12 }), (records) => {
        const invalid: number[] = [];
        const stage = createProcessStage({ job: 'fuzz', now: '2026-11-21T10:00:00.000Z', onInvalid: (item) => invalid.push(item.line) });
        const byLine = new Map<number, JsonObject[]>();
        records.forEach((value, k) => {
          const line = k + 1;
          stage.push({ value, file: 'in.ndjson', line }, (ev) => {
            checkEvent(ev, 'in.ndjson', line);
            byLine.set(line, [...(byLine.get(line) ?? []), ev]);
          });
        });
        records.forEach((_, k) => {
          const evs = byLine.get(k + 1) ?? [];
          if (invalid.includes(k + 1)) expect(evs).toEqual([]);
          else expect(evs.length).toBeGreaterThan(0);
          // An entry yields its errors, or exactly one success; a partial event yields one event.
          if (!looksLikeEvent(records[k]!)) {
            if (!evs.some((e) => e.event_type === 'error')) expect(evs.map((e) => e.event_type)).toEqual(['success']);
          } else expect(evs.length).toBeLessThanOrEqual(1);
        });
      }),
      RUNS,
    );
  });

  it('process --from log: hostile log lines never throw; events carry their line and a valid time', async () => {
    const prefix = fc.constantFrom('', '2026-11-21 10:15:30,208 ERROR [users.user_processes] ', 'ERROR:user_app.run:', '2026-11-21 10:15:30,101 - user_app.run - CRITICAL - ', '9999-99-99 99:99:99,999 ERROR ');
    const body = fc.oneof(hostileString, fc.constantFrom('User x@y.org must have authentication email', 'Unable to add user a@b.org with ID R-1: 409 Conflict', 'Active user has incomplete claim: , ', 'Failed to find a claimed user with Registry ID  and email '), fc.tuple(fc.constantFrom('User ', 'Unable to add user '), hostileString).map(([a, b]) => a + b));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(prefix, body).map(([p, b]) => (p + b).replace(/\n/g, ' ')), { maxLength: 15 }), async (lines) => {
        const events = await collect(processLogLines(lines, { job: 'fuzz', now: '2026-11-21T10:00:00.000Z' }, 'job.log'));
        for (const ev of events) {
          const line = (ev.source as JsonObject).line as number;
          expect(line).toBeGreaterThanOrEqual(1);
          expect(line).toBeLessThanOrEqual(lines.length);
          checkEvent(ev, 'job.log', line);
        }
        const lineOrder = events.map((e) => (e.source as JsonObject).line as number);
        expect(lineOrder).toEqual([...lineOrder].sort((a, b) => a - b));
      }),
      RUNS,
    );
  });

  it('analyze: the summary of hostile events adds up (total = errors + successes = sum by category; errors = sum of errors by category)', () => {
    fc.assert(
      fc.property(fc.array(hostileEvent, { maxLength: 20 }), (events) => {
        const s = summarizeEvents(events, { now: '2026-11-21T10:00:00.000Z' });
        const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
        expect(s.total_events).toBe(events.length);
        expect(s.error_count).toBe(events.filter((e) => e.event_type === 'error').length);
        expect(s.error_count + s.success_count).toBe(s.total_events);
        expect(sum(s.events_by_category)).toBe(s.total_events);
        expect(sum(s.errors_by_category)).toBe(s.error_count);
        expect(s.affected_user_count).toBe(s.affected_users.length + s.affected_users_omitted);
        expect(s.affected_user_count).toBeLessThanOrEqual(s.error_count);
        expect(s.summaries.length + s.summaries_omitted).toBe(s.error_count);
        expect(JSON.parse(JSON.stringify(s))).toEqual(s);
      }),
      RUNS,
    );
  });

  it('export-csv: hostile records give CSV that csv-parse reads back with one row per record, equal widths, no live formula', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(hostileEvent, { maxLength: 10 }), fc.array(jsonObject, { maxLength: 10 })), async (records) => {
        const data = records.filter((r) => !['summary', 'export', 'notification'].includes(r.kind as string));
        const csv = await toCsv(data);
        const rows = parseCsv(csv, { relax_column_count: false, bom: false }) as string[][];
        // A header, then one row per record (a record with no columns at all yields no line).
        const header = rows[0] ?? [];
        const body = rows.slice(1);
        if (header.length) expect(body.length).toBe(data.length);
        for (const row of body) {
          expect(row.length).toBe(header.length);
          for (const cell of row) if (/^[=+\-@\t\r]/.test(cell)) expect(Number.isFinite(Number(cell))).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('notify: the message rendered from hostile events has no CR/LF in subject or headers, and the MIME parses back to the same subject', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileEvent, { minLength: 1, maxLength: 8 }),
        fc.record({ job: hostileString, location: hostileString, instructions: hostileString, subject: fc.oneof(fc.constant('[{job}] {error_count} errors'), hostileString.map((s) => `{job} ${s} {group}`)) }),
        async (events, o) => {
          const summary = summarizeEvents(events, { job: o.job, now: '2026-11-21T10:00:00.000Z' }) as unknown as JsonObject;
          const msg = renderMessage(summary, { subject: o.subject, location: o.location, instructions: o.instructions, job: o.job });
          expect(msg.subject).not.toMatch(/[\r\n\u0000]/);
          for (const [name, value] of Object.entries(msg.headers)) {
            expect(name).toMatch(/^[A-Za-z-]+$/);
            expect(value).not.toMatch(/[\r\n\u0000]/);
          }
          expect(msg.text).not.toMatch(/\r/);
          expect(msg.errorCount).toBe(events.filter((e) => e.event_type === 'error').length);
          const mime = await composeMime({ from: 'notify@example.org', to: ['support@example.org'], subject: msg.subject, text: msg.text, headers: msg.headers, messageId: '<fuzz@example.org>', attachments: [], summary, job: msg.job, errorCount: msg.errorCount, fingerprint: 'x' });
          const head = mime.toString('latin1').split('\r\n\r\n')[0]!;
          // Every header line is a field or a folded continuation; no bare CR or LF.
          for (const l of head.split('\r\n')) expect(l).toMatch(/^([A-Za-z-]+: |[ \t])/);
          expect(head).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
          const parsed = await simpleParser(mime);
          expect(parsed.subject ?? '').toBe(msg.subject);
          expect(parsed.headers.get('x-batch-error-count')).toBe(String(msg.errorCount));
        },
      ),
      { numRuns: 100 },
    );
  });
});
