import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ndjson, run, tempDir } from '../helpers/run.js';
import { deadPort, startDroppingPeer, startSilentPeer, startSmtp, TLS_CERT, type TestSmtp } from '../helpers/smtp.js';

// Seven errors over four users and three categories, one success, job user_management.
function events(): object[] {
  const mk = (i: number, category: string, email: string, message: string, type = 'error') => ({
    event_id: `00000000-0000-4000-8000-00000000000${i}`,
    timestamp: `2026-11-21T10:0${i}:00.000Z`,
    event_type: type,
    category,
    message,
    action_needed: null,
    user_context: { email, name: 'Unknown', center_id: 42, registry_id: null, auth_email: null },
    details: {},
    source: { job: 'user_management', file: 'directory.csv', line: i + 1 },
  });
  return [
    mk(0, 'Bad ORCID Claims', 'ada@uni.org', 'User has incomplete claim with ORCID identity provider'),
    mk(1, 'Bad ORCID Claims', 'bob@uni.org', 'incomplete ORCID claim'),
    mk(2, 'Unverified Email', 'cy@uni.org', 'email not verified'),
    mk(3, 'Unclaimed Records', 'dee@uni.org', 'registry record not claimed'),
    mk(4, 'Unclaimed Records', 'ada@uni.org', 'registry record not claimed again'),
    mk(5, 'Unverified Email', 'bob@uni.org', 'email still not verified api_key=sk-12345678'),
    mk(6, 'Bad ORCID Claims', 'cy@uni.org', 'bad ORCID claim'),
    mk(7, 'User Successfully Created', 'eve@uni.org', 'created', 'success'),
  ];
}

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function smtp(opts: Parameters<typeof startSmtp>[0] = {}): Promise<TestSmtp> {
  const s = await startSmtp(opts);
  servers.push(s);
  return s;
}

describe('notify over SMTP (real smtp-server on loopback, read back with mailparser)', () => {
  it('delivers one message with the recipients, subject, every body item and the attachments', async () => {
    const s = await smtp();
    const dir = tempDir();
    const csv = join(dir, 'errors.csv');
    writeFileSync(csv, 'email,name\nada@uni.org,Ada\n');
    const extra = join(dir, 'notes.txt');
    writeFileSync(extra, 'see ticket 42\n');
    const input = ndjson([...events(), { kind: 'export', path: csv, file: 'errors.csv', rows: 7, bytes: 30, sha256: 'x', columns: ['email'] }]);
    const r = await run('notify', [
      '--via', s.url, '--to', 'support@uni.org', '--to', 'ops@uni.org,lead@uni.org', '--from', 'Gear <gear@uni.org>',
      '--location', 'Flywheel project admin/users', '--instructions', 'Open the project and download the file from Analyses',
      '--attach', extra, '--attach-exports', '--max-summaries', '3', '--timeout', '5s',
    ], { input });
    expect(r.stderr).toBe(r.stderr.includes('warning') ? '' : r.stderr);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records).toHaveLength(1);
    const rec = r.records[0]!;
    expect(rec).toMatchObject({ kind: 'notification', status: 'sent', reason: null, transport: 'smtp', attempts: 1, job: 'user_management', error_count: 7, path: null });
    expect(rec.recipients).toEqual(['support@uni.org', 'ops@uni.org', 'lead@uni.org']);
    expect(rec.fingerprint).toMatch(/^[0-9a-f]{64}$/);

    expect(s.received).toHaveLength(1);
    const got = s.received[0]!;
    expect(got.to.sort()).toEqual(['lead@uni.org', 'ops@uni.org', 'support@uni.org']);
    expect(got.from).toBe('gear@uni.org');
    expect(got.mail.subject).toBe('[user_management] 7 errors need attention');
    expect(rec.subject).toBe(got.mail.subject);
    expect(got.mail.messageId).toBe(rec.message_id);
    const text = got.mail.text!;
    expect(text).toContain('Job: user_management');
    expect(text).toMatch(/Run: 2026-11-21T10:00:00.000Z to 2026-11-21T10:07:00.000Z \(7m 0s\)/);
    expect(text).toContain('Errors: 7 of 8 events (1 succeeded)');
    expect(text).toContain('Affected users: 4');
    expect(text).toContain('  Bad ORCID Claims: 3\n    delete_bad_record_and_reclaim_with_institutional_idp: 3\n');
    expect(text).toContain('  Unverified Email: 2\n    check_email_verification_in_comanage: 2\n');
    expect(text).toContain('  Unclaimed Records: 2\n    check_registry_record_status: 2\n');
    expect(text).toContain('errors.csv (7 rows)');
    expect(text).toContain('Location: Flywheel project admin/users');
    expect(text).toContain('How to get it: Open the project and download the file from Analyses');
    expect(text).toContain('First 3 of 7 errors:');
    expect(text).toMatch(/^ {2}Bad ORCID Claims: \S+@uni\.org - /m);
    expect(text).toContain('... and 4 more');
    expect(text).not.toContain('sk-12345678');
    expect(got.mail.attachments.map((a) => a.filename).sort()).toEqual(['errors.csv', 'notes.txt']);
    expect(got.mail.attachments.find((a) => a.filename === 'errors.csv')!.content.toString()).toBe('email,name\nada@uni.org,Ada\n');
  });

  it('uses STARTTLS with a self-signed certificate trusted through --tls-ca', async () => {
    const s = await smtp({ starttls: true });
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org', '--tls-ca', TLS_CERT, '--timeout', '5s'], { input: ndjson(events()) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'sent', attempts: 1 });
    expect(s.received[0]!.secure).toBe(true);
  });

  it('fault: smtp-untrusted-cert — an untrusted certificate is a permanent failure: one attempt, failed, exit 0', async () => {
    const s = await smtp({ starttls: true });
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org', '--timeout', '5s'], { input: ndjson(events()) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.records[0]!.reason).toMatch(/certificate/i);
    expect(s.received).toHaveLength(0);
  });

  it('--insecure-tls accepts the self-signed certificate', async () => {
    const s = await smtp({ starttls: true });
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org', '--insecure-tls', '--timeout', '5s'], { input: ndjson(events()) });
    expect(r.records[0]).toMatchObject({ status: 'sent' });
    expect(s.received[0]!.secure).toBe(true);
  });

  it('AUTH over STARTTLS with NOTIFY_SMTP_USER/PASSWORD; the password never reaches stdout or stderr, even with --verbose', async () => {
    const s = await smtp({ starttls: true, auth: { user: 'gear', pass: 'Sup3r-Secret!' } });
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org', '--tls-ca', TLS_CERT, '--verbose', '--timeout', '5s'], {
      input: ndjson(events()),
      env: { NOTIFY_SMTP_USER: 'gear', NOTIFY_SMTP_PASSWORD: 'Sup3r-Secret!' },
    });
    expect(r.records[0]).toMatchObject({ status: 'sent' });
    expect(s.received[0]!.user).toBe('gear');
    expect(r.stderr).toContain('smtp://gear:***@127.0.0.1');
    expect(r.stderr + r.stdout).not.toContain('Sup3r-Secret');
  });

  it('fault: smtp-wrong-password — AUTH from the URL; a wrong password is permanent (535): failed after one attempt, masked in the log', async () => {
    const s = await smtp({ starttls: true, auth: { user: 'gear', pass: 'right' } });
    const ok = await run('notify', ['--via', `smtp://gear:right@127.0.0.1:${s.port}`, '--to', 'a@uni.org', '--tls-ca', TLS_CERT, '--timeout', '5s'], { input: ndjson(events()) });
    expect(ok.records[0]).toMatchObject({ status: 'sent' });
    const bad = await run('notify', ['--via', `smtp://gear:wrong-pw@127.0.0.1:${s.port}`, '--to', 'a@uni.org', '--tls-ca', TLS_CERT, '--timeout', '5s', '-v'], { input: ndjson(events()) });
    expect(bad.exitCode, bad.stderr).toBe(0);
    expect(bad.records[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(bad.stderr + bad.stdout).not.toContain('wrong-pw');
    expect(s.received).toHaveLength(1);
  });

  it('fault: smtp-server-down — server down: retries until --timeout, then failed with exit 0; --strict exits 1', async () => {
    const port = await deadPort();
    const r = await run('notify', ['--via', `smtp://127.0.0.1:${port}`, '--to', 'a@uni.org', '--timeout', '1500ms'], { input: ndjson(events()) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed' });
    expect(r.records[0]!.attempts).toBeGreaterThan(1);
    expect(r.records[0]!.reason).toMatch(/ECONNREFUSED/);
    expect(r.stderr).toMatch(/^notify: user_management: delivery via smtp:\/\/127\.0\.0\.1:\d+ failed: /m);
    const strict = await run('notify', ['--via', `smtp://127.0.0.1:${port}`, '--to', 'a@uni.org', '--timeout', '500ms', '--strict'], { input: ndjson(events()) });
    expect(strict.exitCode, strict.stderr).toBe(1);
    expect(strict.records[0]).toMatchObject({ status: 'failed' });
  });

  it('fault: smtp-451-retry — 451 twice, then accepted: sent after 3 attempts', async () => {
    const s = await smtp({ dataReplies: [451, 451] });
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org', '--timeout', '10s'], { input: ndjson(events()) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'sent', attempts: 3 });
    expect(s.dataAttempts).toBe(3);
    expect(s.received).toHaveLength(1);
  });

  it('fault: smtp-550-permanent — 550 is permanent: no retry, failed after 1 attempt', async () => {
    const s = await smtp({ rcptReply: 550 });
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org', '--timeout', '10s'], { input: ndjson(events()) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.records[0]!.reason).toMatch(/^550/);
  });

  it('fault: smtp-silent-server — a server that never answers: gives up within --timeout, failed, exit 0', async () => {
    const peer = await startSilentPeer();
    servers.push(peer);
    const r = await run('notify', ['--via', `smtp://127.0.0.1:${peer.port}`, '--to', 'a@uni.org', '--timeout', '1s'], { input: ndjson(events()), timeout: 20_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed' });
    expect(peer.connections).toBeGreaterThanOrEqual(1);
  });

  it('fault: smtp-drop-data-once — the connection dropped in the middle of DATA is retried (sent on the next attempt), never a non-zero exit', async () => {
    const peer = await startDroppingPeer(1);
    servers.push(peer);
    const r = await run('notify', ['--via', `smtp://127.0.0.1:${peer.port}`, '--to', 'a@uni.org', '--timeout', '5s'], { input: ndjson(events()) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(peer.accepted).toBe(1);
  });

  it('fault: smtp-drop-data-always — a connection dropped in DATA on every attempt ends failed with exit 0', async () => {
    const peer = await startDroppingPeer(1000);
    servers.push(peer);
    const r = await run('notify', ['--via', `smtp://127.0.0.1:${peer.port}`, '--to', 'a@uni.org', '--timeout', '1s'], { input: ndjson(events()) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed' });
    expect(r.records[0]!.attempts).toBeGreaterThan(1);
  });

  it('no recipients: skipped with a warning, nothing sent', async () => {
    const s = await smtp();
    const r = await run('notify', ['--via', s.url], { input: ndjson(events()), env: { NOTIFY_TO: '' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'skipped', reason: 'no recipients', attempts: 0 });
    expect(r.stderr).toMatch(/warning: .*no recipients/);
    expect(s.received).toHaveLength(0);
  });

  it('NOTIFY_TO, NOTIFY_FROM and NOTIFY_VIA configure it from the environment', async () => {
    const s = await smtp();
    const r = await run('notify', [], { input: ndjson(events()), env: { NOTIFY_TO: 'x@uni.org, y@uni.org', NOTIFY_FROM: 'bot@uni.org', NOTIFY_VIA: s.url } });
    expect(r.records[0]).toMatchObject({ status: 'sent', transport: 'smtp', recipients: ['x@uni.org', 'y@uni.org'] });
    expect(s.received[0]!.from).toBe('bot@uni.org');
  });

  it('no errors: skipped ("no errors") unless --always', async () => {
    const s = await smtp();
    const ok = [events()[7]!];
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org'], { input: ndjson(ok) });
    expect(r.records[0]).toMatchObject({ status: 'skipped', reason: 'no errors', error_count: 0 });
    expect(s.received).toHaveLength(0);
    const always = await run('notify', ['--via', s.url, '--to', 'a@uni.org', '--always', '--subject', '{job}: {error_count} errors, {success_count} ok'], { input: ndjson(ok) });
    expect(always.records[0]).toMatchObject({ status: 'sent' });
    expect(s.received[0]!.mail.subject).toBe('user_management: 0 errors, 1 ok');
  });

  it('no CR/LF from the data reaches a header (a job name carrying a Bcc: line)', async () => {
    const s = await smtp();
    const evil = events().map((e: any) => ({ ...e, source: { ...e.source, job: 'nightly\r\nBcc: thief@evil.org' } }));
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org'], { input: ndjson(evil) });
    expect(r.records[0]).toMatchObject({ status: 'sent' });
    const got = s.received[0]!;
    expect(got.to).toEqual(['a@uni.org']);
    expect(got.mail.headers.has('bcc')).toBe(false);
    expect(got.mail.subject).toBe('[nightly Bcc: thief@evil.org] 7 errors need attention');
    const head = got.raw.toString('latin1').split('\r\n\r\n')[0]!;
    expect(head).not.toMatch(/^Bcc:/im);
  });

  it('a secret in the job name is redacted in X-Batch-Job as in the subject and body (and in the record)', async () => {
    const s = await smtp();
    const leaky = events().map((e: any) => ({ ...e, source: { ...e.source, job: 'sync token=abcd1234efgh\r\nX-Evil: 1' } }));
    const r = await run('notify', ['--via', s.url, '--to', 'a@uni.org'], { input: ndjson(leaky) });
    expect(r.records[0]).toMatchObject({ status: 'sent', job: 'sync token=[REDACTED] X-Evil: 1' });
    const got = s.received[0]!;
    expect(got.raw.toString('latin1')).not.toContain('abcd1234efgh');
    expect(got.mail.headers.get('x-batch-job')).toBe('sync token=[REDACTED] X-Evil: 1');
    expect(got.mail.headers.has('x-evil')).toBe(false);
    expect(got.mail.subject).toBe('[sync token=[REDACTED] X-Evil: 1] 7 errors need attention');
  });
});

describe('notify --attach-report (real smtp-server, read back with mailparser)', () => {
  it('attaches the HTML report of the same summary; the text part is what it is without it', async () => {
    const s = await smtp();
    const summary = await run('analyze', [], { input: ndjson(events()) });
    expect(summary.exitCode, summary.stderr).toBe(0);
    const args = ['--via', s.url, '--to', 'support@uni.org', '--from', 'gear@uni.org', '--timeout', '5s'];
    const plain = await run('notify', args, { input: summary.stdout });
    const withReport = await run('notify', [...args, '--attach-report'], { input: summary.stdout });
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(withReport.exitCode, withReport.stderr).toBe(0);
    expect(withReport.records[0]).toMatchObject({ kind: 'notification', status: 'sent' });
    expect(s.received).toHaveLength(2);
    const [a, b] = s.received;
    expect(b!.mail.text).toBe(a!.mail.text);
    expect(a!.mail.attachments).toHaveLength(0);
    expect(b!.mail.attachments).toHaveLength(1);
    const att = b!.mail.attachments[0]!;
    expect(att.filename).toBe('user_management-report.html');
    expect(att.contentType).toBe('text/html');
    const html = att.content.toString('utf8');
    // The same page analyze draws from that summary.
    const page = await run('analyze', ['--format', 'html'], { input: summary.stdout });
    expect(html).toBe(page.stdout);
    expect(html).toContain('Bad ORCID Claims');
    expect(html).not.toContain('sk-12345678');
  });
});
