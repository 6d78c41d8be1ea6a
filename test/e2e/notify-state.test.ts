import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ndjson, run, tempDir } from '../helpers/run.js';

function event(email: string, category = 'Unverified Email') {
  return {
    event_type: 'error',
    category,
    message: 'something to fix',
    timestamp: '2026-11-21T10:00:00.000Z',
    user_context: { email, name: 'Unknown', center_id: 1, registry_id: null, auth_email: null },
    source: { job: 'user_management', file: 'dir.csv', line: 1 },
  };
}
const SAME = ndjson([event('a@uni.org'), event('b@uni.org', 'Bad ORCID Claims')]);
const OTHER = ndjson([event('a@uni.org'), event('c@uni.org', 'Bad ORCID Claims')]);
const T0 = '2026-11-21T12:00:00.000Z';
const at = (hours: number) => new Date(Date.parse(T0) + hours * 3_600_000).toISOString();

describe('notify --state FILE --repeat-interval (the same errors are not sent twice within the interval)', () => {
  it('sends, skips a repeat within the interval, sends after it, and sends a different error set at once', async () => {
    const dir = tempDir();
    const state = join(dir, 'state', 'notify.json');
    const args = ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--state', state, '--repeat-interval', '4h'];
    const first = await run('notify', args, { input: SAME, env: { NOTIFY_NOW: T0 } });
    expect(first.records[0]).toMatchObject({ status: 'written' });
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    expect(saved.sent[first.records[0]!.fingerprint].sent_at).toBe(T0);

    const repeat = await run('notify', args, { input: SAME, env: { NOTIFY_NOW: at(1) } });
    expect(repeat.exitCode, repeat.stderr).toBe(0);
    expect(repeat.records[0]).toMatchObject({ status: 'skipped', attempts: 0, fingerprint: first.records[0]!.fingerprint });
    expect(repeat.records[0]!.reason).toBe(`repeat: the same errors were sent at ${T0}`);

    const other = await run('notify', args, { input: OTHER, env: { NOTIFY_NOW: at(1) } });
    expect(other.records[0]).toMatchObject({ status: 'written' });
    expect(other.records[0]!.fingerprint).not.toBe(first.records[0]!.fingerprint);

    const later = await run('notify', args, { input: SAME, env: { NOTIFY_NOW: at(5) } });
    expect(later.records[0]).toMatchObject({ status: 'written' });
    expect(readdirSync(join(dir, 'box'))).toHaveLength(3);
    expect(readdirSync(join(dir, 'state'))).toEqual(['notify.json']);
  });

  it('the fingerprint ignores order and counts: the same users and categories in another order are a repeat', async () => {
    const dir = tempDir();
    const args = ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--state', join(dir, 's.json')];
    await run('notify', args, { input: SAME, env: { NOTIFY_NOW: T0 } });
    const shuffled = ndjson([event('b@uni.org', 'Bad ORCID Claims'), event('a@uni.org'), event('a@uni.org')]);
    const r = await run('notify', args, { input: shuffled, env: { NOTIFY_NOW: at(3) } });
    expect(r.records[0]).toMatchObject({ status: 'skipped' });
  });

  it('fault: state-concurrent-notify — two notifies at once with one state file: exactly one sends, the other sees it as a repeat', async () => {
    const dir = tempDir();
    const args = ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--state', join(dir, 's.json')];
    const [a, b] = await Promise.all([run('notify', args, { input: SAME }), run('notify', args, { input: SAME })]);
    const statuses = [a.records[0]!.status, b.records[0]!.status].sort();
    expect(statuses).toEqual(['skipped', 'written']);
    expect(readdirSync(join(dir, 'box'))).toHaveLength(1);
    expect(readdirSync(dir).sort()).toEqual(['box', 's.json']);
  });

  it('fault: state-corrupt — a corrupt state file does not stop the alert; it is rewritten', async () => {
    const dir = tempDir();
    const state = join(dir, 's.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(state, '{not json');
    const r = await run('notify', ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--state', state], { input: SAME });
    expect(r.records[0]).toMatchObject({ status: 'written' });
    expect(JSON.parse(readFileSync(state, 'utf8')).version).toBe(1);
  });

  it('fault: state-failed-not-recorded — a failed delivery is not recorded, so the next run tries again', async () => {
    const dir = tempDir();
    const state = join(dir, 's.json');
    const failed = await run('notify', ['--via', 'sendmail:/nonexistent/sendmail', '--to', 'a@uni.org', '--state', state], { input: SAME });
    expect(failed.records[0]).toMatchObject({ status: 'failed' });
    const again = await run('notify', ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--state', state], { input: SAME });
    expect(again.records[0]).toMatchObject({ status: 'written' });
  });
});
