// Habits of a Unix filter that grep, jq and Miller users rely on (issue 13): output as soon as
// the input goes idle, Ctrl-C stopping a shell loop, progress that never lands in the data,
// help that fits 80 columns, completions and man pages from the argument definitions.
import { describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BINARIES, binPath, ROOT, run, tempDir, type Binary } from '../helpers/run.js';
import { manPages } from '../../src/cli/man-pages.js';
import { COMMANDS } from '../../src/commands/index.js';

const EVENTS = readFileSync(join(ROOT, 'examples', 'data', 'events.ndjson'), 'utf8')
  .split('\n')
  .filter((l) => l.includes('"event_type":"error"'));
const DIRECTORY_CSV = readFileSync(join(ROOT, 'examples', 'data', 'directory.csv'), 'utf8').split('\n');
const GEAR_ERRORS = readFileSync(join(ROOT, 'examples', 'data', 'gear.log'), 'utf8')
  .split('\n')
  .filter((l) => / ERROR /.test(l));

interface SlowCase {
  bin: Binary;
  args: string[];
  first: string;
  second: string;
  /** What the first line written must look like. */
  expectFirst: RegExp;
}

const slowCases: SlowCase[] = [
  { bin: 'process', args: [], first: EVENTS[0]! + '\n', second: EVENTS[1]! + '\n', expectFirst: /"event_type":"error"/ },
  { bin: 'process', args: ['--from', 'csv'], first: `${DIRECTORY_CSV[0]}\n${DIRECTORY_CSV[1]}\n`, second: `${DIRECTORY_CSV[2]}\n`, expectFirst: /"event_type"/ },
  { bin: 'process', args: ['--from', 'log'], first: GEAR_ERRORS[0]! + '\n', second: GEAR_ERRORS[1]! + '\n', expectFirst: /"event_type":"error"/ },
  { bin: 'analyze', args: ['--format', 'json'], first: '{"kind":"note","n":1}\n', second: EVENTS[0]! + '\n', expectFirst: /^\{"kind":"note","n":1\}$/ },
  // The --jobs reader runs ahead of the writer: stdout must still be handed over once the records are written.
  { bin: 'analyze', args: ['--jobs', '2', '--format', 'json'], first: '{"kind":"note","n":1}\n', second: EVENTS[0]! + '\n', expectFirst: /^\{"kind":"note","n":1\}$/ },
  { bin: 'export-csv', args: [], first: EVENTS[0]! + '\n', second: EVENTS[1]! + '\n', expectFirst: /^email,name,center_id/ },
  { bin: 'export-csv', args: ['-o', '{dir}/out.csv', '--pass-through'], first: EVENTS[0]! + '\n', second: EVENTS[1]! + '\n', expectFirst: /"event_type":"error"/ },
  { bin: 'import-csv', args: [], first: 'a,b\n1,2\n', second: '3,4\n', expectFirst: /^\{"a":"1","b":"2"\}$/ },
  { bin: 'notify', args: ['--dry-run'], first: '{"kind":"note","n":1}\n', second: EVENTS[0]! + '\n', expectFirst: /^\{"kind":"note","n":1\}$/ },
];

describe('output as soon as the input goes idle', () => {
  for (const c of slowCases) {
    it(`${c.bin} ${c.args.join(' ')}: the first record comes out before the second chunk is sent`, async () => {
      const dir = tempDir();
      const args = c.args.map((a) => a.replace('{dir}', dir));
      const child = spawn(process.execPath, [binPath(c.bin), ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_OUTBOX: join(dir, 'outbox') } });
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // The first data line: the run record that opens stdout is written at start (docs/run-records.md).
      const firstLine = new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const data = out.split('\n').slice(0, -1).find((l) => !l.startsWith('{"kind":"run"'));
          if (data !== undefined) resolve(data);
        });
        void exited.then(() => reject(new Error(`exited before writing a line; stderr: ${err}`)));
      });
      child.stdin.write(c.first);
      // If output waited for the end of input, this would never resolve (the test times out).
      const line = await firstLine;
      expect(line).toMatch(c.expectFirst);
      child.stdin.end(c.second);
      expect(await exited, err).toBe(0);
      expect(out.split('\n').filter(Boolean).length).toBeGreaterThan(1);
    }, 30_000);
  }
});

describe('Ctrl-C stops a shell loop: the binaries die by the signal after their cleanup', () => {
  const loops: Array<{ bin: Binary; args: string; ready: 'stdout' | 'tmp' }> = [
    { bin: 'process', args: '', ready: 'stdout' },
    { bin: 'analyze', args: '--format json', ready: 'stdout' },
    { bin: 'export-csv', args: '-o w$i.csv', ready: 'tmp' },
    { bin: 'import-csv', args: '', ready: 'stdout' },
    { bin: 'notify', args: '--dry-run', ready: 'stdout' },
  ];
  for (const l of loops) {
    it(`for i in 1 2 3; do { cat ev; sleep 100; } | ${l.bin} ${l.args}; done — stops at the first SIGINT to the process group`, async () => {
      const dir = tempDir();
      const input = join(dir, l.bin === 'import-csv' ? 'ev.csv' : 'ev');
      // export-csv -o: events only (the columns are then known, so the temp file opens at once).
      writeFileSync(input, l.bin === 'import-csv' ? 'a,b\n1,2\n' : `${l.bin === 'export-csv' ? '' : '{"kind":"note"}\n'}${EVENTS.join('\n')}\n`);
      const script = `for i in 1 2 3; do echo "start $i" >&2; { cat '${input}'; sleep 100; } | '${process.execPath}' '${binPath(l.bin)}' ${l.args}; done; echo finished >&2`;
      // detached: a process group of its own, as a terminal gives a foreground job.
      const child = spawn('bash', ['-c', script], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_OUTBOX: join(dir, 'outbox') } });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
      try {
        // Ready: the binary has read its input (its first output line, or export-csv's temp file).
        for (let i = 0; i < 600; i++) {
          if (l.ready === 'stdout' ? out.includes('\n') : readdirSync(dir).some((f) => f.endsWith('.tmp'))) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(err).toContain('start 1');
        if (l.ready === 'tmp') expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(true);
        process.kill(-child.pid!, 'SIGINT');
        const signal = await closed;
        expect(err).not.toContain('start 2');
        expect(err).not.toContain('finished');
        expect(signal).toBe('SIGINT');
        // The cleanup still ran: no temporary file is left.
        expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // the group is gone already
        }
      }
    }, 60_000);
  }
});

/** What a terminal shows for one line: \r returns to column 0, ESC[K erases to the end. */
function visible(line: string): string {
  let cells: string[] = [];
  let col = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\r') col = 0;
    else if (line.startsWith('\x1b[K', i)) {
      cells = cells.slice(0, col);
      i += 2;
    } else cells[col++] = line[i]!;
  }
  return cells.join('');
}

describe('progress on a terminal never lands in the data', () => {
  const hasScript = existsSync('/usr/bin/script');
  it.skipIf(!hasScript)("script -qc 'process --progress big.ndjson' (stdout and stderr one terminal): every line shown is JSON or a whole progress line", async () => {
    const dir = tempDir();
    const file = join(dir, 'big.ndjson');
    writeFileSync(file, Array.from({ length: 3000 }, () => EVENTS.join('\n')).join('\n') + '\n');
    const r = await execa('script', ['-qc', `'${process.execPath}' '${binPath('process')}' --progress '${file}'`, '/dev/null'], { reject: false, stdin: 'ignore' });
    const raw = String(r.stdout);
    expect(raw).toMatch(/\rprocess: [\d,]+ records/);
    // It was drawn, and erased before data followed it.
    expect(raw).toContain('\r\x1b[K');
    const lines = raw.split('\n').map((l) => visible(l.replace(/\r$/, ''))).filter((l) => l.trim());
    let json = 0;
    for (const l of lines) {
      if (/^process: [\d,]+ records, [\d,]+\/s, [\d.]+s/.test(l)) continue;
      expect(() => JSON.parse(l), l.slice(0, 120)).not.toThrow();
      if (!l.startsWith('{"kind":"run"')) json++;
    }
    expect(json).toBe(3000 * EVENTS.length);
  }, 60_000);

  it.skipIf(!hasScript)('analyze --format table on a terminal shows the table once, clean', async () => {
    const dir = tempDir();
    const file = join(dir, 'big.ndjson');
    writeFileSync(file, Array.from({ length: 2000 }, () => EVENTS.join('\n')).join('\n') + '\n');
    const r = await execa('script', ['-qc', `'${process.execPath}' '${binPath('analyze')}' --progress '${file}'`, '/dev/null'], { reject: false, stdin: 'ignore' });
    const lines = String(r.stdout).split('\n').map((l) => visible(l.replace(/\r$/, '')));
    expect(lines.filter((l) => l.includes('Summary')).length).toBe(1);
    const title = lines.findIndex((l) => l.includes('Summary'));
    expect(lines[title]).toMatch(/^Summary/);
    // Nothing from the progress line after the table starts.
    expect(lines.slice(title).some((l) => /analyze: [\d,]+ records/.test(l))).toBe(false);
  }, 60_000);

  it.skipIf(!hasScript)('a terminal on stdin and no file: a one-line hint on stderr, Ctrl-D ends the input', async () => {
    const child = execa('script', ['-qc', `'${process.execPath}' '${binPath('analyze')}' --format json`, '/dev/null'], { reject: false, stdin: 'pipe' });
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d) => {
        seen += d;
        if (seen.includes('Ctrl-D')) resolve();
      });
    });
    expect(seen).toContain('analyze: reading NDJSON from the terminal; Ctrl-D to end, --help for usage');
    child.stdin!.write('\x04');
    child.stdin!.end();
    const r = await child;
    expect(String(r.stdout)).toContain('"kind":"summary"');
  }, 60_000);
});

describe('help, version, suggestions, completions and man pages', () => {
  for (const bin of BINARIES) {
    it(`${bin} --help: at most 80 columns, own flags before the shared ones, examples; pinned`, async () => {
      const r = await run(bin, ['--help']);
      expect(r.exitCode).toBe(0);
      const widths = r.stdout.split('\n').map((l) => l.length);
      expect(Math.max(...widths)).toBeLessThanOrEqual(80);
      const own = r.stdout.indexOf('\nOptions:');
      const common = r.stdout.indexOf('\nCommon options:');
      expect(own).toBeGreaterThan(0);
      expect(common).toBeGreaterThan(own);
      expect(r.stdout).toContain('\nExamples:\n');
      await expect(r.stdout).toMatchFileSnapshot(`./__snapshots__/help/${bin}.txt`);
    });

    it(`${bin} -V prints the version`, async () => {
      const r = await run(bin, ['-V']);
      expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    });
  }

  it('--fromm suggests --from (exit 2, one line)', async () => {
    const r = await run('process', ['--fromm', 'csv'], { input: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe('process: unknown option --fromm; did you mean --from? (see --help)\n');
    const far = await run('analyze', ['--no-such-flag'], { input: '' });
    expect(far.stderr).toBe('analyze: unknown option --no-such-flag (see --help)\n');
  });

  it('--completions bash loads in bash and completes --fr to --from', () => {
    const out = execFileSync('bash', [
      '-c',
      `source <('${process.execPath}' '${binPath('process')}' --completions bash); COMP_WORDS=(process --fr); COMP_CWORD=1; _batch_events_process; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ]).toString();
    expect(out.trim().split('\n')).toEqual(['--from']);
    const values = execFileSync('bash', [
      '-c',
      `source <('${process.execPath}' '${binPath('process')}' --completions bash); COMP_WORDS=(process --from c); COMP_CWORD=2; _batch_events_process; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ]).toString();
    expect(values.trim().split('\n')).toEqual(['csv']);
  });

  it('--completions zsh and fish name every flag; an unknown shell is a usage error', async () => {
    const zsh = await run('export-csv', ['--completions', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef export-csv/);
    expect(zsh.stdout).toContain("'--lock-timeout[");
    expect(zsh.stdout).toContain('compdef _batch_events_export_csv export-csv');
    const fish = await run('export-csv', ['--completions', 'fish']);
    expect(fish.stdout).toContain("complete -c export-csv -l fsync -x -a 'batch always'");
    const bad = await run('export-csv', ['--completions', 'tcsh']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/invalid --completions: must be one of bash, zsh, fish/);
  });

  it('the committed man pages are the ones the argument definitions give (npm run man)', async () => {
    for (const [name, text] of Object.entries(await manPages(COMMANDS))) {
      expect(readFileSync(join(ROOT, 'man', `${name}.1`), 'utf8'), `man/${name}.1 is out of date: npm run man`).toBe(text);
    }
  });

  it('NDJSON binaries say when the input looks like CSV', async () => {
    const r = await run('process', [join(ROOT, 'examples', 'data', 'directory.csv')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/directory\.csv looks like CSV, not NDJSON: read it with --from csv$/);
    const a = await run('analyze', [], { input: 'a,b\n1,2\n' });
    expect(a.stderr).toContain('stdin looks like CSV, not NDJSON: turn it into events with process --from csv first');
  });
});

describe('times without an offset are UTC everywhere; impossible dates are usage errors', () => {
  const at = (t: string) => JSON.stringify({ event_type: 'error', category: 'Flywheel Error', message: t, timestamp: t, user_context: { email: `${t}@x.org` } });
  const input = ['2026-11-20T08:00:01Z', '2026-11-20T08:00:03Z'].map(at).join('\n') + '\n';
  const tz = { TZ: 'Asia/Tokyo' };

  it('--since without an offset is UTC in every filter, whatever TZ says', async () => {
    for (const bin of ['process', 'export-csv', 'import-csv'] as const) {
      const args = ['--since', '2026-11-20T08:00:02'];
      const stdin = bin === 'import-csv' ? 'timestamp,event_type\n2026-11-20T08:00:01Z,error\n2026-11-20T08:00:03Z,error\n' : input;
      const r = await run(bin, args, { input: stdin, env: tz });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('08:00:01');
      expect(r.stdout).toContain('08:00:03');
    }
    const a = await run('analyze', ['--since', '2026-11-20T08:00:02', '--format', 'json'], { input, env: tz });
    expect(a.records[0]!.total_events).toBe(1);
  });

  it('--now and a timestamp without an offset are UTC', async () => {
    const r = await run('process', ['--now', '2026-11-20T08:00:02'], { input: '{"event_type":"error","category":"Flywheel Error","message":"m"}\n{"event_type":"error","category":"Flywheel Error","message":"n","timestamp":"2026-11-20 09:30"}\n', env: tz });
    expect(r.records.map((e) => e.timestamp)).toEqual(['2026-11-20T08:00:02.000Z', '2026-11-20T09:30:00.000Z']);
  });

  it('2026-11-31 is a usage error for --since, --until and --now; in the data it is a bad line', async () => {
    for (const bin of BINARIES) {
      for (const flag of ['--since', '--until']) {
        const r = await run(bin, [flag, '2026-11-31'], { input: '' });
        expect(r.exitCode, `${bin} ${flag}`).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^${bin}: invalid ${flag}: must be a real ISO 8601 date`));
      }
    }
    const now = await run('process', ['--now', '2026-11-31T10:00:00'], { input: '' });
    expect(now.exitCode).toBe(2);
    const data = await run('process', [], { input: at('2026-11-31T10:00:00Z') + '\n' });
    expect(data.exitCode).toBe(1);
    expect(data.stderr).toContain('stdin:1: timestamp is not a date');
  });

  it('--lock-timeout: one "waiting for the lock" line, then the error', async () => {
    const dir = tempDir();
    const ledger = join(dir, 'led.csv');
    const holder = execa(process.execPath, [join(ROOT, 'test', 'fixtures', 'lock-counter.mjs'), ledger, '0', 'hold'], { reject: false });
    try {
      await new Promise<void>((resolve) => holder.stdout!.on('data', (d) => String(d).includes('locked') && resolve()));
      const r = await run('export-csv', ['--append', '--lock-timeout', '1s', '-o', ledger], { input: EVENTS[0] + '\n' });
      expect(r.exitCode).toBe(1);
      expect(r.stderr.match(/waiting for the lock/g)).toHaveLength(1);
      expect(r.stderr).toMatch(/still locked by pid \d+ .* after waiting 1s/);
      expect(r.stderr.match(/still locked/g)).toHaveLength(1);
    } finally {
      holder.kill('SIGKILL');
      await holder;
    }
  }, 30_000);
});

describe('packaging', () => {
  it('require("batch-events") gives the API, or on Node 20 the documented ESM-only message', async () => {
    const r = await execa(process.execPath, ['-e', "const be = require('batch-events'); console.log(typeof be.processRecords)"], { cwd: ROOT, reject: false });
    if (r.exitCode === 0) expect(r.stdout.trim()).toBe('function');
    else expect(r.stderr).toContain("batch-events is an ES module: use `import { processRecords } from 'batch-events'`");
  });

  it('npm pack holds LICENSE, docs, man pages and the CJS entry; no csv-stringify or citty at run time', async () => {
    const r = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(r.stdout)[0].files as Array<{ path: string }>).map((f) => f.path);
    for (const f of ['LICENSE', 'docs/csv.md', 'man/process.1', 'man/notify.1', 'cjs/index.cjs', 'dist/index.d.ts']) expect(files).toContain(f);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.types).toBe('./dist/index.d.ts');
    expect(Object.keys(pkg.dependencies)).not.toContain('csv-stringify');
    expect(Object.keys(pkg.dependencies)).not.toContain('citty');
  }, 60_000);

  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
  it.skipIf(!busybox)('the launchers run under BusyBox env (no -S): the shebang is what the kernel would run', async () => {
    for (const bin of BINARIES) {
      const shebang = readFileSync(binPath(bin), 'utf8').split('\n', 1)[0]!;
      expect(shebang).toBe('#!/usr/bin/env node');
      // The kernel runs `/usr/bin/env node FILE ARGS`; BusyBox's env in its place:
      const r = await execa(busybox!, ['env', 'node', binPath(bin), '-V'], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
    }
  });
});
