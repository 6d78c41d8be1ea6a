// Issue 8: closed pipes. Each binary's output is far larger than a pipe buffer, so `| head -n 1`
// closes the pipe while the binary is still writing: it must end quietly with exit 0 (under
// `bash -o pipefail`, so a non-zero exit would show). And a pipeline of all five ends 0.
import { beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { parse } from 'csv-parse/sync';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, binPath, nodeFlags, tempDir, type Binary } from '../helpers/run.js';

const work = tempDir('be-pipes-');
const cmd = (name: Binary, args: string) => `"${process.execPath}" ${nodeFlags(name).join(' ')} "${binPath(name)}" ${args}`;
const bash = (script: string) => execa('bash', ['-o', 'pipefail', '-c', script], { cwd: work, reject: false, env: { NO_COLOR: '1', NOTIFY_TO: '' } });

const CATEGORIES = ['Bad ORCID Claims', 'Unverified Email', 'Unclaimed Records'];
function events(n: number, users: number): string {
  return (
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        timestamp: new Date(Date.UTC(2026, 10, 21, 10) + i * 1000).toISOString(),
        event_type: 'error',
        category: CATEGORIES[i % 3],
        message: `message ${i}, "quoted" ü`,
        action_needed: 'fix_it',
        user_context: { email: `u${i % users}@uni.org`, name: `User ${i % users}`, center_id: 7, registry_id: null, auth_email: null },
        details: {},
        source: { job: 'pipes', file: 'dir.csv', line: i + 1 },
      }),
    ).join('\n') + '\n'
  );
}

// The example directory's rows, repeated with distinct emails: CSV for import-csv, NDJSON for process.
function directoryCsv(copies: number): string {
  const [header, ...rows] = readFileSync(join(ROOT, 'examples/data/directory.csv'), 'utf8').trim().split('\n');
  const out = [header];
  for (let k = 0; k < copies; k++) for (const row of rows) out.push(row.replace(/^("?)([^@",]+)@/, `$1$2.${k}@`));
  return out.join('\n') + '\n';
}
function directoryNdjson(copies: number): string {
  const rows = readFileSync(join(ROOT, 'examples/data/directory.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const out: string[] = [];
  for (let k = 0; k < copies; k++) for (const r of rows) out.push(JSON.stringify({ ...r, email: String(r.email).replace('@', `.${k}@`) }));
  return out.join('\n') + '\n';
}

beforeAll(async () => {
  writeFileSync(join(work, 'directory.ndjson'), directoryNdjson(300));
  writeFileSync(join(work, 'directory.csv'), directoryCsv(1000));
  writeFileSync(join(work, 'events.ndjson'), events(20_000, 2_000));
  const csv = await bash(`${cmd('export-csv', '--no-redact --no-escape-formulas')} < events.ndjson > events.csv`);
  expect(csv.exitCode, String(csv.stderr)).toBe(0);
  writeFileSync(join(work, 'events-800.ndjson'), events(4_000, 800));
  const sums = await bash(`${cmd('analyze', '--by user')} < events-800.ndjson > summaries.ndjson`);
  expect(sums.exitCode, String(sums.stderr)).toBe(0);
});

// Each binary, its arguments and input, and what its first line must be.
const CASES: Array<{ name: Binary; args: string; first: (line: string) => void; after?: () => void }> = [
  // An NDJSON stdout opens with its run record (docs/run-records.md): that is the first line.
  { name: 'process', args: '--job pipes < directory.ndjson', first: (l) => expect(JSON.parse(l)).toEqual({ kind: 'run', tool: 'process', status: 'started' }) },
  { name: 'analyze', args: '--by user < events.ndjson', first: (l) => expect(JSON.parse(l)).toEqual({ kind: 'run', tool: 'analyze', status: 'started' }) },
  { name: 'export-csv', args: '< events.ndjson', first: (l) => expect(l).toBe('email,name,center_id,registry_id,auth_email,category,message,action_needed,timestamp,event_id') },
  { name: 'import-csv', args: 'events.csv', first: (l) => expect(JSON.parse(l)).toEqual({ kind: 'run', tool: 'import-csv', status: 'started' }) },
  // -q: notify reports each message it writes on stderr; quiet leaves only what a closed pipe would add.
  // Its messages are the product and its records only report them: a closed stdout does not
  // stop the deliveries (no alert is lost because a reader went away), so all 800 are in the outbox.
  {
    name: 'notify',
    args: '-q --via file:outbox-head --to support@uni.org < summaries.ndjson',
    first: (l) => expect(JSON.parse(l)).toEqual({ kind: 'run', tool: 'notify', status: 'started' }),
    after: () => expect(readdirSync(join(work, 'outbox-head'))).toHaveLength(800),
  },
];

describe('closed pipes', () => {
  for (const c of CASES) {
    it(`fault: pipe-head — ${c.name} | head -n 1 under pipefail: exit 0, nothing on stderr`, async () => {
      // The whole output, counted: several times the 64 KiB a pipe holds, so head closes it mid-run.
      const full = await bash(`${cmd(c.name, c.args.replace('outbox-head', 'outbox-full'))} | wc -c`);
      expect(full.exitCode, String(full.stderr)).toBe(0);
      expect(Number(String(full.stdout).trim())).toBeGreaterThan(256 * 1024);
      const r = await bash(`${cmd(c.name, c.args)} | head -n 1`);
      expect(String(r.stderr)).toBe('');
      expect(r.exitCode).toBe(0);
      const lines = String(r.stdout).split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      c.first(lines[0]!);
      c.after?.();
    });
  }

  // Once its reader is gone export-csv stops (as every filter does) and does not commit the file:
  // the old file stays, whole. What must never happen is a partial file published with exit 0.
  it('fault: pipe-head-pass-through — export-csv --pass-through -o F | head -n 1: exit 0, quiet, F the old file or the complete new one', async () => {
    writeFileSync(join(work, 'passed.csv'), 'old\n');
    const r = await bash(`${cmd('export-csv', '--pass-through -o passed.csv < events.ndjson')} | head -n 1`);
    expect(String(r.stderr)).toBe('');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(String(r.stdout))).toEqual({ kind: 'run', tool: 'export-csv', status: 'started' });
    const after = readFileSync(join(work, 'passed.csv'), 'utf8');
    if (after !== 'old\n') expect((parse(after) as string[][]).slice(1)).toHaveLength(20_000);
  });

  it('fault: pipe-all-five — import-csv | process | export-csv --pass-through | analyze | notify under set -o pipefail ends 0', async () => {
    const script = [
      'set -o pipefail',
      `${cmd('import-csv', 'directory.csv')} | ${cmd('process', `--job user_management --registry "${join(ROOT, 'examples/data/registry.ndjson')}"`)} | ${cmd('export-csv', '--pass-through --type error -o errors.csv')} | ${cmd('analyze', '')} | ${cmd('notify', '-q --via file:all-five --to support@uni.org')} > notification.ndjson`,
      'status=$?',
      'echo "PIPESTATUS $status" >&2',
      'exit $status',
    ].join('\n');
    const r = await bash(script);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const notes = readFileSync(join(work, 'notification.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((n) => n.kind === 'notification');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ kind: 'notification', status: 'written', job: 'user_management', complete: true });
    const rows = (parse(readFileSync(join(work, 'errors.csv'))) as string[][]).slice(1);
    expect(rows.length).toBeGreaterThan(1000);
    expect(notes[0]!.error_count).toBe(rows.length);
    expect(readdirSync(join(work, 'all-five'))).toHaveLength(1);
  });
});
