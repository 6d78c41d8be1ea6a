import { afterEach, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { ENGINE_EVENT, EventText } from '../../../src/event/event-json.js';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { buildRegistryIndex, parsePerson } from '../../../src/rules/registry.js';
import { userManagementPack } from '../../../src/rules/user-management.js';
import { ExactNumber, stringifyExact } from '../../../src/stream/exact-number.js';
import { NdjsonWriter } from '../../../src/stream/ndjson-writer.js';
import type { JsonObject } from '../../../src/event/event.js';
import type { RulePack } from '../../../src/rules/types.js';

// Strings with everything JSON.stringify escapes: quotes, backslashes, controls, lone and paired surrogates.
const nasty = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '\b', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udc00', '\u2028', 'é', '😀') }),
);

const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    nasty,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.constantFrom('9007199254740993', '1.0', '1E3', '-0').map((t) => new ExactNumber(t)),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(nasty, tie('v'), { maxKeys: 4 }),
    fc.dictionary(fc.constantFrom('__proto__', '1', '0', 'toJSON', 'a'), tie('v'), { maxKeys: 4 }),
  ),
})).v;

const entry = fc.record(
  {
    email: fc.oneof(nasty, fc.constantFrom('a@x.edu', 'A@X.edu ', null)),
    name: fc.oneof(nasty, fc.record({ first_name: nasty, last_name: nasty }), fc.constant(null)),
    auth_email: fc.oneof(nasty, fc.constantFrom('a@x.edu', 'b@y.org', null)),
    center_id: fc.oneof(fc.integer(), fc.constant('12'), nasty, fc.constant(new ExactNumber('90071992547409930'))),
    registry_id: fc.oneof(fc.constantFrom('R1', 'R2', 'R404'), nasty),
    authorizations: fc.oneof(fc.constant([{ study_id: 's', activities: ['view'] }]), fc.array(fc.oneof(nasty, value)), nasty),
    active: fc.oneof(fc.boolean(), nasty),
    extra: value,
    '\u2028"odd key': value,
  },
  { requiredKeys: [] },
);

const persons = [
  { registry_id: 'R1', name: 'Ann Example', emails: [{ mail: 'a@x.edu', verified: true, type: 'official' }], claimed: true, creation_date: '2024-01-01' },
  { registry_id: 'R2', name: 'Bo "Quote" Example', emails: [{ mail: 'b@y.org', verified: false }], claimed: true, creation_date: null },
  { registry_id: 'R9', name: 'Ann Example', emails: [], org_identities: [{ name: 'ORCID' }], claimed: true },
].map((p) => parsePerson(p as JsonObject));

/** The texts of events, and whether JSON.stringify was ever handed a whole engine event (the slow way). */
function texts(events: JsonObject[], writer = new EventText()): { texts: string[]; whole: number } {
  const spy = vi.spyOn(JSON, 'stringify');
  try {
    const out = events.map((ev) => writer.text(ev));
    const whole = spy.mock.calls.filter((c) => events.includes(c[0] as JsonObject)).length;
    return { texts: out, whole };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('event-json: the engine events as JSON.stringify writes them', () => {
  it('every event of random entries (registry, extra fields, odd text, odd file and job names) has its exact text, without stringifying it whole', () => {
    const registry = buildRegistryIndex(persons);
    // One writer across runs, as in a process run: its reused pieces must never leak into another event.
    const writer = new EventText();
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), fc.oneof(nasty, fc.constant('dir.ndjson')), fc.oneof(nasty, fc.constant(null)), fc.nat(), (entries, file, job, line0) => {
        const engine = createRuleEngine({ packs: [userManagementPack], registry, job, now: '2026-11-21T00:00:00.000Z' });
        const out: JsonObject[] = [];
        entries.forEach((e, i) => engine.entry({ value: e as JsonObject, file, line: line0 + i }, (ev) => out.push(ev)));
        expect(out.length).toBeGreaterThan(0);
        const got = texts(out, writer);
        expect(got.texts).toEqual(out.map((ev) => stringifyExact(ev)));
        expect(got.whole).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('reused pieces follow every field: one message with other categories, times, types, actions, jobs, files; more messages than are kept', () => {
    const engine = createRuleEngine({ packs: [userManagementPack], job: 'j', now: '2026-11-21T00:00:00.000Z' });
    const base: JsonObject[] = [];
    engine.entry({ value: { email: 'a@x.edu', name: 'A', auth_email: 'a@x.edu', center_id: 1, authorizations: ['s'] }, file: 'f', line: 1 }, (ev) => base.push(ev));
    const pick = <T>(xs: T[]) => fc.nat({ max: xs.length - 1 }).map((i) => xs[i]!);
    const variant = fc.record({
      message: fc.oneof(pick(['m0', 'm1', 'm2']), fc.nat().map((n) => `many-${n}`)),
      category: pick(['User Successfully Created', 'c1', 'Flywheel Error']),
      timestamp: pick(['t0', 't1', '2026-11-21T00:00:00.000Z']),
      action_needed: pick([null, 'a1', 'a2']),
      event_type: pick(['success', 'error']),
      job: pick([null, 'j', 'k']),
      file: pick(['f', 'g']),
      line: fc.nat(),
    });
    const writer = new EventText();
    fc.assert(
      fc.property(fc.array(variant, { minLength: 1, maxLength: 400 }), (vs) => {
        const events = vs.map(({ job, file, line, ...top }) => ({ ...base[0]!, [ENGINE_EVENT]: true, ...top, source: { job, file, line } }) as JsonObject);
        const got = texts(events, writer);
        expect(got.texts).toEqual(events.map((v) => stringifyExact(v)));
        expect(got.whole).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('what it does not expect is left to JSON.stringify whole: no message, details with toJSON, an odd id or line', () => {
    const pack: RulePack = {
      name: 'odd',
      description: 'findings JSON.stringify treats specially',
      rules: [
        { on: 'entry', id: 'no-message', category: 'Flywheel Error', description: '', check: () => ({ message: undefined as unknown as string }) },
        { on: 'entry', id: 'date', category: 'Flywheel Error', description: '', check: () => ({ message: 'd', details: { at: new Date(0) as unknown as string, n: NaN, f: (() => 1) as unknown as string } }) },
      ],
    };
    const engine = createRuleEngine({ packs: [pack, userManagementPack], job: null, now: '2026-11-21T00:00:00.000Z' });
    const out: JsonObject[] = [];
    engine.entry({ value: { email: 'a@x.edu', center_id: 1 }, file: 'd', line: 1 }, (ev) => out.push(ev));
    engine.log({ text: '2026-11-21 10:00:00,123 ERROR mod: User a"b@x.edu must have authentication email', file: 'log', line: 2 }, (ev) => out.push(ev));
    engine.log({ text: 'ERROR something \u0001 odd', file: 'log', line: 3 }, (ev) => out.push(ev));
    const base = out[2]!;
    const odd: JsonObject[] = [
      { ...base, [ENGINE_EVENT]: true, details: { toJSON: () => undefined } as unknown as JsonObject },
      { ...base, [ENGINE_EVENT]: true, details: { toJSON: (k: string) => `key ${k}` } as unknown as JsonObject },
      { ...base, [ENGINE_EVENT]: true, event_id: 'not "an" id' },
      { ...base, [ENGINE_EVENT]: true, source: { job: null, file: 'd', line: 1.5 } },
      { ...base, [ENGINE_EVENT]: true, user_context: undefined as unknown as JsonObject },
      { ...base, [ENGINE_EVENT]: true, action_needed: 3 },
    ];
    const got = texts([...out, ...odd]);
    expect(got.texts).toEqual([...out, ...odd].map((v) => stringifyExact(v)));
    expect(got.texts[0]).not.toContain('"message"');
    // The event without a message and the six odd ones went to JSON.stringify whole; the rest did not.
    expect(got.whole).toBe(1 + odd.length);
  });

  it('records the engine did not build go to JSON.stringify; the mark is no key', () => {
    const rec = { kind: 'run', tool: 'process', n: new ExactNumber('1.0') };
    expect(new EventText().text(rec)).toBe('{"kind":"run","tool":"process","n":1.0}');
    expect(Object.keys({ [ENGINE_EVENT]: true })).toEqual([]);
    expect(JSON.stringify({ [ENGINE_EVENT]: true })).toBe('{}');
  });
});

describe('NdjsonWriter with the event text', () => {
  async function written(records: unknown[], fast: boolean): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => (chunks.push(Buffer.from(chunk)), cb()) });
    const w = new NdjsonWriter(sink);
    if (fast) w.serialize = new EventText().text;
    for (let i = 0; i < records.length; i++) {
      w.write(records[i]);
      if (i % 97 === 0) await w.flush();
    }
    await w.end();
    return Buffer.concat(chunks);
  }

  it('writes the same bytes as JSON.stringify', async () => {
    const engine = createRuleEngine({ packs: [userManagementPack], job: 'j', now: '2026-11-21T00:00:00.000Z' });
    const records: unknown[] = [{ kind: 'run', tool: 'process', status: 'started' }];
    for (let i = 0; i < 3000; i++) {
      const extra = i % 500 === 0 ? { n: new ExactNumber('1.0'), s: 'x\ud800', big: 'é'.repeat(20_000) } : {};
      engine.entry({ value: { email: `u${i}@x.edu`, name: 'Ann Ü', auth_email: `u${i}@x.edu`, center_id: i, authorizations: ['s'], ...extra }, file: 'f', line: i + 1 }, (ev) => records.push(ev));
      if (i % 1000 === 0) records.push({ kind: 'other', i });
    }
    const plain = await written(records, false);
    const fast = await written(records, true);
    expect(fast.equals(plain)).toBe(true);
    expect(plain.toString('utf8').split('\n').length).toBe(records.length + 1);
  });
});
