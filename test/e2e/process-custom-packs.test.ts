// process --rules with the worked custom packs of examples/rules: the TypeScript pack, and
// the log rules of the JavaScript and JSON packs, run through the real binary.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, binPath, nodeFlags, run, tempDir } from '../helpers/run.js';

const pack = (f: string) => join(ROOT, 'examples/rules', f);
const DIRECTORY = pack('directory-site.ndjson');
const NOW = '2026-11-21T00:00:00.000Z';

describe('process --rules with a TypeScript pack', () => {
  it('site-policy.ts gives exactly the events of its JavaScript twin site-policy.mjs', async () => {
    const args = (p: string) => ['--now', NOW, '--rules', 'user-management', '--rules', pack(p), DIRECTORY];
    const [ts, js] = await Promise.all([run('process', args('site-policy.ts')), run('process', args('site-policy.mjs'))]);
    expect(ts.stderr).toBe('');
    expect(ts.exitCode).toBe(0);
    expect(ts.records.map((e) => [e.user_context.email, e.category, e.details.rule])).toEqual([
      ['lou.legacy@uni.example.edu', 'Authentication Email Mismatch', 'auth-email-mismatch'],
      ['lou.legacy@uni.example.edu', 'Authentication Email Mismatch', 'retired-mail-domain'],
      ['lou.legacy@uni.example.edu', 'Expired Training', 'training-expired'],
      ['amy.fine@uni.example.edu', 'User Successfully Created', 'success'],
    ]);
    expect(ts.records[2]!.action_needed).toBe('ask_user_to_renew_training');
    expect(ts.stdout).toBe(js.stdout);
  });

  it('site-policy.ts type-checks against the exported RulePack interface (tsx strips types without checking them)', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck'];
    const r = await execa(process.execPath, [tsc, ...flags, pack('site-policy.ts')], { cwd: ROOT, reject: false, stdin: 'ignore' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('--list-rules shows the TypeScript pack\'s rules', async () => {
    const r = await run('process', ['--rules', pack('site-policy.ts'), '--list-rules']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('site-policy\tquota-exceeded\tlog\tFlywheel Error\t');
  });

  it('loads .mts, and a .ts outside a "type": "module" package (CommonJS exports)', async () => {
    const dir = tempDir();
    const body = (name: string) => `import type { RulePack } from 'batch-events';
const pack: RulePack = {
  name: '${name}',
  description: 'typed',
  rules: [{ on: 'entry', id: '${name}-rule', category: 'Missing Directory Data', description: 'center 7 is closed',
    check: (e) => e.center_id === 7 && { message: 'center closed' } }],
};
export default pack;
`;
    writeFileSync(join(dir, 'closed.mts'), body('closed-mts'));
    writeFileSync(join(dir, 'closed.ts'), body('closed-ts'));
    const input = JSON.stringify({ email: 'a@x.edu', auth_email: 'a@x.edu', center_id: 7, authorizations: [{ study_id: 's' }] }) + '\n';
    for (const [file, rule] of [['closed.mts', 'closed-mts-rule'], ['closed.ts', 'closed-ts-rule']]) {
      const r = await run('process', ['--rules', join(dir, file!)], { input });
      expect(r.stderr).toBe('');
      expect(r.records.map((e) => [e.category, e.message, e.details.rule])).toEqual([['Missing Directory Data', 'center closed', rule]]);
    }
  });

  it('a TypeScript pack that does not compile is a usage error naming the file', async () => {
    const dir = tempDir();
    const file = join(dir, 'broken.ts');
    writeFileSync(file, 'export default { name: "broken", rules: [ };\n');
    const r = await run('process', ['--rules', file], { input: '' });
    expect(r.exitCode).toBe(2);
    expect(r.records).toEqual([]);
    // One line, with esbuild's position of the mistake.
    expect(r.stderr).toBe(`process: invalid --rules: ${file} could not be loaded (Transform failed with 1 error: ${file}:1:42: ERROR: Unexpected "}")\n`);
  });

  it('tsx is loaded for a TypeScript pack only, not for a JavaScript or JSON pack', async () => {
    const trace = (rules: string) =>
      execa(process.execPath, [...nodeFlags('process'), '--import', join(ROOT, 'test/fixtures/trace-imports.mjs'), binPath('process'), '--rules', pack(rules), DIRECTORY], {
        reject: false,
        stdin: 'ignore',
      });
    const [js, json, ts] = await Promise.all([trace('site-policy.mjs'), trace('legacy-checks.json'), trace('site-policy.ts')]);
    for (const r of [js, json, ts]) {
      expect(r.exitCode).toBe(0);
      // The launcher runs the bundle (dist/bin/process.js, npm run build), as the global setup builds it.
      expect(r.stderr).toMatch(/^import: .*\/dist\/bin\/process\.js$/m);
    }
    expect(js.stderr).not.toContain('/node_modules/tsx/');
    expect(json.stderr).not.toContain('/node_modules/tsx/');
    expect(ts.stderr).toContain('/node_modules/tsx/');
  });
});

describe('process --from log with the log rules of the custom packs', () => {
  const lines = [
    '2026-11-21 10:15:30,123 ERROR [storage] Quota exceeded for quinn.quota@uni.example.edu',
    '2026-11-21 10:16:00,500 - sync - WARNING - TIMED OUT syncing sid.sync@uni.example.edu after 30s',
    'ERROR:root:Timed out syncing tom.timeout@uni.example.edu',
    'Quota exceeded for bare@uni.example.edu',
  ].join('\n') + '\n';

  it.each([
    ['site-policy.mjs'],
    ['site-policy.ts'],
  ])('quota-exceeded (%s) and sync-timeout (legacy-checks.json): category, user fields, message', async (sitePack) => {
    const r = await run('process', ['--from', 'log', '--job', 'sync', '--now', NOW, '--rules', 'user-management', '--rules', pack(sitePack), '--rules', pack('legacy-checks.json')], { input: lines });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(
      r.records.map((e) => ({
        rule: e.details.rule,
        category: e.category,
        type: e.event_type,
        email: e.user_context.email,
        message: e.message,
        action: e.action_needed,
        at: e.timestamp,
        line: e.source.line,
      })),
    ).toEqual([
      { rule: 'quota-exceeded', category: 'Flywheel Error', type: 'error', email: 'quinn.quota@uni.example.edu', message: 'Flywheel storage quota exceeded', action: 'raise_flywheel_quota', at: '2026-11-21T10:15:30.123Z', line: 1 },
      // The JSON pack's pattern has flag "i", and is not anchored at the end.
      { rule: 'sync-timeout', category: 'Flywheel Error', type: 'error', email: 'sid.sync@uni.example.edu', message: 'Flywheel sync timed out for sid.sync@uni.example.edu', action: 'check_flywheel_logs_and_service_status', at: '2026-11-21T10:16:00.500Z', line: 2 },
      { rule: 'sync-timeout', category: 'Flywheel Error', type: 'error', email: 'tom.timeout@uni.example.edu', message: 'Flywheel sync timed out for tom.timeout@uni.example.edu', action: 'check_flywheel_logs_and_service_status', at: NOW, line: 3 },
      { rule: 'quota-exceeded', category: 'Flywheel Error', type: 'error', email: 'bare@uni.example.edu', message: 'Flywheel storage quota exceeded', action: 'raise_flywheel_quota', at: NOW, line: 4 },
    ]);
    for (const e of r.records) expect(Object.keys(e.user_context).sort()).toEqual(['auth_email', 'center_id', 'email', 'name', 'registry_id']);
    expect(r.records[1]!.details.log_message).toBe('TIMED OUT syncing sid.sync@uni.example.edu after 30s');
  });

  it('without the custom packs the same ERROR lines are Unknown Error', async () => {
    const r = await run('process', ['--from', 'log'], { input: lines });
    expect(r.records.map((e) => [e.source.line, e.category])).toEqual([
      [1, 'Unknown Error'],
      [3, 'Unknown Error'],
    ]);
  });
});
