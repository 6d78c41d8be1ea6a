import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { buildRegistryIndex, parsePerson } from '../../../src/rules/registry.js';
import { userManagementPack, classifyFlywheelError } from '../../../src/rules/user-management.js';
import { CATEGORIES, type JsonObject } from '../../../src/event/event.js';
import { ExactNumber } from '../../../src/stream/exact-number.js';
import type { RegistryIndex } from '../../../src/rules/types.js';

const NOW = '2026-11-21T00:00:00.000Z';

function run(entries: JsonObject[], persons: JsonObject[] | null = null, disabled: string[] = []) {
  const registry = persons ? buildRegistryIndex(persons.map(parsePerson)) : undefined;
  const engine = createRuleEngine({ packs: [userManagementPack], registry, job: 'user_management', now: NOW, disabled });
  const out: Array<Record<string, any>> = [];
  entries.forEach((value, i) => engine.entry({ value, file: 'dir.ndjson', line: i + 1 }, (e) => out.push(e)));
  return out;
}

function logs(lines: string[], registry?: RegistryIndex) {
  const engine = createRuleEngine({ packs: [userManagementPack], registry, job: 'user_management', now: NOW });
  const out: Array<Record<string, any>> = [];
  lines.forEach((text, i) => engine.log({ text, file: 'gear.log', line: i + 1 }, (e) => out.push(e)));
  return { out, stats: engine.stats };
}

const cats = (evs: Array<Record<string, any>>) => evs.map((e) => e.category);
const base = { email: 'a@x.edu', name: 'Ann Example', auth_email: 'a@x.edu', center_id: 1, authorizations: [{ study_id: 's', activities: ['view'] }] };
const claimed = { registry_id: 'R1', name: 'Ann Example', emails: [{ mail: 'a@x.edu', verified: true, type: 'official' }], claimed: true, creation_date: '2024-01-01' };

describe('user-management pack: entries (seed 001 order)', () => {
  it('a clean, claimed entry yields exactly one success', () => {
    const evs = run([base], [claimed]);
    expect(cats(evs)).toEqual(['User Successfully Created']);
    expect(evs[0]!.action_needed).toBeNull();
    expect(evs[0]!.user_context.registry_id).toBe('R1');
  });

  it.each([
    ['no auth_email', { ...base, auth_email: null }, [claimed], ['Missing Directory Permissions']],
    ['auth_email differs (1b.1)', { ...base, auth_email: 'b@y.org' }, [], ['Authentication Email Mismatch']],
    ['ORCID bad claim (1b.3)', base, [{ registry_id: 'R9', name: 'ann  EXAMPLE', emails: [], org_identities: [{ name: 'ORCID' }], claimed: true }], ['Bad ORCID Claims']],
    ['bad claim without ORCID', base, [{ registry_id: 'R9', name: 'Ann Example', emails: [], org_identities: ['Login'], claimed: true }], ['Incomplete Claim']],
    ['no creation date', base, [{ ...claimed, creation_date: null }], ['Unclaimed Records']],
    ['claimed without registry ID', base, [{ ...claimed, registry_id: null }], ['Unclaimed Records']],
    ['only unverified emails (1b.2)', base, [{ ...claimed, emails: [{ mail: 'a@x.edu', verified: false }] }], ['Unverified Email']],
    // Found by the entry's registry_id (no email to find it by); the registry spells the name differently, so it is not a bad claim under the entry's name.
    ['claimed person with no email at all (1b.2)', { ...base, registry_id: 'R1' }, [{ ...claimed, name: 'A. Example', emails: [] }], ['Unverified Email']],
    ['no authorizations (1b.4)', { ...base, authorizations: [] }, [claimed], ['Insufficient Permissions']],
    ['no email', { ...base, email: undefined }, [claimed], ['Missing Directory Data']],
    ['bad center_id', { ...base, center_id: 'x1' }, [claimed], ['Missing Directory Data']],
    ['registry_id not in snapshot', { ...base, registry_id: 'R404' }, [claimed], ['Missing Registry Data']],
    ['auth_email matches two claimed persons', base, [claimed, { ...claimed, registry_id: 'R2' }], ['Duplicate/Wrong User Records']],
  ])('%s', (_name, entry, persons, expected) => {
    const evs = run([entry as JsonObject], persons as JsonObject[]);
    expect(cats(evs)).toEqual(expected);
    expect(evs.every((e) => e.event_type === 'error' && typeof e.action_needed === 'string')).toBe(true);
  });

  it('not claimed yet: no error (seed 001 queues it for the claim email), one success with outcome awaiting_claim', () => {
    const evs = run([base as JsonObject], [{ ...claimed, claimed: false }] as JsonObject[]);
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ event_type: 'success', category: 'User Successfully Created', details: { outcome: 'awaiting_claim' } });
  });

  it('a claimed person with no email: Unverified Email naming the record; under the entry\'s own name it is a bad claim first (seed 001 visit order)', () => {
    const [ev] = run([{ ...base, registry_id: 'R1' }], [{ ...claimed, name: 'A. Example', emails: [] }]);
    expect(ev).toMatchObject({
      category: 'Unverified Email',
      message: 'Registry record found but has no email address',
      action_needed: 'check_email_verification_in_comanage',
      details: { rule: 'unverified-email', registry_id: 'R1' },
      user_context: { email: 'a@x.edu', registry_id: 'R1' },
    });
    expect(cats(run([{ ...base, registry_id: 'R1' }], [{ ...claimed, emails: [] }]))).toEqual(['Incomplete Claim']);
  });

  it('uses seed 001 action_needed strings', () => {
    expect(run([{ ...base, auth_email: null }])[0]!.action_needed).toBe('update_directory_auth_email');
    expect(run([base], [{ ...claimed, registry_id: null }])[0]!.action_needed).toBe('check_registry_id_assignment');
    expect(run([base], [{ registry_id: 'R9', name: 'Ann Example', emails: [], org_identities: ['ORCID'], claimed: true }])[0]!.action_needed).toBe(
      'delete_bad_record_and_reclaim_with_institutional_idp',
    );
  });

  it('a second active entry with the same email or registry ID is a duplicate; inactive entries are not', () => {
    const evs = run([base, { ...base, email: 'A@X.EDU', center_id: 2 }, { ...base, active: false }], [claimed]);
    expect(evs.map((e) => [e.source.line, e.category])).toEqual([
      [1, 'User Successfully Created'],
      [2, 'Duplicate/Wrong User Records'],
      [3, 'User Successfully Created'],
    ]);
    expect(evs[1]!.details.duplicate_of).toBe('dir.ndjson:1');
    const byId = run([{ ...base, registry_id: 'R1' }, { ...base, email: 'other@x.edu', auth_email: 'other@x.edu', registry_id: 'R1' }], [claimed]);
    expect(cats(byId)).toContain('Duplicate/Wrong User Records');
  });

  it('an inactive entry is accounted for by one success; a malformed one still gets Missing Directory Data', () => {
    expect(cats(run([{ ...base, active: false, authorizations: [] }]))).toEqual(['User Successfully Created']);
    expect(cats(run([{ ...base, active: 'maybe' }]))).toContain('Missing Directory Data');
  });

  it('--disable-rule skips a rule; an entry with no other problem then succeeds', () => {
    const entry = { ...base, auth_email: 'b@y.org' };
    expect(cats(run([entry], null, ['auth-email-mismatch']))).toEqual(['User Successfully Created']);
  });

  it('without a registry, registry rules do not apply', () => {
    expect(cats(run([{ ...base, registry_id: 'R404' }]))).toEqual(['User Successfully Created']);
  });

  it('fields no rule reads are carried into every event\'s details; a rule\'s detail of the same name wins, the entry\'s is kept under details.entry', () => {
    const big = new ExactNumber('9007199254740993');
    const evs = run([{ ...base, authorizations: [], id: big, tags: ['a'], rule: 'mine', outcome: 'theirs' } as JsonObject]);
    expect(cats(evs)).toEqual(['Insufficient Permissions']);
    expect(evs[0]!.details).toMatchObject({ rule: 'no-authorizations', id: big, tags: ['a'], outcome: 'theirs', entry: { rule: 'mine' } });
    const ok = run([{ ...base, outcome: 'x' } as JsonObject]);
    expect(ok[0]!.details.outcome).toBe('checked');
    expect(ok[0]!.details.entry).toEqual({ outcome: 'x' });
    const proto = run([JSON.parse('{"email":"a@x.edu","auth_email":"a@x.edu","center_id":1,"authorizations":["s"],"__proto__":{"p":1}}') as JsonObject]);
    expect(Object.getPrototypeOf(proto[0]!.details)).toBe(Object.prototype);
    expect(Object.hasOwn(proto[0]!.details, '__proto__')).toBe(true);
    expect(run([base])[0]!.details.entry).toBeUndefined();
  });
});

describe('user-management pack: log lines (seed 001 failure points)', () => {
  const P = '2026-11-21 10:15:30,123 ERROR [user_app.run] ';
  it.each([
    ['User a@x.edu must have authentication email', 'Missing Directory Permissions'],
    ['Active user has incomplete claim: Ann Example, a@x.edu', 'Incomplete Claim'],
    ['person record for a@x.edu has no creation date', 'Unclaimed Records'],
    ['User a@x.edu has no registry ID', 'Unclaimed Records'],
    ['Unable to add user a@x.edu with ID R1: 500 boom', 'Flywheel Error'],
    ['Unable to add user a@x.edu with ID R1: Unauthorized', 'Insufficient Permissions'],
    ['Unable to add user a@x.edu with ID R1: user already exists', 'Duplicate/Wrong User Records'],
    ['Failed to find a claimed user with Registry ID R1 and email a@x.edu', 'Missing Registry Data'],
    ['Failed to add user a@x.edu with ID R1', 'Unclaimed Records'],
    ['Registry record does not have email address: R1', 'Unverified Email'],
    ['Added user a@x.edu to registry using email a@x.edu', 'User Successfully Created'],
    ['Created user a@x.edu with ID R1', 'User Successfully Created'],
  ])('%s → %s', (msg, category) => {
    const { out } = logs([P + msg]);
    expect(out).toHaveLength(1);
    expect(out[0]!.category).toBe(category);
    expect(out[0]!.timestamp).toBe('2026-11-21T10:15:30.123Z');
    expect(out[0]!.event_type).toBe(category === 'User Successfully Created' ? 'success' : 'error');
  });

  it('an unknown ERROR line is Unknown Error with the raw line; other unknown lines are only counted', () => {
    const { out, stats } = logs([`${P}Something odd`, '2026-11-21 10:15:30,123 INFO [x] hello', 'Traceback (most recent call last):', '']);
    expect(out.map((e) => [e.category, e.details.raw])).toEqual([['Unknown Error', `${P}Something odd`]]);
    expect(stats.unmatchedLines).toBe(2);
  });

  it('with a registry, an ORCID bad claim in the log is Bad ORCID Claims, and a bare registry ID gets its user', () => {
    const reg = buildRegistryIndex(
      [
        { registry_id: 'R9', name: 'Ann Example', emails: [], org_identities: ['ORCID'], claimed: true },
        { registry_id: 'R1', name: 'Bo B', emails: [{ mail: 'bo@x.edu', verified: false }], claimed: true },
      ].map((p) => parsePerson(p as JsonObject)),
    );
    const { out } = logs(['ERROR:root:Active user has incomplete claim: Ann Example, a@x.edu', 'Registry record does not have email address: R1'], reg);
    expect(out[0]!.category).toBe('Bad ORCID Claims');
    expect(out[1]!.user_context).toMatchObject({ email: 'bo@x.edu', name: 'Bo B', registry_id: 'R1' });
  });

  it('classifies Flywheel errors like analyze_flywheel_user_creation_failure', () => {
    expect(classifyFlywheelError('403 Forbidden').category).toBe('Insufficient Permissions');
    expect(classifyFlywheelError('no permission').action_needed).toBe('check_flywheel_service_account_permissions');
    expect(classifyFlywheelError('Conflict').category).toBe('Duplicate/Wrong User Records');
    expect(classifyFlywheelError('timeout').category).toBe('Flywheel Error');
  });
});

// ---- properties (seed 001 properties 1, 2, 5, 7, 10 and determinism) ----

const local = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/);
const domain = fc.constantFrom('x.edu', 'y.org', 'mail.example.com');
const email = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
const pool = fc.constantFrom('a@x.edu', 'b@x.edu', 'c@y.org', 'A@X.EDU');
const anyEmail = fc.oneof(pool, email);
const nameArb = fc.oneof(
  fc.constantFrom('Ann Example', 'Bo B', 'None', ''),
  fc.record({ first_name: fc.constantFrom('Ann', 'Bo'), last_name: fc.constantFrom('Example', 'B') }),
);
const auths = fc.oneof(fc.constant([]), fc.array(fc.record({ study_id: fc.constantFrom('s1', 's2'), activities: fc.constant(['view']) }), { minLength: 1, maxLength: 2 }));
const entryArb = fc.record(
  {
    email: fc.oneof(anyEmail, fc.constantFrom('not-an-email', null)),
    name: nameArb,
    auth_email: fc.oneof(anyEmail, fc.constant(null)),
    center_id: fc.oneof(fc.integer({ min: 0, max: 999 }), fc.constantFrom('12', 'x', null)),
    registry_id: fc.constantFrom('R1', 'R2', 'R404', null),
    authorizations: auths,
    active: fc.boolean(),
  },
  { requiredKeys: ['email', 'center_id'] },
);
const personArb = fc.record({
  registry_id: fc.constantFrom('R1', 'R2', 'R3', null),
  name: nameArb,
  emails: fc.array(fc.record({ mail: pool, verified: fc.boolean(), type: fc.constantFrom('official', 'organizational', 'other') }), { maxLength: 2 }),
  org_identities: fc.array(fc.constantFrom('ORCID', 'Login'), { maxLength: 2 }),
  claimed: fc.boolean(),
  creation_date: fc.constantFrom('2024-01-01', null),
});
const registryArb = fc.option(fc.array(personArb, { maxLength: 6 }), { nil: null });
const known = new Set(CATEGORIES);

describe('properties', () => {
  it('1: every event has exactly one category from the pack list; every entry yields errors or exactly one success', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 8 }), registryArb, (entries, persons) => {
        const evs = run(entries as JsonObject[], persons as JsonObject[] | null);
        for (const e of evs) {
          expect(typeof e.category).toBe('string');
          expect(known.has(e.category)).toBe(true);
          expect(e.category === 'Unknown Error').toBe(false);
          expect(e.event_type === 'success').toBe(e.category === 'User Successfully Created');
        }
        for (let line = 1; line <= entries.length; line++) {
          const mine = evs.filter((e) => e.source.line === line);
          const ok = mine.filter((e) => e.event_type === 'success');
          expect(mine.length).toBeGreaterThan(0);
          if (ok.length) expect(mine).toHaveLength(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('2: every available user field is carried into user_context', () => {
    fc.assert(
      fc.property(entryArb, registryArb, (entry, persons) => {
        for (const e of run([entry as JsonObject], persons as JsonObject[] | null)) {
          const uc = e.user_context;
          if (typeof entry.email === 'string') expect(uc.email).toBe(entry.email);
          if (entry.auth_email) expect(uc.auth_email).toBe(entry.auth_email);
          if (typeof entry.center_id === 'number') expect(uc.center_id).toBe(entry.center_id);
          if (entry.registry_id) expect(uc.registry_id).toBe(entry.registry_id);
          if (typeof entry.name === 'string' && entry.name && entry.name !== 'None') expect(uc.name).toBe(entry.name);
          if (typeof entry.name === 'object') expect(uc.name).toBe(`${entry.name.first_name} ${entry.name.last_name}`);
          expect(Object.keys(uc).sort()).toEqual(['auth_email', 'center_id', 'email', 'name', 'registry_id']);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('5: each known log pattern maps to its category, with the user fields captured', () => {
    const prefix = fc.constantFrom('', '2026-11-21 10:15:30,123 ERROR [users.user_processes] ', 'ERROR:root:', '2026-11-21 10:15:30,123 - user_app - WARNING - ');
    const rid = fc.stringMatching(/^[A-Z0-9-]{1,10}$/);
    const nm = fc.constantFrom('Ann Example', 'Bo B', "Dee O'Neil");
    // The error wordings docs/rules.md lists for log-add-user-failed (seed 001's analyze_flywheel_user_creation_failure), in mixed case, and other text.
    const wording = fc.constantFrom('', 'permission denied', 'Unauthorized', '403 Forbidden', 'FORBIDDEN', 'already exists', 'Duplicate key', '409 Conflict', 'conflict', '503');
    const err = fc.tuple(wording, fc.stringMatching(/^[a-z ]{0,10}$/)).map(([a, b]) => `${a} ${b}`.trim() || 'x');
    const expectedFor = (e: string) =>
      /already exists|duplicate|conflict/i.test(e) ? 'Duplicate/Wrong User Records' : /permission|unauthorized|forbidden/i.test(e) ? 'Insufficient Permissions' : 'Flywheel Error';
    const cases = fc.oneof(
      fc.tuple(email).map(([m]) => [`User ${m} must have authentication email`, 'Missing Directory Permissions', { email: m }] as const),
      fc.tuple(nm, email).map(([n, m]) => [`Active user has incomplete claim: ${n}, ${m}`, 'Incomplete Claim', { email: m, name: n }] as const),
      fc.tuple(email).map(([m]) => [`person record for ${m} has no creation date`, 'Unclaimed Records', { email: m }] as const),
      fc.tuple(email).map(([m]) => [`User ${m} has no registry ID`, 'Unclaimed Records', { email: m }] as const),
      fc.tuple(email, rid, err).map(([m, r, e]) => [`Unable to add user ${m} with ID ${r}: ${e}`, expectedFor(e), { email: m, registry_id: r }] as const),
      fc.tuple(email, rid).map(([m, r]) => [`Failed to find a claimed user with Registry ID ${r} and email ${m}`, 'Missing Registry Data', { email: m, registry_id: r }] as const),
      fc.tuple(email, rid).map(([m, r]) => [`Failed to add user ${m} with ID ${r}`, 'Unclaimed Records', { email: m, registry_id: r }] as const),
      fc.tuple(rid).map(([r]) => [`Registry record does not have email address: ${r}`, 'Unverified Email', { registry_id: r }] as const),
      fc.tuple(email, email).map(([m, a]) => [`Added user ${m} to registry using email ${a}`, 'User Successfully Created', { email: m, auth_email: a }] as const),
      fc.tuple(email, rid).map(([m, r]) => [`Created user ${m} with ID ${r}`, 'User Successfully Created', { email: m, registry_id: r }] as const),
      fc.tuple(email).map(([m]) => [`Created user ${m}`, 'User Successfully Created', { email: m }] as const),
      fc.tuple(email, rid).map(([m, r]) => [`Added user ${m} with ID ${r}`, 'User Successfully Created', { email: m, registry_id: r }] as const),
    );
    fc.assert(
      fc.property(prefix, cases, (p, [msg, category, user]) => {
        const { out } = logs([p + msg]);
        expect(out).toHaveLength(1);
        expect(out[0]!.category).toBe(category);
        expect(out[0]!.event_type).toBe(category === 'User Successfully Created' ? 'success' : 'error');
        expect(out[0]!.user_context).toMatchObject(user);
      }),
      { numRuns: 400 },
    );
  });

  it('7: a differing auth email is always detected (active entries; inactive ones are not checked, as in seed 001)', () => {
    fc.assert(
      fc.property(entryArb, email, registryArb, (entry, auth, persons) => {
        fc.pre(typeof entry.email === 'string' && entry.email.includes('@') && auth.toLowerCase() !== entry.email.toLowerCase());
        expect(cats(run([{ ...entry, active: true, auth_email: auth } as JsonObject], persons as JsonObject[] | null))).toContain('Authentication Email Mismatch');
      }),
      { numRuns: 200 },
    );
  });

  it('10: an active entry without authorizations always yields Insufficient Permissions', () => {
    fc.assert(
      fc.property(entryArb, fc.constantFrom([], undefined, null), registryArb, (entry, none, persons) => {
        const e: Record<string, unknown> = { ...entry, active: true };
        if (none === undefined) delete e.authorizations;
        else e.authorizations = none;
        expect(cats(run([e as JsonObject], persons as JsonObject[] | null))).toContain('Insufficient Permissions');
      }),
      { numRuns: 200 },
    );
  });

  it('same input ⇒ same events (ids included)', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 6 }), registryArb, (entries, persons) => {
        const a = run(entries as JsonObject[], persons as JsonObject[] | null);
        const b = run(entries as JsonObject[], persons as JsonObject[] | null);
        expect(b).toEqual(a);
        expect(new Set(a.map((e) => e.event_id)).size).toBe(a.length);
      }),
      { numRuns: 150 },
    );
  });
});
