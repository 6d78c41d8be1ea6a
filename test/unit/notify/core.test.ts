// The pure core of notify: rendering, classification, the retry loop with a fake clock, the
// --state decisions, and the library form over an array of records.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { summarizeEvents } from '../../../src/summary/summary.js';
import { checkSubjectTemplate, DEFAULT_SUBJECT, fingerprint, renderMessage, renderSubject } from '../../../src/notify/message.js';
import { headerSafe, isAddress, redactDeep } from '../../../src/notify/safe-text.js';
import { backoffDelay, classify, DeliveryError, withRetry } from '../../../src/notify/retry.js';
import { emptyState, recentSend, recordSend } from '../../../src/notify/repeat-state.js';
import { notifyRecords } from '../../../src/notify/stage.js';
import { composeMessage } from '../../../src/notify/compose.js';
import type { NotifyOptions } from '../../../src/notify/options.js';
import type { OutgoingMessage, Transport } from '../../../src/notify/transports/types.js';
import { createFileOutbox, safeName } from '../../../src/notify/transports/file-outbox.js';
import { safeHeaders } from '../../../src/notify/transports/mime.js';
import { collect } from '../../../src/stream/stage.js';
import { tempDir } from '../../helpers/run.js';
import type { JsonObject } from '../../../src/event/event.js';

function ev(email: string, category: string, message = 'msg', job: string | null = 'user_management'): JsonObject {
  return {
    event_type: 'error', category, message, action_needed: null, timestamp: '2026-11-21T10:00:00.000Z', event_id: `${email}-${category}`,
    user_context: { email, name: 'Unknown', center_id: null, registry_id: null, auth_email: null }, details: {}, source: { job, file: null, line: null },
  };
}

describe('renderMessage', () => {
  const summary = summarizeEvents([ev('a@x.org', 'Bad ORCID Claims'), ev('b@x.org', 'Bad ORCID Claims'), ev('b@x.org', 'Unverified Email')]) as unknown as JsonObject;

  it('names the job, counts, categories with actions, the CSV with location and instructions, users and summaries', () => {
    const m = renderMessage(summary, {
      exports: [{ path: '/data/run/errors.csv', file: 'errors.csv', rows: 3 }],
      instructions: 'download it', maxSummaries: 1,
    });
    expect(m.subject).toBe('[user_management] 3 errors need attention');
    expect(m.text).toContain('Errors: 3');
    expect(m.text).toContain('Affected users: 2');
    expect(m.text).toContain('  Bad ORCID Claims: 2\n    delete_bad_record_and_reclaim_with_institutional_idp: 2\n');
    expect(m.text).toContain('errors.csv (3 rows)');
    expect(m.text).toContain('Location: /data/run');
    expect(m.text).toContain('How to get it: download it');
    expect(m.text).toContain('First 1 of 3 errors:');
    expect(m.text).toContain('... and 2 more');
  });

  it('the default subject agrees in number; a custom --subject is used as written', () => {
    const one = summarizeEvents([ev('a@x.org', 'Unverified Email')]) as unknown as JsonObject;
    expect(renderMessage(one).subject).toBe('[user_management] 1 error needs attention');
    expect(renderMessage(summary).subject).toBe('[user_management] 3 errors need attention');
    const none = summarizeEvents([]) as unknown as JsonObject;
    expect(renderSubject(DEFAULT_SUBJECT, none, 'j')).toBe('[j] 0 errors need attention');
    expect(renderMessage(one, { subject: '{job}: {error_count} errors' }).subject).toBe('user_management: 1 errors');
  });

  it('names the files that were not attached, with the reason', () => {
    const m = renderMessage(summary, { attached: ['notes.txt'], notAttached: [{ path: 'out/big.csv', reason: '12.0 MiB, over the 10 MiB attachment limit' }, { path: 'gone.txt', reason: 'no such file' }] });
    expect(m.text).toContain('Attached: notes.txt\nNot attached: out/big.csv (12.0 MiB, over the 10 MiB attachment limit)\nNot attached: gone.txt (no such file)\n');
  });

  it('a secret in the job name is redacted in X-Batch-Job, the outbox file name and the record, as in the subject and body; no CR/LF in a header', async () => {
    const raw = 'nightly token=abcd1234efgh\r\nBcc: thief@evil.org';
    const s = summarizeEvents([ev('a@x.org', 'Unverified Email', 'm', raw)]) as unknown as JsonObject;
    const m = renderMessage(s);
    for (const text of [m.subject, m.text, ...Object.values(m.headers)]) expect(text).not.toContain('abcd1234efgh');
    expect(m.headers['X-Batch-Job']).toBe('nightly token=[REDACTED] Bcc: thief@evil.org');
    for (const h of [m.subject, ...Object.values(m.headers)]) expect(h).not.toMatch(/[\r\n]/);
    expect(safeName(raw)).not.toContain('abcd1234efgh');
    expect(safeName('nightly Bearer abc.def-123456')).toBe('nightly_REDACTED_');

    const dir = tempDir();
    const [rec] = await collect(notifyRecords([s], { transport: createFileOutbox(dir), to: ['a@x.org'] }));
    expect(JSON.stringify(rec)).not.toContain('abcd1234efgh');
    const [file] = readdirSync(dir);
    expect(file).not.toContain('abcd1234efgh');
    const eml = readFileSync(`${dir}/${file}`, 'latin1');
    expect(eml).not.toContain('abcd1234efgh');
    expect(eml).toMatch(/^X-Batch-Job: nightly token=\[REDACTED\] Bcc: thief@evil\.org\r$/m);
    expect(eml.split('\r\n\r\n')[0]).not.toMatch(/^Bcc:/im);
  });

  it('transports flatten header values again and drop malformed header names (messages built through the library API)', () => {
    expect(safeHeaders({ 'X-Batch-Job': 'a\r\nBcc: x@y.org', 'Bad Name\r\nBcc': 'v' })).toEqual({ 'X-Batch-Job': 'a Bcc: x@y.org' });
  });

  it('a transport that carries no files gets none; the body names them instead', async () => {
    const dir = tempDir();
    const notes = `${dir}/notes.txt`;
    writeFileSync(notes, 'n');
    const sent: OutgoingMessage[] = [];
    const noFiles: Transport = { name: 'webhook', needsRecipients: false, carriesAttachments: false, display: 'test', send: async (msg) => (sent.push(msg), { messageId: msg.messageId }) };
    const withFiles: Transport = { ...noFiles, name: 'file', carriesAttachments: undefined };
    const s = summarizeEvents([ev('a@x.org', 'Unverified Email')]) as unknown as JsonObject;
    await collect(notifyRecords([s], { transport: noFiles, attach: [notes] }));
    await collect(notifyRecords([s], { transport: withFiles, attach: [notes] }));
    expect(sent[0]!.attachments).toEqual([]);
    expect(sent[0]!.text).toContain(`Not attached: ${notes} (a webhook message carries no files)`);
    // Read when the message is composed, so a file removed before the send cannot fail it.
    expect(sent[1]!.attachments).toEqual([{ filename: 'notes.txt', path: notes, content: Buffer.from('n') }]);
    expect(sent[1]!.text).toContain('Attached: notes.txt');
  });

  it('subject templates: every field, and unknown fields are a usage error naming --subject', () => {
    expect(renderSubject('{job}|{error_count}|{success_count}|{total_events}|{affected_user_count}|{date}', summary, 'j')).toBe('j|3|0|3|2|2026-11-21');
    expect(() => checkSubjectTemplate('{jobb} x')).toThrow(/invalid --subject: may use .*got "\{jobb\}"/);
  });

  it('property: no CR, LF or other control character from the data reaches the subject or the headers', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (job, category) => {
        const s = summarizeEvents([ev('a@x.org', category || 'c', 'm', job || null)]) as unknown as JsonObject;
        const m = renderMessage(s, { subject: '{job} {error_count}' });
        for (const h of [m.subject, ...Object.values(m.headers)]) expect(h).not.toMatch(/[\r\n\u0000-\u001f\u007f\u2028\u2029]/);
      }),
      { numRuns: 200 },
    );
  });

  it('property: every body line is one line (data CR/LF are flattened)', () => {
    fc.assert(
      fc.property(fc.string(), (message) => {
        const s = summarizeEvents([ev('a@x.org', 'Unverified Email', message)]) as unknown as JsonObject;
        expect(renderMessage(s).text).not.toMatch(/\r/);
      }),
      { numRuns: 100 },
    );
  });

  it('redacts secrets in the body and in the structured summary', () => {
    const s = summarizeEvents([ev('a@x.org', 'Flywheel Error', 'api failed: token=abcd1234efgh Authorization: Bearer abc.def-123456')]) as unknown as JsonObject;
    const m = renderMessage(s);
    expect(m.text).not.toContain('abcd1234efgh');
    expect(m.text).not.toContain('abc.def-123456');
    expect(JSON.stringify(redactDeep({ ...s, password: 'p4ss', nested: { api_key: 'k' } }))).not.toMatch(/p4ss|"k"/);
  });

  it('headerSafe and isAddress refuse line breaks', () => {
    expect(headerSafe('a\r\nBcc: x@y')).toBe('a Bcc: x@y');
    expect(isAddress('a@b.org')).toBe(true);
    expect(isAddress('Support <a@b.org>')).toBe(true);
    expect(isAddress('a@b.org\r\nBcc: c@d.org')).toBe(false);
    expect(isAddress('not an address')).toBe(false);
  });

  it('property: the fingerprint ignores event order and repeats; changes with the user or category set', () => {
    const pool = [ev('a@x.org', 'Bad ORCID Claims'), ev('b@x.org', 'Unverified Email'), ev('c@x.org', 'Unverified Email')];
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: 1 }), fc.array(fc.nat(2), { maxLength: 5 }), (subset, repeats) => {
        const base = fingerprint(summarizeEvents(subset) as unknown as JsonObject);
        const shuffled = [...subset].reverse().concat(repeats.map((i) => subset[i % subset.length]!));
        expect(fingerprint(summarizeEvents(shuffled) as unknown as JsonObject)).toBe(base);
      }),
      { numRuns: 100 },
    );
    const one = fingerprint(summarizeEvents([pool[0]!]) as unknown as JsonObject);
    expect(fingerprint(summarizeEvents([pool[0]!, pool[1]!]) as unknown as JsonObject)).not.toBe(one);
  });
});

describe('delivery policy', () => {
  it('classifies transient and permanent failures', () => {
    expect(classify(Object.assign(new Error('x'), { responseCode: 451 }))).toBe('transient');
    expect(classify(Object.assign(new Error('x'), { responseCode: 550 }))).toBe('permanent');
    expect(classify(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('transient');
    expect(classify(Object.assign(new Error('x'), { code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe('permanent');
    expect(classify(new TypeError('fetch failed', { cause: Object.assign(new Error('c'), { code: 'ECONNRESET' }) }))).toBe('transient');
    expect(classify(new DeliveryError('x', 'transient', 503))).toBe('transient');
    expect(classify(new Error('something odd'))).toBe('permanent');
  });

  it('property: backoff grows, stays within [step/2, step] and under the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (n, r) => {
        const step = Math.min(5000, 250 * 2 ** (n - 1));
        const d = backoffDelay(n, () => r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(step / 2));
        expect(d).toBeLessThanOrEqual(step);
      }),
      { numRuns: 200 },
    );
  });

  function fakeClock() {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms), random: () => 0.5 };
  }

  it('retries transient failures until success (451, 451, ok → 3 attempts)', async () => {
    const replies = [451, 451];
    const r = await withRetry(async () => {
      const code = replies.shift();
      if (code) throw Object.assign(new Error(`${code} later`), { responseCode: code });
      return 'id';
    }, { timeoutMs: 30_000, ...fakeClock() });
    expect(r).toEqual({ ok: true, value: 'id', attempts: 3 });
  });

  it('stops at a permanent failure, and gives up when the budget is spent', async () => {
    const perm = await withRetry(async () => {
      throw Object.assign(new Error('550 no'), { responseCode: 550 });
    }, { timeoutMs: 30_000, ...fakeClock() });
    expect(perm).toMatchObject({ ok: false, attempts: 1, kind: 'permanent' });
    const clock = fakeClock();
    const spent = await withRetry(async () => {
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    }, { timeoutMs: 3_000, ...clock });
    expect(spent.ok).toBe(false);
    expect(spent.attempts).toBeGreaterThan(2);
    expect(clock.now()).toBeLessThanOrEqual(3_000);
    if (!spent.ok) expect(spent.reason).toMatch(/gave up after \d+ attempts/);
  });

  it('cuts an attempt off at the deadline (a hang becomes a transient timeout)', async () => {
    const r = await withRetry(() => new Promise<never>(() => {}), { timeoutMs: 100, maxAttempts: 1 });
    expect(r).toMatchObject({ ok: false, kind: 'transient', attempts: 1 });
  });

  it('--state: a repeat within the interval, not after it; old entries are pruned', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const entry = { sent_at: new Date(t0).toISOString(), job: 'j', subject: 's', transport: 'file' };
    let state = recordSend(emptyState(), 'fp', entry, t0, 86_400_000);
    expect(recentSend(state, 'fp', 4 * 3_600_000, t0 + 3_600_000)).toEqual(entry);
    expect(recentSend(state, 'fp', 4 * 3_600_000, t0 + 5 * 3_600_000)).toBeNull();
    expect(recentSend(state, 'other', 4 * 3_600_000, t0)).toBeNull();
    state = recordSend(state, 'fp2', { ...entry, sent_at: new Date(t0 + 2 * 86_400_000).toISOString() }, t0 + 2 * 86_400_000, 86_400_000);
    expect(Object.keys(state.sent)).toEqual(['fp2']);
  });
});

describe('notifyRecords (library API)', () => {
  it('summarizes events, passes other kinds through, names loose export records, and writes to the outbox', async () => {
    const dir = tempDir();
    const opts: NotifyOptions = { transport: createFileOutbox(dir), to: ['a@x.org'] };
    const out = await collect(notifyRecords([ev('a@x.org', 'Unverified Email'), { kind: 'audit', n: 1 }, { kind: 'export', path: 'out/e.csv', rows: 1 }], opts));
    expect(out[0]).toEqual({ kind: 'audit', n: 1 });
    expect(out[1]).toMatchObject({ kind: 'notification', status: 'written', transport: 'file', error_count: 1 });
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('one message per summary record', async () => {
    const dir = tempDir();
    const a = summarizeEvents([ev('a@x.org', 'Unverified Email')], { job: 'one' }) as unknown as JsonObject;
    const b = summarizeEvents([ev('b@x.org', 'Unverified Email')], { job: 'two' }) as unknown as JsonObject;
    const out = await collect(notifyRecords([a, b], { transport: createFileOutbox(dir), to: ['s@x.org'] }));
    expect(out.map((r) => [r.job, r.status])).toEqual([['one', 'written'], ['two', 'written']]);
  });

  it('--attach-exports attaches the exports in the summary and those beside it, each once, and the one rendered body says so', async () => {
    const dir = tempDir();
    for (const f of ['own.csv', 'loose.csv']) writeFileSync(`${dir}/${f}`, 'email\n');
    const s = { ...summarizeEvents([ev('a@x.org', 'Unverified Email')]), exports: [{ kind: 'export', path: `${dir}/own.csv`, file: 'own.csv', rows: 1 }] } as unknown as JsonObject;
    const loose = [{ path: `${dir}/loose.csv`, file: 'loose.csv', rows: 1, rowsByType: null, failed: null }, { path: `${dir}/own.csv`, file: 'own.csv', rows: 1, rowsByType: null, failed: null }];
    const c = await composeMessage(s, loose, [], { transport: createFileOutbox(dir), to: ['a@x.org'], attachExports: true, attach: [`${dir}/gone.csv`] });
    expect(c.attachments.map((a) => a.filename)).toEqual(['own.csv', 'loose.csv']);
    expect(c.message.text).toContain('Attached: own.csv, loose.csv\nNot attached: ' + `${dir}/gone.csv (no such file or directory)\n`);
    expect(c.missingAttachments).toBe(1);
    expect(c.record).toMatchObject({ kind: 'notification', status: 'skipped', subject: c.message.subject, error_count: 1 });
  });
});
