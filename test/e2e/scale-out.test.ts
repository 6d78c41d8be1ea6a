// Multi-host scale-out on an existing engine (README "Scale-out"): GNU parallel --sshlogin to two
// "hosts", each a loopback sshd this test starts itself (its own host key, an authorized key and a
// config in a temp dir; not the system's sshd service). Both hosts run the checkout's binaries by
// absolute path (same machine). Checked:
// - `process | export-csv --no-header` over the parts of one directory: the concatenated CSV has
//   every row once, and equals one process's export of the same parts;
// - `parallel --pipe` blocks of the events through `analyze --partial`, then `analyze --merge`:
//   exactly the summary of one `analyze` over all the events.
// Skipped, saying why, where sshd, ssh, ssh-keygen or parallel is missing or sshd cannot start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, execaSync, type ResultPromise } from 'execa';
import { createServer, connect } from 'node:net';
import { existsSync, mkdirSync, readFileSync, rmdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binPath, nodeFlags, ROOT, tempDir, type Binary } from '../helpers/run.js';

const NOW = '2026-11-21T08:00:00Z';
const HOSTS = ['h1', 'h2'] as const;

function which(cmd: string): string | null {
  try {
    return execaSync('sh', ['-c', `command -v ${cmd}`]).stdout.trim() || null;
  } catch {
    return null;
  }
}

// sshd must be started by its absolute path; Debian puts it in /usr/sbin, often not on PATH.
const SSHD = ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((p) => existsSync(p)) ?? which('sshd');
const missing = [
  ['sshd (apt-get install openssh-server)', SSHD],
  ['ssh', which('ssh')],
  ['ssh-keygen', which('ssh-keygen')],
  ['GNU parallel (apt-get install parallel)', which('parallel')],
]
  .filter(([, found]) => !found)
  .map(([name]) => name);

/** A shell word: the remote side runs the command through the login shell. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** The command line that runs one of this checkout's binaries, as its launcher would. */
const bin = (name: Binary, ...args: string[]) => [process.execPath, ...nodeFlags(name), binPath(name), ...args].map(q).join(' ');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

let skipReason: string | null = missing.length ? `not installed: ${missing.join(', ')}` : null;
let dir = '';
let madeRunDir = false;
const daemons: Array<{ port: number; child: ResultPromise }> = [];

beforeAll(async () => {
  if (skipReason) return;
  dir = tempDir('be-scale-out-');
  const keygen = (name: string) => execaSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'scale-out-test', '-f', join(dir, name)]);
  keygen('host_key');
  keygen('client_key');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  // Run as root, sshd insists on its privilege separation directory (the service unit makes it).
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) {
    try {
      mkdirSync('/run/sshd', { mode: 0o755 });
      madeRunDir = true;
    } catch (err) {
      skipReason = `sshd needs /run/sshd and it cannot be made: ${(err as Error).message}`;
      return;
    }
  }
  const user = execaSync('id', ['-un']).stdout.trim();
  let sshConfig = '';
  for (const host of HOSTS) {
    const port = await freePort();
    const cfg = join(dir, `sshd_${host}.conf`);
    writeFileSync(
      cfg,
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, `sshd_${host}.pid`)}`,
        // The keys live in a temp dir that sshd's ownership checks would refuse.
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    // -D: sshd stays this test's child (no daemonizing), in its own process group (detached)
    // so that it and any session it forked are killed together at the end.
    const child = execa(SSHD!, ['-D', '-e', '-f', cfg], { detached: true, reject: false, stdin: 'ignore' });
    daemons.push({ port, child });
    sshConfig += `Host ${host}\n  HostName 127.0.0.1\n  Port ${port}\n`;
  }
  sshConfig += [
    'Host *',
    `  User ${user}`,
    `  IdentityFile ${join(dir, 'client_key')}`,
    '  IdentitiesOnly yes',
    '  StrictHostKeyChecking no',
    '  UserKnownHostsFile /dev/null',
    '  GlobalKnownHostsFile /dev/null',
    '  LogLevel ERROR',
    '  BatchMode yes',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'ssh_config'), sshConfig);
  for (const d of daemons) {
    const deadline = Date.now() + 20_000;
    while (!(await accepts(d.port))) {
      if (d.child.exitCode !== null || Date.now() > deadline) {
        d.child.kill();
        const r = await d.child;
        skipReason = `sshd did not start on 127.0.0.1:${d.port}: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const probe = await execa('ssh', ['-F', join(dir, 'ssh_config'), 'h1', 'true'], { reject: false });
  if (probe.exitCode !== 0) skipReason = `ssh to the test's sshd failed: ${probe.stderr.trim()}`;
}, 60_000);

afterAll(async () => {
  for (const d of daemons) {
    try {
      process.kill(-d.child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    await d.child;
  }
  // Nothing this test started is left listening, or running with its config.
  for (const d of daemons) expect(await accepts(d.port), `port ${d.port} still accepts`).toBe(false);
  if (dir) {
    const ps = execaSync('ps', ['-eo', 'pid=,args=']).stdout.split('\n').filter((l) => l.includes(dir));
    expect(ps).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }
  if (madeRunDir && readdirSync('/run/sshd').length === 0) rmdirSync('/run/sshd');
}, 60_000);

/** GNU parallel to the two hosts, with a HOME of its own (it keeps state in ~/.parallel). */
async function parallel(args: string[], input?: string) {
  const r = await execa(
    'parallel',
    ['--will-cite', '--ssh', `ssh -F ${join(dir, 'ssh_config')}`, '--sshlogin', HOSTS.join(','), '--joblog', join(dir, 'joblog'), ...args],
    { input, reject: false, env: { HOME: dir, LC_ALL: 'C' }, maxBuffer: 1e9 },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  const hosts = new Set(readFileSync(join(dir, 'joblog'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[1]));
  rmSync(join(dir, 'joblog'));
  return { stdout: String(r.stdout), hosts };
}

/**
 * The example directory and registry made into COPIES distinct sets of people (emails, names and
 * registry ids suffixed with the copy number), one part file per PER_PART copies: every rule of
 * the pack fires, and no person appears in two parts (duplicates are found within a process).
 */
const COPIES = 24;
const PER_PART = 6;
function makeInput(): { parts: string[]; registry: string } {
  const lines = (f: string) => readFileSync(join(ROOT, 'examples/data', f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const entries = lines('directory.ndjson');
  const persons = lines('registry.ndjson');
  const mail = (m: unknown, n: number) => (typeof m === 'string' ? m.replace('@', `.${n}@`) : m);
  const parts: string[] = [];
  let part = '';
  const registry: string[] = [];
  for (let n = 0; n < COPIES; n++) {
    for (const e of entries) {
      const c = { ...e, email: mail(e.email, n), auth_email: mail(e.auth_email, n) };
      if (typeof e.name === 'string') c.name = `${e.name}${n}`;
      else if (e.name) c.name = { ...e.name, last_name: `${e.name.last_name}${n}` };
      if (typeof e.registry_id === 'string') c.registry_id = `${e.registry_id}-${n}`;
      part += `${JSON.stringify(c)}\n`;
    }
    for (const p of persons) {
      registry.push(
        JSON.stringify({
          ...p,
          registry_id: `${p.registry_id}-${n}`,
          name: `${p.name}${n}`,
          emails: p.emails.map((e: { mail: string }) => ({ ...e, mail: mail(e.mail, n) })),
          org_identities: p.org_identities.map((o: { email?: string }) => ({ ...o, email: mail(o.email, n) })),
        }),
      );
    }
    if ((n + 1) % PER_PART === 0) {
      const path = join(dir, `directory-part${parts.length + 1}.ndjson`);
      writeFileSync(path, part);
      parts.push(path);
      part = '';
    }
  }
  const reg = join(dir, 'registry.ndjson');
  writeFileSync(reg, registry.join('\n') + '\n');
  return { parts, registry: reg };
}

/** The summary record of analyze's stdout (which opens and closes with run records), without its clock. */
const dropGeneratedAt = (stdout: string) => {
  const line = stdout.split('\n').find((l) => l.startsWith('{"kind":"summary"'))!;
  const { generated_at, ...rest } = JSON.parse(line);
  void generated_at;
  return rest;
};

describe('GNU parallel --sshlogin to two loopback sshd hosts', () => {
  it('process | export-csv --no-header and analyze --partial on both hosts equal one process', async (ctx) => {
    if (skipReason) {
      console.warn(`scale-out test skipped: ${skipReason}`);
      ctx.skip(skipReason);
    }
    const { parts, registry } = makeInput();
    const processArgs = ['--now', NOW, '--job', 'user_management', '--registry', registry];

    // One process over the same parts: the reference rows and events.
    const one = await execa('sh', ['-c', `${bin('process', ...processArgs, ...parts)} > ${q(join(dir, 'events.ndjson'))}`]);
    expect(one.stderr).toBe('');
    const oneCsv = String((await execa('sh', ['-c', `${bin('export-csv', '--no-header')} < ${q(join(dir, 'events.ndjson'))}`])).stdout);
    const oneRows = oneCsv.split('\n');
    expect(oneRows.length).toBeGreaterThanOrEqual(COPIES * 18);

    // Each part on one of the hosts; -k keeps the parts' order in the output.
    const rows = await parallel(['-k', `${bin('process', ...processArgs)} {} | ${bin('export-csv', '--no-header')}`, ':::', ...parts]);
    expect(rows.hosts).toEqual(new Set(HOSTS));
    const got = rows.stdout.replace(/\n$/, '').split('\n');
    expect([...got].sort()).toEqual([...oneRows].sort());
    expect(rows.stdout.replace(/\n$/, '')).toBe(oneCsv);
    // Every row once: the event ids (last column) are distinct.
    expect(new Set(got.map((r) => r.slice(r.lastIndexOf(',') + 1))).size).toBe(got.length);

    // Blocks of the events through analyze --partial on both hosts, one merge here.
    const events = readFileSync(join(dir, 'events.ndjson'), 'utf8');
    const caps = ['--max-users', '20', '--max-summaries', '25', '--max-errors-per-user', '2'];
    const partials = await parallel(['--pipe', '--block', `${Math.ceil(events.length / 6)}`, bin('analyze', '--partial', ...caps)], events);
    expect(partials.hosts).toEqual(new Set(HOSTS));
    expect(partials.stdout.split('\n').filter((l) => l.includes('"kind":"summary_partial"')).length).toBeGreaterThan(2);
    const merged = await execa(process.execPath, [...nodeFlags('analyze'), binPath('analyze'), '--merge'], { input: partials.stdout });
    const whole = await execa(process.execPath, [...nodeFlags('analyze'), binPath('analyze'), ...caps], { input: events });
    const summary = dropGeneratedAt(String(merged.stdout));
    expect(summary).toEqual(dropGeneratedAt(String(whole.stdout)));
    expect(summary.total_events).toBe(oneRows.length);
    // The copies of the example fire every category it does, duplicates included.
    expect(Object.keys(summary.events_by_category)).toHaveLength(11);
    expect(summary.events_by_category['Duplicate/Wrong User Records']).toBe(2 * COPIES);
    expect(summary.affected_users_omitted).toBeGreaterThan(0);
  }, 600_000);
});
