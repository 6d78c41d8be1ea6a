// process --now TIME: the timestamp of events whose input carries none, so that two runs on
// the same input give byte-identical output.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, ndjson, run } from '../helpers/run.js';

const data = (f: string) => join(ROOT, 'examples/data', f);

describe('process --now', () => {
  it('two runs on the same input with the same --now print byte-identical output', async () => {
    const args = ['--now', '2026-11-21T08:00:00Z', '--job', 'user_management', '--registry', data('registry.ndjson'), data('directory.ndjson')];
    const [a, b] = await Promise.all([run('process', args), run('process', args)]);
    expect(a.exitCode).toBe(0);
    expect(a.records.length).toBeGreaterThan(10);
    expect(a.records.every((e) => e.timestamp === '2026-11-21T08:00:00.000Z')).toBe(true);
    expect(b.stdout).toBe(a.stdout);
  });

  it('applies to partial events without a timestamp and log lines without a prefix; times in the input win', async () => {
    const events = ndjson([
      { event_type: 'error', category: 'Flywheel Error', user_context: { email: 'a@x.edu' } },
      { event_type: 'error', category: 'Flywheel Error', user_context: { email: 'b@x.edu' }, timestamp: '2026-01-02T03:04:05Z' },
    ]);
    const ev = await run('process', ['--now', '2026-11-21T09:30:00+01:00'], { input: events });
    expect(ev.records.map((e) => e.timestamp)).toEqual(['2026-11-21T08:30:00.000Z', '2026-01-02T03:04:05.000Z']);

    const log = 'User a@x.edu must have authentication email\n2026-11-21 10:15:30,123 ERROR [app] User b@x.edu must have authentication email\n';
    const lg = await run('process', ['--from', 'log', '--now', '2026-11-21'], { input: log });
    expect(lg.records.map((e) => e.timestamp)).toEqual(['2026-11-21T00:00:00.000Z', '2026-11-21T10:15:30.123Z']);
  });

  it('a time without an offset is UTC, whatever the machine\'s time zone', async () => {
    const input = ndjson([{ email: 'a@x.edu', auth_email: 'a@x.edu', center_id: 1, authorizations: [{ study_id: 's' }] }]);
    const r = await run('process', ['--now', '2026-11-21 10:00'], { input, env: { TZ: 'America/New_York' } });
    expect(r.records[0]!.timestamp).toBe('2026-11-21T10:00:00.000Z');
  });

  it.each(['yesterday', '4h', '2026-02-30', '2026-11-21T25:00:00Z', 'Nov 21 2026', ''])('%j is a usage error (exit 2), before any input is read', async (value) => {
    const r = await run('process', ['--now', value], { input: '{"email":"a@x.edu"}\n' });
    expect(r.exitCode).toBe(2);
    expect(r.records).toEqual([]);
    expect(r.stderr).toBe(`process: invalid --now: must be an ISO 8601 date or date-time (2026-11-21, 2026-11-21T10:00:00Z), got ${JSON.stringify(value)}\n`);
  });

  it('--help describes it', async () => {
    const r = await run('process', ['--help']);
    expect(r.stdout).toMatch(/--now TIME +Timestamp \(ISO 8601/);
  });
});
