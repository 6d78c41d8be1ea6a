import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ndjson, run, tempDir } from '../helpers/run.js';
import { CATEGORIES } from '../../src/event/event.js';

const data = (f: string) => join(ROOT, 'examples/data', f);
const pairs = (recs: Array<Record<string, any>>) => recs.map((e) => [e.user_context.email, e.category]);

// The (email, category) pairs the example data must yield: the lead's pipeline relies on them.
const DIRECTORY_PAIRS = [
  ['ada.lovelace@uni.example.edu', 'User Successfully Created'],
  ['alan.turing@uni.example.edu', 'User Successfully Created'],
  ['nina.noauth@uni.example.edu', 'Missing Directory Permissions'],
  ['marc.mismatch@uni.example.edu', 'Authentication Email Mismatch'],
  ['olive.orcid@uni.example.edu', 'Bad ORCID Claims'],
  ['ian.incomplete@uni.example.edu', 'Incomplete Claim'],
  ['nora.nodate@uni.example.edu', 'Unclaimed Records'],
  // Seed 001: a record not claimed yet is queued for the claim email, no error (outcome awaiting_claim).
  ['uma.unclaimed@uni.example.edu', 'User Successfully Created'],
  ['rex.noid@uni.example.edu', 'Unclaimed Records'],
  ['vera.unverified@uni.example.edu', 'Unverified Email'],
  ['paul.noauth@uni.example.edu', 'Insufficient Permissions'],
  [null, 'Missing Directory Data'],
  ['bea.badcenter@uni.example.edu', 'Missing Directory Data'],
  ['gus.gone@uni.example.edu', 'Missing Registry Data'],
  ['Ada.Lovelace@uni.example.edu', 'Duplicate/Wrong User Records'],
  ['tess.twin@uni.example.edu', 'Duplicate/Wrong User Records'],
  ['ivan.inactive@uni.example.edu', 'User Successfully Created'],
  ['grace.hopper@uni.example.edu', 'User Successfully Created'],
];
const LOG_PAIRS = [
  ['nina.noauth@uni.example.edu', 'Missing Directory Permissions'],
  ['lena.logorcid@uni.example.edu', 'Incomplete Claim'],
  ['ian.incomplete@uni.example.edu', 'Incomplete Claim'],
  ['alan.turing@uni.example.edu', 'User Successfully Created'],
  ['nora.nodate@uni.example.edu', 'Unclaimed Records'],
  ['rex.noid@uni.example.edu', 'Unclaimed Records'],
  ['fred.flaky@uni.example.edu', 'Flywheel Error'],
  ['pat.perm@uni.example.edu', 'Insufficient Permissions'],
  ['dan.dupe@uni.example.edu', 'Duplicate/Wrong User Records'],
  ['gus.gone@uni.example.edu', 'Missing Registry Data'],
  ['fay.flywheel@uni.example.edu', 'Unclaimed Records'],
  [null, 'Unverified Email'],
  ['grace.hopper@uni.example.edu', 'User Successfully Created'],
  [null, 'Unknown Error'],
];
const CSV_PAIRS = [
  ['katherine.johnson@uni.example.edu', 'User Successfully Created'],
  ['dorothy.vaughan@uni.example.edu', 'Missing Directory Permissions'],
  ['mary.jackson@uni.example.edu', 'Authentication Email Mismatch'],
  ['hedy.lamarr@uni.example.edu', 'Insufficient Permissions'],
  ['Lamarr, Hedy (old)', 'Missing Directory Data'],
  ['radia.perlman@uni.example.edu', 'User Successfully Created'],
];
const EVENTS_PAIRS = [
  ['sam.split@uni.example.edu', 'Authentication Email Mismatch'],
  ['fred.flaky@uni.example.edu', 'Flywheel Error'],
  ['carl.nocenter@uni.example.edu', 'Missing Directory Data'],
  ['linus.ok@uni.example.edu', 'User Successfully Created'],
  ['wes.wait@uni.example.edu', 'Unverified Email'],
];

describe('process: the example data (pinned)', () => {
  it('directory.ndjson joined with registry.ndjson', async () => {
    const r = await run('process', ['--job', 'user_management', '--registry', data('registry.ndjson'), data('directory.ndjson')]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(pairs(r.records)).toEqual(DIRECTORY_PAIRS);
    expect(r.records.every((e) => e.source.job === 'user_management' && e.source.file.endsWith('directory.ndjson'))).toBe(true);
  });

  it('gear.log', async () => {
    const r = await run('process', ['--from', 'log', '--job', 'user_management', data('gear.log')]);
    expect(r.exitCode).toBe(0);
    expect(pairs(r.records)).toEqual(LOG_PAIRS);
    expect(r.stderr).toMatch(/matched no rule/);
    expect(r.records[0]!.timestamp).toBe('2026-11-21T10:15:30.208Z');
  });

  it('directory.csv and events.ndjson', async () => {
    const csv = await run('process', ['--from', 'csv', '--registry', data('registry.ndjson'), data('directory.csv')]);
    expect(csv.exitCode).toBe(0);
    expect(pairs(csv.records)).toEqual(CSV_PAIRS);
    const ev = await run('process', [data('events.ndjson')]);
    expect(ev.exitCode).toBe(0);
    expect(pairs(ev.records)).toEqual(EVENTS_PAIRS);
  });

  it('together the examples cover every category of seed 001, the success included', () => {
    const seen = new Set([...DIRECTORY_PAIRS, ...LOG_PAIRS, ...CSV_PAIRS, ...EVENTS_PAIRS].map((p) => p[1]));
    for (const c of CATEGORIES) if (c !== 'Unknown Error') expect(seen, c).toContain(c);
  });

  it('running twice gives the same event ids (export-csv --dedupe resumes)', async () => {
    const args = ['--job', 'j', '--registry', data('registry.ndjson'), data('directory.ndjson')];
    const [a, b] = await Promise.all([run('process', args), run('process', args)]);
    expect(a.records.map((e) => e.event_id)).toEqual(b.records.map((e) => e.event_id));
    expect(new Set(a.records.map((e) => e.event_id)).size).toBe(a.records.length);
  });
});

describe('process: flags', () => {
  it('--list-rules prints id, category and description per rule, without reading input', async () => {
    const r = await run('process', ['--list-rules']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(lines[0]).toEqual(['pack', 'id', 'on', 'category', 'description']);
    expect(lines.find((l) => l[1] === 'auth-email-mismatch')).toEqual(['user-management', 'auth-email-mismatch', 'entry', 'Authentication Email Mismatch', expect.stringMatching(/1b\.1/)]);
  });

  it('--disable-rule turns a rule off; an unknown id is a usage error', async () => {
    const input = ndjson([{ email: 'a@x.edu', auth_email: 'b@y.org', center_id: 1, authorizations: [{ study_id: 's' }] }]);
    const on = await run('process', [], { input });
    expect(on.records.map((e) => e.category)).toEqual(['Authentication Email Mismatch']);
    const off = await run('process', ['--disable-rule', 'auth-email-mismatch'], { input });
    expect(off.records.map((e) => e.category)).toEqual(['User Successfully Created']);
    const bad = await run('process', ['--disable-rule', 'no-such-rule'], { input });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^process: invalid --disable-rule: must be a rule id shown by --list-rules, got "no-such-rule"/);
  });

  it('--rules loads the worked JS pack and JSON pack from examples/rules beside the built-in one', async () => {
    const r = await run('process', ['--rules', 'user-management', '--rules', join(ROOT, 'examples/rules/site-policy.mjs'), '--rules', join(ROOT, 'examples/rules/legacy-checks.json'), join(ROOT, 'examples/rules/directory-site.ndjson')]);
    expect(r.exitCode).toBe(0);
    expect(r.records.map((e) => [e.user_context.email, e.category, e.details.rule])).toEqual([
      ['lou.legacy@uni.example.edu', 'Authentication Email Mismatch', 'auth-email-mismatch'],
      ['lou.legacy@uni.example.edu', 'Authentication Email Mismatch', 'retired-mail-domain'],
      ['lou.legacy@uni.example.edu', 'Expired Training', 'training-expired'],
      ['lou.legacy@uni.example.edu', 'Legacy Account', 'legacy-center'],
      ['amy.fine@uni.example.edu', 'User Successfully Created', 'success'],
    ]);
    expect(r.records[2]!.action_needed).toBe('ask_user_to_renew_training');
  });

  it('a broken or missing pack is a usage error naming the problem', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'bad', rules: [{ id: 'x', on: 'log', category: 'Nope', pattern: 'a' }] }));
    const bad = await run('process', ['--rules', join(dir, 'bad.json')], { input: '' });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/invalid --rules: .*category "Nope"/);
    const missing = await run('process', ['--rules', 'no-such-pack'], { input: '' });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/invalid --rules: must be a built-in pack \(user-management\)/);
  });

  it('--registry as CSV (lists as JSON cells or ;-separated)', async () => {
    const dir = tempDir();
    const reg = join(dir, 'registry.csv');
    writeFileSync(reg, 'registry_id,name,emails,verified,org_identities,claimed,creation_date\nR1,Ann Example,a@x.edu;ann@x.edu,false,,true,2024-01-01\nR2,Bo B,"[{""mail"":""b@x.edu"",""verified"":true}]",,,true,2024-01-01\n');
    const input = ndjson([
      { email: 'a@x.edu', auth_email: 'ann@x.edu', center_id: 1, authorizations: [{ study_id: 's' }] },
      { email: 'b@x.edu', auth_email: 'b@x.edu', center_id: 1, authorizations: [{ study_id: 's' }] },
    ]);
    const r = await run('process', ['--registry', reg], { input });
    expect(r.exitCode).toBe(0);
    expect(r.records.map((e) => e.category)).toEqual(['Authentication Email Mismatch', 'Unverified Email', 'User Successfully Created']);
  });

  it('a missing registry file is an I/O error (exit 1, one line)', async () => {
    const r = await run('process', ['--registry', '/nonexistent/registry.ndjson'], { input: '' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^process: \/nonexistent\/registry.ndjson: no such file or directory/);
  });

  it('the shared filters apply to the events produced', async () => {
    const r = await run('process', ['--type', 'error', '--where', 'user_context.email~^nora', '--registry', data('registry.ndjson'), data('directory.ndjson')]);
    expect(pairs(r.records)).toEqual([['nora.nodate@uni.example.edu', 'Unclaimed Records']]);
  });
});

describe('process: malformed input never stops the run', () => {
  it('a malformed CSV row is a FILE:LINE bad line; the other rows are processed', async () => {
    const dir = tempDir();
    const f = join(dir, 'dir.csv');
    writeFileSync(f, 'email,auth_email,center_id,authorizations\na@x.edu,a@x.edu,1,s1\nb@x.edu,b@x.edu,1,s1,EXTRA\n"c@x.edu",c@x.edu,1,"s1:view|submit"\n');
    const r = await run('process', ['--from', 'csv', '--rejects', join(dir, 'rej.ndjson'), f]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${f}:3: invalid CSV`);
    expect(r.records.map((e) => [e.user_context.email, e.source.line])).toEqual([
      ['a@x.edu', 2],
      ['c@x.edu', 4],
    ]);
    const ok = await run('process', ['--from', 'csv', '--max-bad', '1', f]);
    expect(ok.exitCode).toBe(0);
  });

  it('a CSV row spanning lines is reported at its first line', async () => {
    const r = await run('process', ['--from', 'csv'], { input: 'email,name,auth_email,center_id,authorizations\na@x.edu,"Ann\nExample",a@x.edu,1,s\nb@x.edu,Bo,b@x.edu,1,s\n' });
    expect(r.records.map((e) => [e.user_context.name, e.source.line])).toEqual([
      ['Ann\nExample', 2],
      ['Bo', 4],
    ]);
  });

  it('an entry with bad fields becomes Missing Directory Data; bad JSON is a bad line; the rest go on', async () => {
    const input = `{"email":"a@x.edu","auth_email":"a@x.edu","center_id":"x","authorizations":[{"study_id":"s"}]}\n{oops\n{"email":"b@x.edu","auth_email":"b@x.edu","center_id":2,"authorizations":[{"study_id":"s"}]}\n`;
    const r = await run('process', [], { input });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^stdin:2: invalid JSON/m);
    expect(r.records.map((e) => [e.source.line, e.category])).toEqual([
      [1, 'Missing Directory Data'],
      [3, 'User Successfully Created'],
    ]);
  });

  it('records of another kind pass through unchanged', async () => {
    const rec = { kind: 'summary', total: 3 };
    const r = await run('process', [], { input: ndjson([rec]) });
    expect(r.records).toEqual([rec]);
  });
});
