import { describe, expect, it } from 'vitest';
import { compileJsonPack, PackError } from '../../../src/rules/json-pack.js';
import { checkDisabled, loadPacks, listRules } from '../../../src/rules/loader.js';
import { parseLogLine } from '../../../src/rules/log-line.js';
import { parseEntry } from '../../../src/rules/entry.js';
import { ExactNumber } from '../../../src/stream/exact-number.js';

describe('log prefixes', () => {
  it.each([
    ['2026-11-21 10:15:30,123 ERROR [user_app.run] User a@b must have authentication email', 'ERROR', 'user_app.run', '2026-11-21T10:15:30.123Z'],
    ['2026-11-21 10:15:30,123 - user_app.run - WARNING - User a@b must have authentication email', 'WARNING', 'user_app.run', '2026-11-21T10:15:30.123Z'],
    ['ERROR:root:User a@b must have authentication email', 'ERROR', 'root', null],
    ['User a@b must have authentication email', null, null, null],
  ])('%s', (text, level, logger, timestamp) => {
    expect(parseLogLine(text)).toEqual({ text, level, logger, timestamp, message: 'User a@b must have authentication email' });
  });
});

describe('JSON packs and the loader', () => {
  it('rejects a pack with a bad regex or a bad rule, naming the rule', () => {
    expect(() => compileJsonPack({ name: 'p', rules: [{ id: 'r', on: 'log', category: 'Flywheel Error', pattern: '(' }] })).toThrow(/rule r: "pattern" does not compile/);
    expect(() => compileJsonPack({ name: 'p', rules: [{ id: 'r', on: 'entry', category: 'Flywheel Error' }] })).toThrow(PackError);
    expect(() => compileJsonPack({ name: 'p', rules: [{ id: 'r', on: 'other', category: 'Flywheel Error' }] })).toThrow(/"on" must be "entry" or "log"/);
  });

  it('an entry rule checks --where expressions over the raw entry and fills {field} templates', () => {
    const pack = compileJsonPack({ name: 'p', rules: [{ id: 'r', on: 'entry', category: 'Legacy', when: ['center_id=99', 'email~@old\\.'], message: '{email} at {center_id}' }], categories: { Legacy: 'migrate' } });
    const rule = pack.rules[0]!;
    if (rule.on !== 'entry') throw new Error('entry rule expected');
    const hit = parseEntry({ email: 'a@old.edu', center_id: 99 });
    const miss = parseEntry({ email: 'a@new.edu', center_id: 99 });
    expect(rule.check(hit, {} as never)).toMatchObject({ message: 'a@old.edu at 99' });
    expect(rule.check(miss, {} as never)).toBeNull();
  });

  it('numbers kept exact (1.0, 1e3) read as their text in templates and in the problems an entry has', () => {
    // An ExactNumber's JSON.stringify is a private marker for restoreNumbers: it must never reach a message.
    const pack = compileJsonPack({ name: 'p', rules: [{ id: 'r', on: 'entry', category: 'Legacy', when: ['email~@old\\.'], message: '{email} has {extra}' }], categories: { Legacy: 'migrate' } });
    const rule = pack.rules[0]!;
    if (rule.on !== 'entry') throw new Error('entry rule expected');
    const entry = parseEntry({ email: 'a@old.edu', center_id: 7, extra: { n: new ExactNumber('1.0') }, active: { on: new ExactNumber('1e3') }, authorizations: [{ study: new ExactNumber('2.50') }] });
    expect(rule.check(entry, {} as never)).toMatchObject({ message: 'a@old.edu has {"n":1.0}' });
    expect(entry.problems).toEqual(['authorization without a study_id: {"study":2.50}', 'active is not a boolean: {"on":1e3}']);
    // A number kept exact is a number like any other: 1.0 is as active as 1, 0.0 as inactive as 0.
    expect(parseEntry({ email: 'b@x.org', center_id: 7, active: new ExactNumber('1.0') }).active).toBe(true);
    expect(parseEntry({ email: 'b@x.org', center_id: 7, active: new ExactNumber('0.0') }).active).toBe(false);
    expect(parseEntry({ email: 'b@x.org', center_id: new ExactNumber('7.50') }).problems).toEqual(['center_id is not an integer: 7.50']);
  });

  it('the default pack loads; --disable-rule ids are checked; --list-rules marks disabled rules', async () => {
    const packs = await loadPacks([]);
    expect(packs.map((p) => p.name)).toEqual(['user-management']);
    expect(checkDisabled(packs, ['auth-email-mismatch,no-authorizations'])).toEqual(['auth-email-mismatch', 'no-authorizations']);
    expect(() => checkDisabled(packs, ['nope'])).toThrow(/invalid --disable-rule/);
    expect(listRules(packs, ['no-authorizations'])).toMatch(/\tno-authorizations \(disabled\)\tentry\tInsufficient Permissions\t/);
    await expect(loadPacks(['user-management', 'user-management'])).rejects.toThrow(/defined by both/);
  });
});
