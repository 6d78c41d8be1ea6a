import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyPrivacy, decideColumn, decideField, hasRulesBelow, parsePrivacyPolicy, ruleFor, type PrivacyPolicy } from '../../../src/redact/privacy.js';
import { flattenRecord } from '../../../src/csv/write/flatten.js';
import { ROOT } from '../../helpers/run.js';

const policy = (obj: unknown): PrivacyPolicy => parsePrivacyPolicy(JSON.stringify(obj, null, 2), 'p.json');

describe('privacy policy: reading', () => {
  it('defaults: four levels, unlisted fields internal, drop above the level', () => {
    const p = policy({ fields: { message: 'public' } });
    expect(p.levels).toEqual(['public', 'internal', 'confidential', 'restricted']);
    expect(p.defaultLevel).toBe('internal');
    expect(p.defaultAction).toBe('drop');
    expect(decideField(p, 'public', 'message')).toEqual({ access: 'keep', level: 'public', rule: 'message' });
    expect(decideField(p, 'public', 'new_field')).toEqual({ access: 'drop', level: 'internal', rule: null });
    expect(decideField(p, 'internal', 'new_field').access).toBe('keep');
  });

  it('levels the policy declares, in order, with its own default and action', () => {
    const p = policy({ levels: ['open', 'team', 'hr'], default: 'hr', action: 'redact', fields: { a: 'open', b: { level: 'team', action: 'drop' } } });
    expect(decideField(p, 'open', 'a').access).toBe('keep');
    expect(decideField(p, 'open', 'b').access).toBe('drop');
    expect(decideField(p, 'team', 'c')).toEqual({ access: 'redact', level: 'hr', rule: null });
  });

  const bad: Array<[string, RegExp]> = [
    ['', /p\.json:1:1: expected a value/],
    ['{\n  "fields": {\n    "a": "public",\n  }\n}', /p\.json:3:18: trailing comma/],
    ['{\n  "fields": {"a": "secret"}\n}', /p\.json:2:19: the level of "a" must be one of public, internal, confidential, restricted, got "secret"/],
    ['{"feilds": {}}', /p\.json:1:2: unknown key "feilds"/],
    ['{"fields": {"a": "public", "a": "internal"}}', /p\.json:1:28: field "a" is listed twice/],
    ['{"fields": {"a..b": "public"}}', /p\.json:1:13: field "a\.\.b": an empty segment/],
    ['{"fields": {"a": {"action": "drop"}}}', /p\.json:1:18: field "a" needs a "level"/],
    ['{"fields": {"a": {"level": "public", "action": "hide"}}}', /"action" must be "drop" or "redact", got "hide"/],
    ['{"levels": ["low", "high"], "fields": {}}', /p\.json:1:12: "levels" has no "internal"/],
    ['{"levels": ["a", "a"], "default": "a", "fields": {}}', /level "a" is listed twice/],
    ['{"levels": []}', /"levels" must be a non-empty array/],
    ['{"default": "public"}', /p\.json:1:1: the policy needs "fields"/],
    ['[1]', /must be a JSON object/],
    ['{"fields": {}} // note', /p\.json:1:16: comments are not JSON/],
  ];
  for (const [text, re] of bad) {
    it(`refuses ${JSON.stringify(text).slice(0, 60)} naming FILE:LINE:COL`, () => {
      expect(() => parsePrivacyPolicy(text, 'p.json')).toThrow(re);
      try {
        parsePrivacyPolicy(text, 'p.json');
      } catch (err) {
        expect((err as { exitCode: number }).exitCode).toBe(2);
        expect((err as Error).message).toMatch(/^invalid --privacy-policy: p\.json:\d+:\d+: /);
      }
    });
  }

  it('the example policy in examples/ parses', () => {
    const file = join(ROOT, 'examples/privacy/policy.json');
    const p = parsePrivacyPolicy(readFileSync(file, 'utf8'), file);
    expect(decideField(p, 'public', 'user_context.email').access).not.toBe('keep');
    expect(decideField(p, 'public', 'message').access).toBe('keep');
  });
});

describe('privacy policy: which entry governs a field', () => {
  const p = policy({
    fields: {
      user_context: 'confidential',
      'user_context.name': 'internal',
      'details.*_email': 'restricted',
      'details.**': 'public',
      '**.token': { level: 'restricted', action: 'redact' },
    },
  });
  it('its own entry, else the first matching pattern, else the nearest listed parent', () => {
    expect(ruleFor(p, 'user_context.name')?.pattern).toBe('user_context.name');
    expect(ruleFor(p, 'user_context.email')?.pattern).toBe('user_context');
    expect(ruleFor(p, 'details.auth_email')?.pattern).toBe('details.*_email');
    expect(ruleFor(p, 'details.reason')?.pattern).toBe('details.**');
    expect(ruleFor(p, 'details.deep.x')?.pattern).toBe('details.**');
    expect(ruleFor(p, 'source.token')?.pattern).toBe('**.token');
    expect(ruleFor(p, 'token')?.pattern).toBe('**.token');
    expect(ruleFor(p, 'message')).toBeNull();
  });

  it('a column read from several paths (or renamed) takes the highest level named; never lower', () => {
    const q = policy({ fields: { 'user_context.email': 'confidential', 'user_context.name': 'public', contact: 'restricted' } });
    expect(decideColumn(q, 'public', ['email', 'user_context.email'])).toMatchObject({ access: 'drop', level: 'confidential' });
    // an unlisted alias does not pull a listed public field up to the default
    expect(decideColumn(q, 'public', ['name', 'user_context.name']).access).toBe('keep');
    // a rename to a name the policy lists higher raises it
    expect(decideColumn(q, 'confidential', ['email', 'user_context.email', 'contact'])).toMatchObject({ access: 'drop', level: 'restricted' });
  });

  it('equal levels: drop wins over redact', () => {
    const q = policy({ fields: { a: { level: 'confidential', action: 'redact' }, b: 'confidential' } });
    expect(decideColumn(q, 'public', ['a', 'b']).access).toBe('drop');
  });

  it('applyPrivacy filters leaf by leaf; hasRulesBelow says when an object column needs it', () => {
    expect(hasRulesBelow(p, 'details')).toBe(true);
    expect(hasRulesBelow(p, 'details.reason')).toBe(true); // **.token could be under it
    const q = policy({ fields: { details: 'public', 'details.secret_note': 'confidential', 'details.pin': { level: 'restricted', action: 'redact' } } });
    expect(hasRulesBelow(q, 'details')).toBe(true);
    expect(hasRulesBelow(q, 'message')).toBe(false);
    expect(applyPrivacy(q, 'public', { details: { reason: 'r', secret_note: 's', pin: '1234', empty: '' }, message: 'm' })).toEqual({
      details: { reason: 'r', pin: '[REDACTED]', empty: '' },
    });
    // A field named __proto__ is data (JSON.parse makes it an own field): filtered like any other, never the prototype.
    const rec = JSON.parse('{"details":{"__proto__":"x","pin":"1"},"__proto__":{"a":"b"}}');
    expect(JSON.stringify(applyPrivacy(q, 'public', rec))).toBe('{"details":{"__proto__":"x","pin":"[REDACTED]"},"__proto__":{}}');
  });
});

// Policies over a small alphabet of field names, records over the same names.
const names = fc.constantFrom('a', 'b', 'c', 'email', 'x_email');
const levelName = fc.constantFrom('public', 'internal', 'confidential', 'restricted');
const pattern = fc.oneof(
  fc.array(names, { minLength: 1, maxLength: 3 }).map((s) => s.join('.')),
  fc.tuple(names, names).map(([a, b]) => `${a}.*`),
  names.map((n) => `**.${n}`),
  fc.constant('*_email'),
);
const entry = fc.oneof(levelName, fc.record({ level: levelName, action: fc.constantFrom('drop', 'redact') }));
const policies = fc.record({ default: levelName, action: fc.constantFrom('drop', 'redact'), fields: fc.dictionary(pattern, entry, { maxKeys: 6 }) });
const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null));
const records = fc.letrec((tie) => ({
  rec: fc.dictionary(names, fc.oneof({ depthSize: 'small' }, leaf, tie('rec')), { maxKeys: 4 }),
})).rec as fc.Arbitrary<Record<string, unknown>>;

describe('privacy policy: properties', () => {
  it('applyPrivacy keeps exactly the leaves at or below the level, and redacts the rest that say redact', () => {
    fc.assert(
      fc.property(policies, levelName, records, (pol, level, rec) => {
        const p = policy(pol);
        const before = flattenRecord(rec as never);
        const after = flattenRecord(applyPrivacy(p, level, rec as never));
        for (const [path, value] of Object.entries(before)) {
          const d = decideField(p, level, path);
          if (d.access === 'keep') expect(after[path]).toEqual(value);
          else if (d.access === 'drop') expect(path in after).toBe(false);
          else expect(after[path]).toEqual(value === null || value === '' ? value : '[REDACTED]');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('raising the requested level never hides a field that a lower level showed', () => {
    fc.assert(
      fc.property(policies, fc.array(names, { minLength: 1, maxLength: 3 }), (pol, segs) => {
        const p = policy(pol);
        const path = segs.join('.');
        const shown = p.levels.map((l) => decideField(p, l, path).access === 'keep');
        const first = shown.indexOf(true);
        if (first !== -1) expect(shown.slice(first).every(Boolean)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('privacy policy: the library toCsv', () => {
  it('toCsv({ privacy }) drops and redacts seed 000 columns by the user_context paths', async () => {
    const { toCsv } = await import('../../../src/csv/write/output.js');
    const p = policy({ fields: { message: 'public', category: 'public', 'user_context.auth_email': { level: 'confidential', action: 'redact' } } });
    const ev = { event_id: 'e', timestamp: 't', event_type: 'error', category: 'C', message: 'm', action_needed: null, user_context: { email: 'a@b.org', name: 'A', center_id: 1, registry_id: null, auth_email: 'x@y.org' }, details: {}, source: { job: 'j', file: null, line: null } };
    expect(await toCsv([ev as never], { privacy: { policy: p, level: 'public' } })).toBe('auth_email,category,message\n[REDACTED],C,m\n');
  });
});
