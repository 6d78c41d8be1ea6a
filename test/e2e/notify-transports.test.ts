import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { ndjson, ROOT, run, tempDir } from '../helpers/run.js';
import { startHook, type HookStep, type TestHook } from '../helpers/http.js';

const FAKE_SENDMAIL = join(ROOT, 'test/fixtures/fake-sendmail.mjs');

function event(email: string, category = 'Unverified Email', message = 'email not verified') {
  return {
    event_type: 'error',
    category,
    message,
    timestamp: '2026-11-21T10:00:00.000Z',
    user_context: { email, name: 'Unknown', center_id: 1, registry_id: null, auth_email: null },
    source: { job: 'pull_directory', file: 'dir.csv', line: 1 },
  };
}
const INPUT = ndjson([event('a@uni.org'), event('b@uni.org', 'Bad ORCID Claims', 'claim password=hunter22 leaked')]);

const hooks: TestHook[] = [];
afterEach(async () => {
  await Promise.all(hooks.splice(0).map((h) => h.close()));
});
async function hook(script: HookStep[]): Promise<TestHook> {
  const h = await startHook(script);
  hooks.push(h);
  return h;
}

describe('notify --via http(s):// (a real node:http server on loopback)', () => {
  it('200: one JSON POST with a text field and the redacted summary; no recipients needed; the URL path is masked in logs', async () => {
    const h = await hook([200]);
    const r = await run('notify', ['--via', h.url, '--location', 's3://bucket/run-7/', '--verbose'], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ kind: 'notification', status: 'sent', transport: 'webhook', attempts: 1, recipients: [], error_count: 2, job: 'pull_directory' });
    expect(h.requests).toHaveLength(1);
    const req = h.requests[0]!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body.text).toContain('[pull_directory] 2 errors need attention');
    expect(req.body.text).toContain('Location: s3://bucket/run-7/');
    expect(req.body.summary).toMatchObject({ kind: 'summary', error_count: 2, affected_user_count: 2 });
    expect(JSON.stringify(req.body)).not.toContain('hunter22');
    expect(r.stderr).not.toContain('T0K3N');
    expect(r.stderr).toMatch(/http:\/\/127\.0\.0\.1:\d+\/\*\*\*/);
  });

  it('fault: webhook-500-retry — 500 then 200: sent after 2 attempts', async () => {
    const h = await hook([500, 200]);
    const r = await run('notify', ['--via', h.url, '--timeout', '10s'], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(h.requests).toHaveLength(2);
  });

  it('fault: webhook-429-retry-after — 429 with Retry-After: 1, then 200: the retry waits the second asked for; sent after 2 attempts', async () => {
    const h = await hook([{ status: 429, headers: { 'retry-after': '1' } }, 200]);
    const r = await run('notify', ['--via', h.url, '--timeout', '10s', '--verbose'], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ kind: 'notification', status: 'sent', transport: 'webhook', attempts: 2 });
    expect(h.requests).toHaveLength(2);
    // The backoff alone would be 125-250 ms: the wait chosen is the server's Retry-After.
    expect(r.stderr).toMatch(/attempt 1 failed \(webhook answered HTTP 429[^)]*\); retrying in 1000 ms/);
  });

  it('fault: webhook-429-retry-after-beyond-budget — a Retry-After past --timeout: gives up at once, failed after 1 attempt, exit 0', async () => {
    const h = await hook([{ status: 429, headers: { 'retry-after': '3600' } }, 200]);
    const r = await run('notify', ['--via', h.url, '--timeout', '5s'], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.records[0]!.reason).toMatch(/HTTP 429.*gave up after 1 attempt$/);
    expect(h.requests).toHaveLength(1);
  });

  it('--attach with a webhook: the JSON carries no files, so the text names the file and says why; a warning on stderr', async () => {
    const h = await hook([200]);
    const notes = join(tempDir(), 'notes.txt');
    writeFileSync(notes, 'see ticket 42\n');
    const r = await run('notify', ['--via', h.url, '--attach', notes], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'sent', attempts: 1 });
    expect(h.requests[0]!.body.text).toContain(`Not attached: ${notes} (a webhook message carries no files)`);
    expect(h.requests[0]!.body.text).not.toContain('Attached: notes.txt');
    expect(r.stderr).toContain(`warning: ${notes}: a webhook message carries no files; not attached (the message names it)`);
  });

  it('fault: webhook-400-permanent — 400 is permanent: failed after 1 attempt, exit 0; --strict exits 1', async () => {
    const h = await hook([400]);
    const r = await run('notify', ['--via', h.url, '--timeout', '10s'], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.records[0]!.reason).toMatch(/HTTP 400/);
    expect(h.requests).toHaveLength(1);
    const strict = await run('notify', ['--via', h.url, '--strict'], { input: INPUT });
    expect(strict.exitCode, strict.stderr).toBe(1);
  });

  it('fault: webhook-hang — a hang: gives up within --timeout, failed, exit 0', async () => {
    const h = await hook(['hang']);
    const r = await run('notify', ['--via', h.url, '--timeout', '1s'], { input: INPUT, timeout: 20_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed' });
    expect(r.records[0]!.reason).toMatch(/time/);
    expect(h.requests.length).toBeGreaterThanOrEqual(1);
  });
});

describe('notify --via file:DIR (the outbox)', () => {
  it('is the default when nothing is configured, says so on stderr, and writes a valid .eml that mailparser reads back', async () => {
    const cwd = tempDir();
    const r = await run('notify', ['--to', 'support@uni.org', '--instructions', 'Ask ops for read access'], { input: INPUT, cwd, env: { NOTIFY_VIA: '', NOTIFY_OUTBOX: '' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no --via or NOTIFY_VIA given: writing to the outbox folder \.\/outbox/);
    const rec = r.records[0]!;
    expect(rec).toMatchObject({ status: 'written', transport: 'file', recipients: ['support@uni.org'] });
    const files = readdirSync(join(cwd, 'outbox'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.eml$/);
    expect(rec.path).toBe(join(cwd, 'outbox', files[0]!));
    const mail = await simpleParser(readFileSync(rec.path));
    expect(mail.subject).toBe('[pull_directory] 2 errors need attention');
    expect(mail.messageId).toBe(rec.message_id);
    expect((mail.to as { text: string }).text).toBe('support@uni.org');
    expect(mail.text).toContain('Errors: 2');
    expect(mail.text).toContain('How to get it: Ask ops for read access');
    expect(mail.text).not.toContain('hunter22');
  });

  it('NOTIFY_OUTBOX moves the default folder; an outbox message needs recipients too (none: skipped, nothing written)', async () => {
    const dir = tempDir();
    const r = await run('notify', [], { input: INPUT, env: { NOTIFY_OUTBOX: join(dir, 'box'), NOTIFY_TO: 'support@uni.org', NOTIFY_VIA: '' } });
    expect(r.records[0]).toMatchObject({ status: 'written', transport: 'file', recipients: ['support@uni.org'] });
    expect(readdirSync(join(dir, 'box'))).toHaveLength(1);
    const none = await run('notify', [], { input: INPUT, env: { NOTIFY_OUTBOX: join(dir, 'box2'), NOTIFY_TO: '', NOTIFY_VIA: '' } });
    expect(none.records[0]).toMatchObject({ status: 'skipped', reason: 'no recipients', transport: 'file', recipients: [] });
    expect(existsSync(join(dir, 'box2'))).toBe(false);
  });

  it('--dry-run prints the message on stderr and writes nothing', async () => {
    const dir = tempDir();
    const r = await run('notify', ['--via', `file:${dir}/box`, '--dry-run', '--to', 'a@uni.org'], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'skipped', reason: 'dry run', attempts: 0 });
    expect(r.stderr).toContain('Subject: [pull_directory] 2 errors need attention');
    expect(r.stderr).toContain('To: a@uni.org');
    expect(r.stderr).toContain('Errors by category, with each action needed and how many errors need it:');
    expect(existsSync(`${dir}/box`)).toBe(false);
  });
});

describe('notify --via sendmail (a fixture program that records its stdin)', () => {
  it('pipes the message to the program with -i -f FROM -- TO...', async () => {
    const out = tempDir();
    const r = await run('notify', ['--via', 'sendmail', '--sendmail-path', FAKE_SENDMAIL, '--to', 'a@uni.org', '--from', 'gear@uni.org'], {
      input: INPUT,
      env: { FAKE_SENDMAIL_OUT: out },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'sent', transport: 'sendmail', attempts: 1 });
    const call = JSON.parse(readFileSync(join(out, 'call-1.json'), 'utf8'));
    expect(call.argv).toEqual(['-i', '-f', 'gear@uni.org', '--', 'a@uni.org']);
    const mail = await simpleParser(call.stdin);
    expect(mail.subject).toBe('[pull_directory] 2 errors need attention');
    expect(mail.messageId).toBe(r.records[0]!.message_id);
  });

  it('fault: sendmail-tempfail — exit 75 (EX_TEMPFAIL) is retried; another exit status is permanent', async () => {
    const out = tempDir();
    const temp = await run('notify', ['--via', `sendmail:${FAKE_SENDMAIL}`, '--to', 'a@uni.org', '--timeout', '1s'], { input: INPUT, env: { FAKE_SENDMAIL_OUT: out, FAKE_SENDMAIL_EXIT: '75' } });
    expect(temp.exitCode, temp.stderr).toBe(0);
    expect(temp.records[0]).toMatchObject({ status: 'failed' });
    expect(temp.records[0]!.attempts).toBeGreaterThan(1);
    const perm = await run('notify', ['--via', `sendmail:${FAKE_SENDMAIL}`, '--to', 'a@uni.org', '--timeout', '5s'], { input: INPUT, env: { FAKE_SENDMAIL_EXIT: '1' } });
    expect(perm.records[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(perm.records[0]!.reason).toMatch(/failing with 1/);
  });

  it('fault: sendmail-missing — a missing program is a permanent failure, not a crash', async () => {
    const r = await run('notify', ['--via', 'sendmail:/nonexistent/sendmail', '--to', 'a@uni.org'], { input: INPUT });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.records[0]!.reason).toMatch(/no such program/);
  });
});
