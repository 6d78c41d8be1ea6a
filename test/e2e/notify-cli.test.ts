import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { binPath, ndjson, run, tempDir } from '../helpers/run.js';
import { startSmtp, TLS_CERT, type TestSmtp } from '../helpers/smtp.js';

const EVENT = { event_type: 'error', category: 'Unverified Email', message: 'not verified', user_context: { email: 'a@uni.org' }, source: { job: 'nightly' } };
const INPUT = ndjson([EVENT]);

const servers: TestSmtp[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('notify: flags and usage errors', () => {
  it('--help lists every flag of the contract', async () => {
    const r = await run('notify', ['--help']);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const flag of ['--to', '--from', '--subject', '--via', '--location', '--instructions', '--attach', '--attach-exports', '--attach-report', '--always', '--dry-run', '--strict', '--timeout', '--state', '--repeat-interval', '--max-summaries', '--sendmail-path', '--tls-ca', '--insecure-tls']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it.each([
    [['--bogus'], /unknown option --bogus/],
    [['--timeout', 'soon'], /invalid --timeout: must be a duration such as 30s, 5m or 4h, got "soon"/],
    [['--to', 'nobody'], /invalid --to: must be an email address, got "nobody"/],
    [['--from', 'x@y.org\nBcc: z@w.org'], /invalid --from: must be an email address/],
    [['--subject', '{nope}'], /invalid --subject: may use \{job\}/],
    [['--repeat-interval', '4h'], /invalid --repeat-interval: needs --state FILE/],
    [['--via', 'gopher://x'], /invalid --via: must be smtp:\/\//],
    [['--max-summaries', '-1'], /invalid --max-summaries/],
  ])('%j is a usage error (exit 2, one line)', async (args, message) => {
    const r = await run('notify', args as string[], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.records).toEqual([]);
  });

  it('--to takes comma lists and repeats; --max-summaries caps the listed errors', async () => {
    const dir = tempDir();
    const many = ndjson(Array.from({ length: 5 }, (_, i) => ({ ...EVENT, user_context: { email: `u${i}@uni.org` } })));
    const r = await run('notify', ['--via', `file:${dir}`, '--to', 'a@uni.org, b@uni.org', '--to', 'c@uni.org', '--max-summaries', '2'], { input: many });
    expect(r.records[0]!.recipients).toEqual(['a@uni.org', 'b@uni.org', 'c@uni.org']);
    const mail = await simpleParser(readFileSync(r.records[0]!.path));
    expect(mail.text).toContain('First 2 of 5 errors:');
    expect(mail.text).toContain('... and 3 more');
  });

  it('the shared filters choose the events that are summarized', async () => {
    const dir = tempDir();
    const input = ndjson([EVENT, { ...EVENT, category: 'Bad ORCID Claims', user_context: { email: 'b@uni.org' } }]);
    const r = await run('notify', ['--to', 'support@uni.org', '--via', `file:${dir}`, '--category', 'Bad ORCID Claims'], { input });
    expect(r.records[0]).toMatchObject({ status: 'written', error_count: 1 });
  });

  it('a malformed line is reported FILE:LINE and the rest is still notified (exit 1 as for every tool)', async () => {
    const dir = tempDir();
    const r = await run('notify', ['--to', 'support@uni.org', '--via', `file:${dir}`], { input: `${JSON.stringify(EVENT)}\n{oops\n` });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/stdin:2: /);
    expect(r.records[0]).toMatchObject({ status: 'written', error_count: 1 });
  });

  it('smtps:// (implicit TLS) with --tls-ca', async () => {
    const s = await startSmtp({ implicitTls: true });
    servers.push(s);
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org', '--tls-ca', TLS_CERT, '--timeout', '5s'], { input: INPUT });
    expect(r.records[0]).toMatchObject({ status: 'sent', transport: 'smtps' });
    expect(s.received[0]!.secure).toBe(true);
  });

  it('a recipient the server refuses is named in a warning; the others still get the message', async () => {
    const s = await startSmtp({ rejectRcpt: ['gone@uni.org'] });
    servers.push(s);
    const r = await run('notify', ['--via', s.url, '--to', 'gone@uni.org,ok@uni.org'], { input: INPUT });
    expect(r.records[0]).toMatchObject({ status: 'sent' });
    expect(r.stderr).toMatch(/warning: .*refused gone@uni\.org/);
    expect(s.received[0]!.to).toEqual(['ok@uni.org']);
  });
});

describe('notify --attach: a file that cannot be attached is named in the message, with a warning; the message still goes', () => {
  function files() {
    const dir = tempDir();
    const big = join(dir, 'big.csv');
    writeFileSync(big, '');
    truncateSync(big, 10 * 1024 * 1024 + 1); // one byte over the limit (sparse: no disk written)
    const small = join(dir, 'notes.txt');
    writeFileSync(small, 'see ticket 42\n');
    return { dir, big, small, missing: join(dir, 'no-such.csv') };
  }

  it('over 10 MiB and missing: both named with the reason, the others attached, a warning each, exit 0', async () => {
    const { dir, big, small, missing } = files();
    const r = await run('notify', ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--attach', big, '--attach', missing, '--attach', small], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'written', attempts: 1 });
    const mail = await simpleParser(readFileSync(r.records[0]!.path));
    expect(mail.attachments.map((a) => a.filename)).toEqual(['notes.txt']);
    expect(mail.text).toContain('Attached: notes.txt');
    expect(mail.text).toContain(`Not attached: ${big} (10.1 MiB, over the 10 MiB attachment limit)`);
    expect(mail.text).toContain(`Not attached: ${missing} (no such file or directory)`);
    expect(r.stderr).toContain(`warning: ${big}: 10.1 MiB, over the 10 MiB attachment limit; not attached (the message names it)`);
    expect(r.stderr).toContain(`warning: ${missing}: no such file or directory; not attached (the message names it)`);
  });

  it('--strict: a missing file exits 1 (after sending); a file over the limit alone does not', async () => {
    const { dir, big, missing } = files();
    const gone = await run('notify', ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--attach', missing, '--strict'], { input: INPUT });
    expect(gone.exitCode, gone.stderr).toBe(1);
    expect(gone.records[0]).toMatchObject({ status: 'written' });
    const tooBig = await run('notify', ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--attach', big, '--strict'], { input: INPUT });
    expect(tooBig.exitCode, tooBig.stderr).toBe(0);
    expect(tooBig.records[0]).toMatchObject({ status: 'written' });
    expect(readdirSync(join(dir, 'box'))).toHaveLength(2);
  });

  it('a directory is not a file: named, not attached', async () => {
    const { dir } = files();
    const r = await run('notify', ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--attach', dir, '--dry-run'], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Not attached: ${dir} (not a file)`);
  });
});

describe('the whole pipeline: process | export-csv -o --pass-through | analyze | notify', () => {
  it('names the CSV that export-csv wrote and attaches it with --attach-exports', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'out'));
    const input = ndjson([EVENT, { ...EVENT, category: 'Bad ORCID Claims', user_context: { email: 'b@uni.org' } }]);
    writeFileSync(join(dir, 'in.ndjson'), input);
    const sh = (name: string) => `"${process.execPath}" "${binPath(name as 'notify')}"`;
    const cmd = `${sh('process')} in.ndjson | ${sh('export-csv')} -o out/errors.csv --pass-through | ${sh('analyze')} | ${sh('notify')} --to support@uni.org --via file:box --attach-exports --location 'the out folder' --instructions 'scp it'`;
    const r = await execa('sh', ['-c', cmd], { cwd: dir, reject: false, env: { NOTIFY_VIA: '', NOTIFY_TO: '' } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const rec = String(r.stdout).trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.kind === 'notification');
    expect(rec).toMatchObject({ kind: 'notification', status: 'written', error_count: 2, job: 'nightly' });
    const [file] = readdirSync(join(dir, 'box'));
    const mail = await simpleParser(readFileSync(join(dir, 'box', file!)));
    expect(mail.text).toContain('errors.csv (2 rows, all errors)');
    expect(mail.text).toContain('Location: the out folder');
    expect(mail.text).toContain('Attached: errors.csv');
    expect(mail.attachments[0]!.content.toString()).toBe(readFileSync(join(dir, 'out/errors.csv'), 'utf8'));
  });
});
