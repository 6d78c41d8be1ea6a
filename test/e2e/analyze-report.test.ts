// analyze --format html, -o FILE and --compare, run as the real binary.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ndjson, run, tempDir } from '../helpers/run.js';

const ev = (i: number, category: string, email: string, type = 'error') => ({
  event_id: `e${i}`,
  timestamp: `2026-11-21T10:${String(i).padStart(2, '0')}:00.000Z`,
  event_type: type,
  category,
  message: `m${i}`,
  action_needed: null,
  user_context: { email, name: 'Unknown', center_id: 1, registry_id: null, auth_email: null },
  source: { job: 'nightly' },
});
const EVENTS = [ev(1, 'Bad ORCID Claims', 'a@x.org'), ev(2, 'Bad ORCID Claims', 'b@x.org'), ev(3, 'Unverified Email', 'a@x.org'), ev(4, 'User Successfully Created', 'c@x.org', 'success')];

describe('analyze --format html', () => {
  it('writes one self-contained page on stdout, and no JSON', async () => {
    const r = await run('analyze', ['--format', 'html'], { input: ndjson(EVENTS) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^<!doctype html>/);
    expect(r.stdout).toContain('Bad ORCID Claims');
    expect(r.stdout).not.toContain('"kind"');
    expect(r.stderr).toBe('');
  });

  it('-o FILE writes the report atomically and stdout carries the summary records (the pipeline goes on)', async () => {
    const dir = tempDir();
    const file = join(dir, 'report.html');
    const r = await run('analyze', ['-o', file], { input: ndjson([...EVENTS, { kind: 'export', path: '/x/errors.csv', rows: 3 }]) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records.map((x) => x.kind)).toEqual(['export', 'summary']);
    expect(r.records[1]).toMatchObject({ error_count: 3, errors_over_time: { bucket: '1m', untimed: 0 } });
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('/x/errors.csv');
    expect(readdirSync(dir)).toEqual(['report.html']);
  });

  it('renders a summary it reads (analyze --format html < summary.json) as it is', async () => {
    const s = await run('analyze', ['--max-users', '1'], { input: ndjson(EVENTS) });
    const r = await run('analyze', ['--format', 'html'], { input: s.stdout });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 errors/);
    expect(r.stdout).toContain('… and 1 more user');
  });

  it('--compare PREVIOUS: per category what is new, resolved, still failing', async () => {
    const dir = tempDir();
    const prev = join(dir, 'previous.json');
    const before = await run('analyze', [], { input: ndjson([ev(1, 'Bad ORCID Claims', 'a@x.org'), ev(5, 'Flywheel Error', 'z@x.org')]) });
    writeFileSync(prev, before.stdout);
    const r = await run('analyze', ['--format', 'html', '--compare', prev], { input: ndjson(EVENTS) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/data-category="Unverified Email" data-change="new"/);
    expect(r.stdout).toMatch(/data-category="Bad ORCID Claims" data-change="still failing"/);
    expect(r.stdout).toMatch(/data-category="Flywheel Error" data-change="resolved"/);
  });

  it('usage and file errors: one line, exit 2 for flags, exit 1 for an unreadable --compare file', async () => {
    const json = await run('analyze', ['--format', 'json', '-o', 'x.html'], { input: '' });
    expect(json.exitCode).toBe(2);
    expect(json.stderr).toMatch(/^analyze: invalid --output: writes a report: give --format html or table/);
    const cmp = await run('analyze', ['--compare', 'prev.json'], { input: '' });
    expect(cmp.exitCode).toBe(2);
    expect(cmp.stderr).toMatch(/^analyze: invalid --compare: needs --format html/);
    const part = await run('analyze', ['--partial', '--format', 'html'], { input: '' });
    expect(part.exitCode).toBe(2);
    const missing = await run('analyze', ['--format', 'html', '--compare', '/nonexistent/prev.json'], { input: ndjson(EVENTS) });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual(['analyze: /nonexistent/prev.json: cannot read the --compare file: no such file or directory']);
    expect(missing.stdout).toBe('');
    const dir = tempDir();
    const bad = join(dir, 'out', 'report.html');
    const nodir = await run('analyze', ['-o', bad], { input: ndjson(EVENTS) });
    expect(nodir.exitCode).toBe(1);
    expect(existsSync(bad)).toBe(false);
  });
});
