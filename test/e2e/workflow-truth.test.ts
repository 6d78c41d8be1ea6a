// Issue 12's "What it must show", with the real binaries in real pipelines: the message support
// receives never contradicts the files, a failed or killed stage shows downstream, notify's
// statuses mean what they say, seed 001's rules as written, and the success notification.
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { createServer, type Server } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { ROOT, binPath, ndjson, run, tempDir } from '../helpers/run.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';

const DATA = join(ROOT, 'examples/data');
const sh = (name: string) => `"${process.execPath}" "${binPath(name as 'notify')}"`;
const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

async function mailText(dir: string): Promise<{ subject: string; text: string }> {
  const emls = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  expect(emls).toHaveLength(1);
  const mail = await simpleParser(readFileSync(join(dir, emls[0]!)));
  return { subject: mail.subject ?? '', text: mail.text ?? '' };
}

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('the bundled example: every action of every category, with its count', () => {
  it('the summary and the email list each action with its count, and the counts add up to the category', async () => {
    const out = tempDir('be-truth-');
    const res = await execa('bash', [join(ROOT, 'examples/pipeline.sh')], { env: { OUT: out }, reject: false, stdin: 'ignore' });
    expect(res.exitCode, res.stderr).toBe(0);
    const summary = lines(readFileSync(join(out, 'summary.ndjson'), 'utf8')).find((r) => r.kind === 'summary')!;
    const cats = Object.keys(summary.errors_by_category);
    expect(cats.length).toBeGreaterThan(5);
    for (const c of cats) {
      const actions = summary.actions_by_category[c] as Record<string, number>;
      expect(Object.values(actions).reduce((a, b) => a + b, 0), c).toBe(summary.errors_by_category[c]);
    }
    // Unclaimed Records needs three different actions in this run: all are named.
    expect(Object.keys(summary.actions_by_category['Unclaimed Records']).sort()).toEqual([
      'check_registry_id_assignment',
      'check_registry_record_status',
      'check_user_creation_process_logs',
    ]);
    const { text } = await mailText(join(out, 'outbox'));
    for (const c of cats) {
      const block = [`  ${c}: ${summary.errors_by_category[c]}`, ...Object.entries(summary.actions_by_category[c] as Record<string, number>).map(([a, n]) => `    ${a === '(none)' ? 'no action named (see the message)' : a}: ${n}`)].join('\n');
      expect(text).toContain(block + '\n');
    }
    // The CSV holds errors only, and the message counts its rows by type.
    expect(text).toContain(`errors.csv (${summary.error_count} rows, all errors)`);
  });

  it('counts each failing user once per failure: the directory check and the log seeing one failure give one event, one row, one line', async () => {
    const out = tempDir('be-truth-');
    const res = await execa('bash', [join(ROOT, 'examples/pipeline.sh')], { env: { OUT: out }, reject: false, stdin: 'ignore' });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toContain('process: 6 failures in the log already reported by the entries: not repeated');
    const errors = lines(readFileSync(join(out, 'events.ndjson'), 'utf8')).filter((e) => e.event_type === 'error');
    const keys = errors.map((e) => JSON.stringify([String(e.user_context.email ?? e.user_context.name).toLowerCase(), e.category, e.action_needed]));
    expect(new Set(keys).size).toBe(keys.length);
    const rows = readFileSync(join(out, 'errors.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows).toHaveLength(errors.length);
    for (const who of ['nina.noauth', 'ian.incomplete', 'nora.nodate', 'rex.noid', 'gus.gone', 'vera.unverified']) {
      expect(rows.filter((r) => r.startsWith(`${who}@`)), who).toHaveLength(1);
    }
    // Lena is only in the log: with the registry given to that stage too, her ORCID claim is named as one.
    expect(errors.find((e) => e.user_context.email === 'lena.logorcid@uni.example.edu')).toMatchObject({ category: 'Bad ORCID Claims' });
    const { text } = await mailText(join(out, 'outbox'));
    expect(text).toContain(`Errors: ${errors.length} of`);
    expect(text).toContain('Run: 2026-11-21T10:15:30.000Z to 2026-11-21T10:15:33.706Z (4s)');
  });
});

describe('failure travels with the data', () => {
  it('an unwritable -o: export-csv says failed and forwards; the summary and the first lines of the email say the CSV was not written; --strict exits 1', async () => {
    const dir = tempDir('be-truth-');
    writeFileSync(join(dir, 'out'), ''); // a file where the folder should be: unwritable even for root
    const head = `${sh('process')} --job user_management --now 2026-11-21T10:15:30Z --registry "${DATA}/registry.ndjson" "${DATA}/directory.ndjson" | ${sh('export-csv')} --type error -o out/errors.csv --pass-through | ${sh('analyze')} | tee summary.ndjson`;
    const r = await execa('bash', ['-c', `set -o pipefail; ${head} | ${sh('notify')} --to support@example.org --via file:box`], { cwd: dir, reject: false, env: { NOTIFY_TO: '', NOTIFY_VIA: '' } });
    expect(r.exitCode).toBe(1); // export-csv's exit status, through pipefail
    expect(r.stderr).toMatch(/export-csv: out\/errors\.csv: could not create a temporary file/);
    const summary = lines(readFileSync(join(dir, 'summary.ndjson'), 'utf8')).find((x) => x.kind === 'summary')!;
    expect(summary.error_count).toBe(13);
    expect(summary.complete).toBe(false);
    expect(summary.incomplete_reasons).toEqual([expect.stringMatching(/^The CSV could not be written: out\/errors\.csv: could not create a temporary file in out/)]);
    expect(summary.exports).toEqual([expect.objectContaining({ kind: 'export', status: 'failed', file: 'errors.csv', rows: 0 })]);
    const note = lines(r.stdout).find((x) => x.kind === 'notification')!;
    expect(note).toMatchObject({ status: 'written', complete: false, error_count: 13 });
    const { subject, text } = await mailText(join(dir, 'box'));
    expect(subject).toBe('[user_management] 13 errors need attention (INCOMPLETE RUN)');
    const first = text.split('\n');
    expect(first[0]).toBe('WARNING: this run did not complete; what follows may be missing errors or files:');
    expect(first[1]).toMatch(/^- The CSV could not be written: out\/errors\.csv: /);
    expect(text).toContain('Errors: 13 of');
    expect(text).toMatch(/errors\.csv: NOT WRITTEN \(/);

    const strict = await execa('bash', ['-c', `${sh('notify')} --to support@example.org --via file:box2 --strict < summary.ndjson`], { cwd: dir, reject: false });
    expect(strict.exitCode).toBe(1);
    expect(strict.stderr).toContain('notify: --strict: the run was incomplete');
    expect(lines(strict.stdout).find((x) => x.kind === 'notification')).toMatchObject({ status: 'written', complete: false });
  });

  it('process SIGKILLed mid-stream in process | analyze | notify: the summary says the input is incomplete, and the email says so first', async () => {
    const dir = tempDir('be-truth-');
    const entry = (i: number) => JSON.stringify({ email: `u${i}@x.org`, name: `U ${i}`, auth_email: `u${i}@x.org`, center_id: 1, authorizations: ['s'] });
    writeFileSync(join(dir, 'big.ndjson'), Array.from({ length: 300_000 }, (_, i) => entry(i)).join('\n') + '\n');
    // tee keeps a copy of what process wrote, so the test kills it mid-stream, not before it began.
    const cmd = `( ${sh('process')} --job big big.ndjson & echo $! > p.pid; wait ) | tee seen.ndjson | ${sh('analyze')} | tee summary.ndjson | ${sh('notify')} --to support@example.org --via file:box`;
    const child = execa('bash', ['-c', cmd], { cwd: dir, reject: false });
    const started = Date.now();
    const size = (f: string) => {
      try {
        return readFileSync(join(dir, f)).length;
      } catch {
        return 0;
      }
    };
    while (Date.now() - started < 120_000 && size('seen.ndjson') < 1_000_000) await new Promise((res) => setTimeout(res, 50));
    process.kill(Number(readFileSync(join(dir, 'p.pid'), 'utf8')), 'SIGKILL');
    const r = await child;
    const summary = lines(readFileSync(join(dir, 'summary.ndjson'), 'utf8')).find((x) => x.kind === 'summary')!;
    expect(summary.total_events).toBeLessThan(300_000);
    expect(summary.complete).toBe(false);
    expect(summary.incomplete_reasons).toContain(
      'The input ended before process finished: its end-of-run record is missing (killed or crashed), so what it had not yet written is missing',
    );
    expect(lines(r.stdout).find((x) => x.kind === 'notification')).toMatchObject({ status: 'written', complete: false });
    const { subject, text } = await mailText(join(dir, 'box'));
    expect(subject).toMatch(/\(INCOMPLETE RUN\)$/);
    expect(text.split('\n').slice(0, 4).join('\n')).toContain('- The input ended before process finished');
  });

  it('a stage killed before its summary: notify sees analyze start without an end and still sends', async () => {
    const input = '{"kind":"run","tool":"analyze","status":"started"}\n';
    const dir = tempDir('be-truth-');
    const r = await run('notify', ['--to', 'support@example.org', '--via', `file:${join(dir, 'box')}`], { input });
    expect(r.exitCode).toBe(0);
    expect(r.records[0]).toMatchObject({ kind: 'notification', status: 'written', complete: false, error_count: 0 });
    const { text } = await mailText(join(dir, 'box'));
    expect(text).toContain('- The input ended before analyze finished');
  });

  it('every stage opens and closes its output with a run record; cat of two complete runs is complete', async () => {
    const a = await run('process', ['--now', '2026-11-21', join(DATA, 'events.ndjson')]);
    expect(a.runRecords).toEqual([
      { kind: 'run', tool: 'process', status: 'started' },
      { kind: 'run', tool: 'process', status: 'complete', records: a.records.length },
    ]);
    expect(a.stdout.split('\n')[0]).toBe('{"kind":"run","tool":"process","status":"started"}');
    const s = await run('analyze', [], { input: a.stdout + a.stdout });
    expect(s.records.find((x) => x.kind === 'summary')).toMatchObject({ complete: true, incomplete_reasons: [] });
    // The shared filters pass run records on like every other kind; jq's select(.event_type) drops them.
    const f = await run('analyze', ['--type', 'error', '--where', 'category=Flywheel Error'], { input: a.stdout });
    expect(f.runRecords.filter((x) => x.tool === 'process')).toEqual(a.runRecords);
  });

  it('a stage that exits non-zero says why in its end record, and the summary names it', async () => {
    const p = await run('process', [], { input: '{"email":"a@x.org","auth_email":"a@x.org","center_id":1,"authorizations":["s"]}\nnot json\n' });
    expect(p.exitCode).toBe(1);
    expect(p.runRecords.at(-1)).toEqual({ kind: 'run', tool: 'process', status: 'failed', records: 1, error: '1 malformed input line (more than --max-bad 0)', bad_lines: 1 });
    const s = await run('analyze', [], { input: p.stdout });
    expect(s.records.find((x) => x.kind === 'summary')!.incomplete_reasons).toEqual(['process failed: 1 malformed input line (more than --max-bad 0)']);
  });
});

describe('lines a stage skipped (--max-bad) are said downstream', () => {
  it('the end record counts them; the summary, its partials, the table and the first lines of the email name them, once', async () => {
    const dir = tempDir('be-truth-');
    const rejects = join(dir, 'rej.ndjson');
    const input = '{"email":"a@x.org","auth_email":"b@x.org","center_id":1,"authorizations":["s"]}\nnot json\n{"email":\n';
    const p = await run('process', ['--max-bad', '5', '--rejects', rejects], { input });
    expect(p.exitCode).toBe(0);
    expect(p.runRecords.at(-1)).toEqual({ kind: 'run', tool: 'process', status: 'complete', records: p.records.length, bad_lines: 2, rejects });
    const note = `process skipped 2 malformed input lines (kept in ${rejects})`;
    // The same stream read twice (cat events.ndjson export.ndjson) names the run once.
    const s = await run('analyze', [], { input: p.stdout + p.stdout });
    expect(s.records.find((x) => x.kind === 'summary')).toMatchObject({ complete: true, incomplete_reasons: [], skipped_lines: [note] });
    const part = await run('analyze', ['--partial'], { input: p.stdout });
    const merged = await run('analyze', ['--merge'], { input: part.stdout + part.stdout.replace(/^.*"kind":"run".*$\n/gm, '') });
    expect(merged.records.find((x) => x.kind === 'summary')!.skipped_lines).toEqual([note]);
    const table = await run('analyze', ['--format', 'table'], { input: p.stdout });
    expect(table.stdout).toContain(`SKIPPED INPUT:\n  ${note}`);
    // analyze's own skipped line reaches notify through analyze's end record.
    const s2 = await run('analyze', ['--max-bad', '1'], { input: 'garbage\n' + p.stdout });
    await run('notify', ['--to', 'support@example.org', '--via', `file:${join(dir, 'box')}`], { input: s2.stdout });
    const { subject, text } = await mailText(join(dir, 'box'));
    expect(subject).not.toMatch(/INCOMPLETE/);
    expect(text.split('\n').slice(0, 3)).toEqual([
      'NOTE: input lines that could not be read were skipped; what they held is not counted below:',
      `- ${note}`,
      '- analyze skipped 1 malformed input line (reported on its stderr)',
    ]);
  });
});

describe("notify's statuses mean what they say", () => {
  it('the default outbox records written, not sent; no recipients is skipped; --strict with none exits 1', async () => {
    const dir = tempDir('be-truth-');
    const input = ndjson([{ event_type: 'error', category: 'Unverified Email', message: 'x', user_context: { email: 'a@uni.org' }, source: { job: 'nightly' } }]);
    const env = { NOTIFY_OUTBOX: join(dir, 'outbox'), NOTIFY_TO: '', NOTIFY_VIA: '' };
    const w = await run('notify', ['--to', 'x@y.org'], { input, env, cwd: dir });
    expect(w.exitCode).toBe(0);
    expect(w.records[0]).toMatchObject({ status: 'written', transport: 'file', recipients: ['x@y.org'] });
    expect(w.stderr).toMatch(/written via file:/);
    const none = await run('notify', [], { input, env, cwd: dir });
    expect(none.exitCode).toBe(0);
    expect(none.records[0]).toMatchObject({ status: 'skipped', reason: 'no recipients', transport: 'file' });
    const strict = await run('notify', ['--strict'], { input, env, cwd: dir });
    expect(strict.exitCode).toBe(1);
    expect(strict.records[0]).toMatchObject({ status: 'skipped', reason: 'no recipients' });
    expect(strict.stderr).toContain('notify: --strict: no recipients (--to or NOTIFY_TO)');
    expect(readdirSync(join(dir, 'outbox'))).toHaveLength(1);
  });

  it('--location without --instructions gets a default access line', async () => {
    const r = await run('notify', ['--to', 'x@y.org', '--location', '/srv/runs/errors.csv', '--dry-run'], {
      input: ndjson([{ event_type: 'error', category: 'Flywheel Error', message: 'x', user_context: { email: 'a@uni.org' } }]),
    });
    expect(r.stderr).toContain('Location: /srv/runs/errors.csv\nHow to get it: open or copy the file at /srv/runs/errors.csv; if you cannot reach it, ask the job\'s owner for access\n');
  });

  it('the whole delivery, retries included, ends within --timeout against a server that accepts and never answers', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    servers.push({ close: () => new Promise<void>((res) => silent.close(() => res())) });
    const port = (silent.address() as { port: number }).port;
    const t0 = Date.now();
    const r = await run('notify', ['--via', `smtp://127.0.0.1:${port}`, '--to', 'x@y.org', '--timeout', '2s'], {
      input: ndjson([{ event_type: 'error', category: 'Flywheel Error', message: 'x', user_context: { email: 'a@uni.org' } }]),
    });
    // Not a timing assertion: a generous bound that shows the run ended on its own.
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.exitCode).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/no answer within the time left/) });
  });
});

describe('seed 001 as written', () => {
  const registry = [
    { registry_id: 'R-1', name: 'Uma Unclaimed', emails: [{ mail: 'uma@x.org', verified: true }], org_identities: [], claimed: false, creation_date: '2024-01-01T00:00:00Z' },
    { registry_id: 'R-2', name: 'Bea Bad', emails: [], org_identities: [{ name: 'ORCID', email: null }], claimed: true, creation_date: '2024-01-01T00:00:00Z' },
    { registry_id: 'R-3', name: 'Someone Else', emails: [{ mail: 'else@x.org', verified: true }], org_identities: [], claimed: true, creation_date: '2024-01-01T00:00:00Z' },
  ];
  const entries = [
    { email: 'uma@x.org', name: 'Uma Unclaimed', auth_email: 'uma@x.org', center_id: 1, authorizations: [{ study_id: 's', activities: ['view'] }] },
    { email: 'bea@x.org', name: 'Bea Bad', auth_email: 'bea@x.org', registry_id: 'R-404', center_id: 1, authorizations: [{ study_id: 's', activities: ['view'] }] },
    { email: 'gus@x.org', name: 'Gus Gone', auth_email: 'gus@x.org', registry_id: 'R-999', center_id: 1, authorizations: [{ study_id: 's', activities: ['view'] }] },
  ];

  it('a not-yet-claimed entry is no error; a missing claimed user with a bad claim is one event; the full not-found message', async () => {
    const dir = tempDir('be-truth-');
    writeFileSync(join(dir, 'registry.ndjson'), ndjson(registry));
    const r = await run('process', ['--registry', join(dir, 'registry.ndjson'), '--now', '2026-11-21'], { input: ndjson(entries) });
    expect(r.exitCode, r.stderr).toBe(0);
    const by = (email: string) => r.records.filter((e) => e.user_context.email === email);
    expect(by('uma@x.org')).toEqual([expect.objectContaining({ event_type: 'success', details: expect.objectContaining({ outcome: 'awaiting_claim' }) })]);
    expect(by('bea@x.org')).toEqual([expect.objectContaining({ event_type: 'error', category: 'Bad ORCID Claims' })]);
    expect(by('gus@x.org')).toEqual([
      expect.objectContaining({ category: 'Missing Registry Data', message: 'Expected claimed user not found in registry by ID, email, or bad claims' }),
    ]);
  });

  it('an empty CSV cell is absent: center_id empty and adcid 7 is centre 7', async () => {
    const r = await run('process', ['--from', 'csv'], { input: 'email,auth_email,center_id,adcid,authorizations\na@x.org,a@x.org,,7,s\n' });
    expect(r.records).toEqual([expect.objectContaining({ event_type: 'success', user_context: expect.objectContaining({ center_id: 7 }) })]);
  });

  it('an empty or unreadable --registry is an error (exit 1) unless --allow-empty-registry', async () => {
    const dir = tempDir('be-truth-');
    writeFileSync(join(dir, 'empty.ndjson'), '');
    const input = ndjson([entries[0]]);
    const empty = await run('process', ['--registry', join(dir, 'empty.ndjson')], { input });
    expect(empty.exitCode).toBe(1);
    expect(empty.stderr).toBe(`process: ${join(dir, 'empty.ndjson')}: the registry snapshot holds no person (an empty or wrong file?); --allow-empty-registry if that is right\n`);
    expect(empty.records).toEqual([]);
    const missing = await run('process', ['--registry', join(dir, 'nope.ndjson')], { input });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('nope.ndjson: no such file or directory');
    const allowed = await run('process', ['--registry', join(dir, 'empty.ndjson'), '--allow-empty-registry'], { input });
    expect(allowed.exitCode).toBe(0);
    expect(allowed.records).toHaveLength(1);
  });

  it('process --log with --from log is a usage error', async () => {
    const r = await run('process', ['--from', 'log', '--log', 'x.log'], { input: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^process: invalid --log: /);
  });
});

describe('success notifications (seed 001 properties 16 and 17)', () => {
  it('notify --successes sends one standard digest of the created users through SMTP: email, name, time, authorizations', async () => {
    const smtp: TestSmtp = await startSmtp();
    servers.push(smtp);
    const cmd = `cd "${DATA}" && ${sh('process')} --job user_management --now 2026-11-21T10:15:30Z --registry registry.ndjson --log gear.log directory.ndjson | ${sh('notify')} --successes --via ${smtp.url} --to support@example.org`;
    const r = await execa('bash', ['-c', cmd], { reject: false, env: { NOTIFY_TO: '', NOTIFY_VIA: '' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lines(r.stdout).find((x) => x.kind === 'notification')).toMatchObject({ status: 'sent', transport: 'smtp', success_count: 2, attempts: 1 });
    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0]!.mail;
    expect(mail.subject).toBe('[user_management] 2 users created');
    expect(mail.text).toContain(
      [
        'Grace Hopper <grace.hopper@uni.example.edu>',
        '  Email: grace.hopper@uni.example.edu',
        '  Registry ID: R-0018',
        '  Center: 47',
        '  Time: 2026-11-21T10:15:32.599Z',
        '  Authorizations:',
        '    adrc: submit-audit',
        '    leads: view',
      ].join('\n'),
    );
    expect(mail.text).toContain('Ada Lovelace <ada.lovelace@uni.example.edu>');
  });

  it('no created user: skipped (no successes)', async () => {
    const dir = tempDir('be-truth-');
    mkdirSync(join(dir, 'box'));
    const r = await run('notify', ['--successes', '--to', 'x@y.org', '--via', `file:${join(dir, 'box')}`], {
      input: ndjson([{ event_type: 'error', category: 'Flywheel Error', message: 'x', user_context: { email: 'a@uni.org' } }]),
    });
    expect(r.records[0]).toMatchObject({ status: 'skipped', reason: 'no successes' });
  });
});
