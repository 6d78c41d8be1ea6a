// examples/schedule/: the crontab line and the systemd service, run the way cron and systemd run
// them (env -i: a minimal PATH, HOME, no terminal, stdin from nowhere), on the example data.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { simpleParser } from 'mailparser';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/run.js';

const SCHEDULE = join(ROOT, 'examples/schedule');
const INSTALLED_AT = '/opt/batch-events';
const SEED_000 = ['email', 'name', 'center_id', 'registry_id', 'auth_email', 'category', 'message', 'action_needed', 'timestamp', 'event_id'];

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const utcDay = () => new Date().toISOString().slice(0, 10);

/** The crontab's variable lines and its one job's command (the part after the five time fields). */
function crontab(): { env: Record<string, string>; command: string } {
  const env: Record<string, string> = {};
  let command = '';
  for (const line of readFileSync(join(SCHEDULE, 'crontab'), 'utf8').split('\n')) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const v = /^([A-Za-z_]\w*)\s*=\s*(.*)$/.exec(line);
    if (v) env[v[1]!] = v[2]!;
    else command = line.trim().split(/\s+/).slice(5).join(' ');
  }
  return { env, command };
}

/** The service's Environment= lines and ExecStart=. */
function service(): { env: Record<string, string>; command: string } {
  const env: Record<string, string> = {};
  let command = '';
  for (const line of readFileSync(join(SCHEDULE, 'batch-events-export.service'), 'utf8').split('\n')) {
    const e = /^Environment=([A-Za-z_]\w*)=(.*)$/.exec(line);
    if (e) env[e[1]!] = e[2]!;
    const x = /^ExecStart=(.*)$/.exec(line);
    if (x) command = x[1]!;
  }
  return { env, command };
}

/**
 * Runs a scheduled command under `env -i`, as the scheduler would, from this checkout instead of
 * /opt/batch-events, writing into `dir`. NODE is this test's node (the example says /usr/bin/node,
 * which is where Debian puts it; a machine with node elsewhere sets NODE, as the docs say).
 */
async function runScheduled(job: { env: Record<string, string>; command: string }, dir: string, path: string) {
  const env = { ...job.env, EXPORT_DIR: dir, NODE: process.execPath };
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${sq(v)}`).join(' ');
  const command = job.command.replaceAll(INSTALLED_AT, ROOT);
  return execa('env', ['-i', `PATH=${path}`, `HOME=${homedir()}`, 'sh', '-c', `${assignments} ${command}`], { stdin: 'ignore', reject: false, env: {}, extendEnv: false });
}

async function checkRun(dir: string, before: string, after: string) {
  const csvName = [before, after].map((d) => `errors-${d}.csv`).find((f) => existsSync(join(dir, f)));
  expect(csvName, readdirSync(dir).join(' ')).toBeDefined();
  const csv = readFileSync(join(dir, csvName!), 'utf8');
  const py = await execa('python3', ['-c', 'import csv,sys,json; print(json.dumps(list(csv.reader(sys.stdin))))'], { input: csv });
  const rows: string[][] = JSON.parse(py.stdout);
  expect(rows[0]).toEqual(SEED_000);
  expect(rows.length).toBeGreaterThan(10);
  const outbox = readdirSync(join(dir, 'outbox'));
  expect(outbox).toHaveLength(1);
  const mail = await simpleParser(readFileSync(join(dir, 'outbox', outbox[0]!)));
  expect(mail.subject).toBe(`[user_management] ${rows.length - 1} errors need attention`);
  expect((mail.to as { text: string }).text).toBe('support@example.org');
  expect(mail.attachments.map((a) => a.filename)).toEqual([csvName]);
  expect(mail.attachments[0]!.content.toString('utf8')).toBe(csv);
  expect(mail.text).toContain(`Attached: ${csvName}`);
  const audit = readFileSync(join(dir, 'audit.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({ kind: 'export', file: csvName, rows: rows.length - 1, redaction: 'on' });
  // umask 027 in the script: the exports are not readable by other users.
  expect(statSync(join(dir, csvName!)).mode & 0o007).toBe(0);
  return { csvName: csvName! };
}

describe('examples/schedule: cron and systemd run the daily export', () => {
  it('the crontab line under env -i PATH=/usr/bin:/bin HOME=…: a dated CSV and one message with it attached; an overlapping run does nothing', async () => {
    const dir = tempDir('be-cron-');
    const job = crontab();
    expect(job.command).toBe(`${INSTALLED_AT}/examples/schedule/daily-export.sh`);
    const before = utcDay();
    const r = await runScheduled(job, dir, '/usr/bin:/bin');
    const after = utcDay();
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(r.stdout).toBe('');
    const { csvName } = await checkRun(dir, before, after);
    expect(String(r.stderr)).toContain(`daily-export: `);

    // A second run while the first still holds the lock does not run at all.
    const lock = join(dir, '.daily-export.lock');
    // The holder execs into sleep, so killing it ends the lock's only holder (no orphan keeps it).
    const holder = execa('sh', ['-c', 'exec 9>>"$1"; flock 9; echo locked; exec sleep 120', 'sh', lock], { reject: false });
    try {
      await new Promise<void>((res) => holder.stdout!.once('data', () => res()));
      const mtime = statSync(join(dir, csvName)).mtimeMs;
      const second = await runScheduled(job, dir, '/usr/bin:/bin');
      expect(second.exitCode).toBe(0);
      expect(String(second.stderr)).toBe(`daily-export: another run holds ${lock}; this run does nothing`);
      expect(readdirSync(join(dir, 'outbox'))).toHaveLength(1);
      expect(statSync(join(dir, csvName)).mtimeMs).toBe(mtime);
    } finally {
      holder.kill();
      await holder;
    }
  }, 180_000);

  it('the systemd service\'s ExecStart with its Environment=, under systemd\'s default PATH: the same result', async () => {
    const dir = tempDir('be-timer-');
    const job = service();
    expect(job.command).toBe(`${INSTALLED_AT}/examples/schedule/daily-export.sh`);
    expect(readFileSync(join(SCHEDULE, 'batch-events-export.timer'), 'utf8')).toMatch(/^OnCalendar=\*-\*-\* 06:15:00 UTC$/m);
    const before = utcDay();
    const r = await runScheduled(job, dir, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin');
    const after = utcDay();
    expect(r.exitCode, String(r.stderr)).toBe(0);
    await checkRun(dir, before, after);
  }, 120_000);

  it('a node that is not where NODE says is one clear line, not a cryptic failure', async () => {
    const dir = tempDir('be-cron-');
    const r = await execa('env', ['-i', 'PATH=/usr/bin:/bin', `HOME=${homedir()}`, 'sh', '-c', `EXPORT_DIR=${sq(dir)} NODE=/nowhere/node ${sq(join(SCHEDULE, 'daily-export.sh'))}`], { stdin: 'ignore', reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(`daily-export: node not found at /nowhere/node; set NODE=/path/to/node (>= 20) at the top of ${join(SCHEDULE, 'daily-export.sh')} or in the crontab/service`);
    expect(readdirSync(dir)).toEqual([]);
  });
});
