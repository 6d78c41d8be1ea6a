#!/usr/bin/env node
// The benchmark of issues 7 and 16: our binaries (at --jobs 1 and --jobs 2) against Miller, jq,
// json2csv and ndjson-cli on the same data in the same run, every job also as a multiple of the
// floor (read + split + JSON.parse).
// A script, not a test: nothing in `npm test` runs it or asserts on time.
import { parseArgs } from 'node:util';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { measure, median, RSS_METHOD } from './lib/measure.mjs';
import { checkAnalyze, checkCsv, checkJqCounts, checkMillerCounts, checkNdjsonCount, SEED000_COLUMNS, scanCsv } from './lib/checks.mjs';
import { big, fmt, jobTable, mib, targetsTable } from './lib/report.mjs';
import { GEN_VERSION, generateEvents, writeMeta } from './gen-bench-data.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, 'bench', 'data');
const OUT = join(DATA, 'out');
const RESULTS = join(ROOT, 'bench', 'results');
const NODE = process.execPath;
const JOBS = ['export', 'analyze', 'process', 'import', 'startup', 'memory', 'cores'];

const USAGE = `Usage: node bench/run.js [options]   (npm run bench -- [options])

  --quick          100,000 events, one run per tool, no separate warm-up (about a minute)
  --runs N         measured runs per tool after the warm-up, taken in rounds across a job's
                   tools (default 3; slow peers get 1)
  --only LIST      comma list of jobs: ${JOBS.join(',')}
  --regen          regenerate the data files in bench/data even when present
  --keep-outputs   keep every tool's output in bench/data/out (default: only ours)
  --slow SECONDS   a tool whose warm-up takes longer gets one measured run; for a peer the
                   warm-up itself is that run (input already cached by the floor) (default 60)
  --help

Peers: mlr (apt-get install -y miller), jq (apt-get install -y jq), json2csv and ndjson-cli
(devDependencies), GNU parallel for the across-cores job. Our binaries run at --jobs 1 and
--jobs 2 (a build without --jobs runs its one path as --jobs 1; --jobs 2 is then a missing row). Results: a markdown table on stdout, bench/results/latest.json.`;

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
    regen: { type: 'boolean', default: false },
    'keep-outputs': { type: 'boolean', default: false },
    slow: { type: 'string', default: '60' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (opt.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
const runs = opt.runs !== undefined ? Number(opt.runs) : opt.quick ? 1 : 3;
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`bench: invalid --runs: must be a whole number of at least 1, got "${opt.runs}"\n`);
  process.exit(2);
}
const only = opt.only ? opt.only.split(',').map((s) => s.trim()) : JOBS;
for (const j of only) {
  if (!JOBS.includes(j)) {
    process.stderr.write(`bench: invalid --only: unknown job "${j}" (jobs: ${JOBS.join(', ')})\n`);
    process.exit(2);
  }
}
const slowSeconds = Number(opt.slow);
const SIZES = opt.quick ? { big: 100_000, small: 10_000, dirBig: 100_000, dirSmall: 10_000 } : { big: 1_000_000, small: 100_000, dirBig: 1_000_000, dirSmall: 100_000 };
const REGISTRY = 100_000;
const label = (n) => (n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1000}k`);
const t0 = Date.now();
const log = (s) => process.stderr.write(`bench [${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s]: ${s}\n`);
const rel = (p) => relative(ROOT, p);

// ---------------------------------------------------------------- data

function ensure(kind, count, make) {
  const path = join(DATA, `${kind}-${label(count)}.ndjson`);
  const metaPath = `${path}.meta.json`;
  if (!opt.regen && existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (meta.version === GEN_VERSION && meta.records === count && statSync(path).size === meta.bytes) return { path, meta };
  }
  log(`generating ${rel(path)} (${count.toLocaleString('en-US')} records)...`);
  const t = Date.now();
  const meta = make(path, count);
  writeMeta(metaPath, meta);
  log(`  ${(meta.bytes / 1e6).toFixed(0)} MB in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { path, meta };
}

mkdirSync(OUT, { recursive: true });
mkdirSync(RESULTS, { recursive: true });
const events = {
  big: ensure('events', SIZES.big, (p, n) => generateEvents(p, n)),
  small: ensure('events', SIZES.small, (p, n) => generateEvents(p, n)),
};
// Directory entries and registry come from the process engineer's bench/gen-directory.mjs
// (the input its rules are written for); entry i is user i, the first 100,000 are registered.
const GEN_DIRECTORY = join(ROOT, 'bench', 'gen-directory.mjs');
function viaGenDirectory(kind) {
  return (path, count) => {
    const args = kind === 'registry'
      ? ['--entries', '0', '--persons', String(count), '--registry', path, '-o', '/dev/null']
      : ['--entries', String(count), '--persons', String(REGISTRY), '-o', path];
    execFileSync(NODE, [GEN_DIRECTORY, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    return { kind, version: GEN_VERSION, generator: 'bench/gen-directory.mjs', records: count, bytes: statSync(path).size };
  };
}
const registry = ensure('registry', REGISTRY, viaGenDirectory('registry'));
const directory = {
  big: ensure('directory', SIZES.dirBig, viaGenDirectory('directory')),
  small: ensure('directory', SIZES.dirSmall, viaGenDirectory('directory')),
};

/** A CSV made by our export-csv from an events file, remade when the events are newer. */
async function csvOf(ev, csv) {
  if (existsSync(csv) && statSync(csv).mtimeMs >= statSync(ev.path).mtimeMs && statSync(csv).size > 0) return;
  if (ours['export-csv'].error) return;
  log(`making ${rel(csv)} with export-csv...`);
  const r = await measure(ourCmd('export-csv', ev.path), { stdout: csv, env: ENV, cwd: ROOT });
  if (!r.ok) rmSync(csv, { force: true });
}

// ---------------------------------------------------------------- tools

function which(name) {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function versionOf(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).trim().split('\n')[0];
  } catch {
    return null;
  }
}

const MLR = which('mlr');
const JQ = which('jq');
const PARALLEL = which('parallel');
const NDJSON_CLI = existsSync(join(ROOT, 'node_modules/ndjson-cli/package.json')) ? join(ROOT, 'node_modules/ndjson-cli') : null;
const JSON2CSV = existsSync(join(ROOT, 'node_modules/@json2csv/cli/bin/json2csv.js')) ? join(ROOT, 'node_modules/@json2csv/cli/bin/json2csv.js') : null;
const peers = {
  mlr: MLR ? versionOf(MLR, ['--version']) : null,
  jq: JQ ? versionOf(JQ, ['--version']) : null,
  json2csv: JSON2CSV ? `@json2csv/cli ${JSON.parse(readFileSync(join(ROOT, 'node_modules/@json2csv/cli/package.json'), 'utf8')).version}` : null,
  parallel: PARALLEL ? versionOf(PARALLEL, ['--version']) : null,
  'ndjson-cli': NDJSON_CLI ? `ndjson-cli ${JSON.parse(readFileSync(join(NDJSON_CLI, 'package.json'), 'utf8')).version}` : null,
};
const MISSING = {
  mlr: 'mlr not installed (apt-get install -y miller)',
  jq: 'jq not installed (apt-get install -y jq)',
  json2csv: '@json2csv/cli not installed (npm ci)',
  parallel: 'GNU parallel not installed (apt-get install -y parallel)',
  'ndjson-cli': 'ndjson-cli not installed (npm ci)',
};

const BINARIES = ['process', 'analyze', 'export-csv', 'import-csv', 'notify'];
/** Each of our binaries: whether it runs, and its --help (to find the flags it offers). */
const ours = {};
for (const b of BINARIES) {
  const bin = join(ROOT, 'bin', `${b}.js`);
  try {
    const help = execFileSync(NODE, [bin, '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, env: childEnv() });
    ours[b] = { bin, help, error: null };
  } catch (err) {
    const why = String(err.stderr || err.message).trim().split('\n').find((l) => /Error|error|Cannot/.test(l)) ?? String(err.message).split('\n')[0];
    ours[b] = { bin, help: '', error: `does not run yet: ${why.trim().slice(0, 160)}` };
  }
}
// Our binaries run with the node flags of their shebang, exactly as users run them.
function shebangFlags(bin) {
  const m = /\bnode\b(.*)$/.exec(readFileSync(bin, 'utf8').split('\n', 1)[0]);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}
const ourCmd = (b, ...args) => [NODE, ...shebangFlags(ours[b].bin), ours[b].bin, ...args];
const offers = (b, flag) => new RegExp(`--${flag}\\b`).test(ours[b].help);

// Issue 16: every job of ours at --jobs 1 and --jobs 2, side by side. A build whose binary has no
// --jobs runs its single path as the --jobs 1 row, and the --jobs 2 row says it is missing.
const LEVELS = [1, 2];
const withJobs = (b, n, args) => (offers(b, 'jobs') ? ['--jobs', String(n), ...args] : args);
const noJobs = (b, n) => (n > 1 && !ours[b].error && !offers(b, 'jobs') ? `${b} has no --jobs in this build (issue 16a)` : null);

/** A row for each --jobs level; --jobs 2's output must equal --jobs 1's byte for byte (kept, compared, removed). */
async function levels(b, spec, args) {
  const rows = [];
  let first = null;
  for (const n of LEVELS) {
    const keepOwn = n === 1 ? spec.keep ?? join(OUT, `${spec.job}-${b}-jobs1.out`) : join(OUT, `${spec.job}-${b}-jobs${n}.out`);
    const row = await runTool({ ...spec, tool: `${spec.tool} --jobs ${n}`, cmd: ourCmd(b, ...withJobs(b, n, args)), missing: spec.missing ?? noJobs(b, n), keep: keepOwn });
    row.jobs = n;
    if (n === 1) first = row.error ? null : keepOwn;
    else if (!row.error && first) {
      row.identical = sameBytes(first, keepOwn);
      if (!row.identical) row.check = [row.check, 'output differs from --jobs 1'].filter(Boolean).join('; ');
    }
    if (n > 1) rmSync(keepOwn, { force: true });
    rows.push(row);
  }
  if (first && first !== spec.keep) rmSync(first, { force: true });
  return rows;
}

// analyze's summary says when it was made (generated_at, the clock: analyze has no --now); the
// comparison leaves that one value out and takes every other byte.
const CLOCK = /"generated_at":"[^"]*"/g;
function sameBytes(a, b) {
  const digest = (p) => {
    const h = createHash('sha256');
    // A summary is small; the big outputs (CSV, events) are hashed as they are, chunk by chunk.
    if (statSync(p).size < 64 * 2 ** 20) return h.update(readFileSync(p, 'latin1').replace(CLOCK, '"generated_at":""'), 'latin1').digest('hex');
    const fd = openSync(p, 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    closeSync(fd);
    return h.digest('hex');
  };
  return digest(a) === digest(b);
}
const ndjsonCli = (tool) => (NDJSON_CLI ? join(NDJSON_CLI, tool) : tool);

function childEnv() {
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.NOTIFY_TO;
  return env;
}
const ENV = childEnv();

// ---------------------------------------------------------------- running

const show = (cmd) => cmd.map((a) => (a.startsWith(ROOT + '/') ? relative(ROOT, a) : a === NODE ? 'node' : a))
  .map((a) => (/[\s"'|$*&;()<>{}\[\]]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a)).join(' ');

/**
 * One tool on one job. The warm-up writes its output to a file that is checked; then `runs`
 * measured runs write to /dev/null. A failing or missing tool becomes an error row.
 */
async function runTool(spec) {
  const { tool, role, cmd, input, check, keep, missing, stdin, records, bytes, n = runs } = spec;
  const row = { tool, role, cmd: cmd ? show(cmd) + (stdin ? ` < ${stdin.startsWith(ROOT) ? rel(stdin) : stdin}` : '') : null, records, bytes, runs: [], cpu: [], rss_kb: 0, error: null, check: null };
  if (missing) {
    row.error = missing;
    row.missing = true;
    return row;
  }
  log(`${spec.job}: ${tool}...`);
  const outPath = keep ?? join(OUT, `${spec.job}-${tool.replace(/[^\w.-]+/g, '_')}.out`);
  let warm = await measure(cmd, { stdout: outPath, stdin, env: ENV, cwd: ROOT });
  if (!warm.ok && role !== 'peer') {
    // Other work may be rebuilding dist/ at this moment: one retry before it is an error row.
    await new Promise((r) => setTimeout(r, 5000));
    warm = await measure(cmd, { stdout: outPath, stdin, env: ENV, cwd: ROOT });
  }
  if (!warm.ok) {
    row.error = `exit ${warm.code ?? warm.signal}: ${lastLine(warm.stderr)}`;
    rmSync(outPath, { force: true });
    return row;
  }
  row.rss_kb = warm.rss_kb;
  row.output_bytes = statSync(outPath).size;
  if (check) {
    try {
      row.check = check(outPath);
    } catch (err) {
      row.check = `output not understood: ${err.message}`.slice(0, 160);
    }
  }
  if (!keep && !opt['keep-outputs']) rmSync(outPath, { force: true });
  let count = n;
  // The first run counts (and no more follow) in --quick, and for a peer slower than --slow:
  // the input is already in the page cache from the floor run, which is what a warm-up is for.
  if ((opt.quick && !spec.forceWarm) || (role === 'peer' && warm.wall_s > slowSeconds)) {
    row.runs.push(warm.wall_s);
    row.cpu.push(warm.cpu_s);
    count = opt.quick ? n - 1 : 0;
  } else if (warm.wall_s > slowSeconds) count = 1;
  // The measured runs are taken later, in rounds across the job's tools (settle).
  row.pending = { left: count, cmd, stdin, role, done: 0 };
  return row;
}

/**
 * Takes the measured runs of a job's rows in rounds (each tool once per round, in order), not
 * tool after tool: when the machine's speed drifts (it did: jq took 16.2 s in one run and
 * 29.6 s in another on the same file), every tool of a round is moved alike, so the ratios of
 * medians hold. Then each row's median.
 */
async function settle(rows) {
  for (;;) {
    const due = rows.filter((r) => r.pending && r.pending.left > 0 && !r.error);
    if (due.length === 0) break;
    log(`  round ${due[0].pending.done + 1}: ${due.map((r) => r.tool).join(', ')}`);
    for (const row of due) {
      const p = row.pending;
      let r = await measure(p.cmd, { stdin: p.stdin, env: ENV, cwd: ROOT });
      if (!r.ok && p.role !== 'peer') {
        await new Promise((res) => setTimeout(res, 5000));
        r = await measure(p.cmd, { stdin: p.stdin, env: ENV, cwd: ROOT });
      }
      p.left--;
      p.done++;
      if (!r.ok) {
        row.error = `exit ${r.code ?? r.signal} on run ${p.done}: ${lastLine(r.stderr)}`;
        continue;
      }
      row.runs.push(r.wall_s);
      row.cpu.push(r.cpu_s);
      row.rss_kb = Math.max(row.rss_kb, r.rss_kb);
    }
  }
  for (const row of rows) {
    if (!row.pending || row.error) continue;
    delete row.pending;
    row.median_s = median(row.runs);
    row.median_cpu_s = median(row.cpu);
    row.records_per_s = row.records / row.median_s;
    row.mb_per_s = row.bytes / 1e6 / row.median_s;
    log(`  ${row.tool}: ${fmt(row.median_s, 3)} s (${row.runs.map((x) => fmt(x, 2)).join(', ')}), ${fmt(mib(row.rss_kb), 1)} MiB${row.check ? `, check: ${row.check}` : ''}`);
  }
  return rows;
}

function lastLine(s) {
  const lines = String(s).trim().split('\n').filter((l) => l.trim() && !/^\s+at /.test(l));
  return (lines.find((l) => /^\S+: /.test(l) && !/^(node|Node\.js)/.test(l)) ?? lines[lines.length - 1] ?? 'no message').slice(0, 200);
}

/** Fills each row's multiple of the floor and the speed-up of ours (the first ours row) over it. */
function relate(job, floorRow) {
  const oursRow = job.rows.find((r) => r.role === 'ours' && !r.error);
  const ours2 = job.rows.find((r) => r.role === 'ours' && !r.error && r.jobs === 2);
  for (const r of job.rows) {
    if (r.error) continue;
    if (floorRow && !floorRow.error) r.x_floor = r.median_s / floorRow.median_s;
    if (r.role === 'peer' && oursRow) r.ours_speedup = r.median_s / oursRow.median_s;
    if (r.role === 'peer' && ours2) r.ours2_speedup = r.median_s / ours2.median_s;
  }
  return job;
}

const jobs = [];
const targets = [];
const target = (name, goal, measured, pass) => targets.push({ name, goal, measured, status: pass === null ? 'no measurement' : pass ? 'met' : 'missed' });
const ok = (r) => r && !r.error;
/** Issue 16: a binary's output at --jobs 2 is byte-identical to --jobs 1 on the benchmark's data. */
const identical = (b, r2) => target(`${b} output at --jobs 2 = --jobs 1`, 'byte-identical', !ok(r2) ? '–' : r2.identical ? 'identical' : 'differs', ok(r2) ? r2.identical === true : null);
/** The same ratio in CPU seconds (user+sys): less moved by other load, but it credits multi-threaded peers. */
const cpuRatio = (a, b) => (ok(a) && ok(b) && Number.isFinite(a.median_cpu_s) && b.median_cpu_s > 0 ? `; CPU ${fmt(a.median_cpu_s / b.median_cpu_s)}×` : '');
const bigN = events.big.meta.records;
const evIn = { records: bigN, bytes: events.big.meta.bytes };
const started = new Date();
const load0 = loadavg();

let floorEvents = null;
async function eventsFloor() {
  if (!floorEvents) {
    floorEvents = await runTool({ job: 'floor', tool: 'floor (read+split+JSON.parse)', role: 'floor', cmd: [NODE, join(ROOT, 'bench/floor.mjs'), events.big.path], ...evIn, forceWarm: true,
      check: (p) => (JSON.parse(readFileSync(p, 'utf8')).records === bigN ? null : 'wrong record count') });
  }
  return floorEvents;
}

const csvPath = join(DATA, `events-${label(bigN)}.csv`);
const mlrFields = SEED000_COLUMNS.map((c) => (['email', 'name', 'center_id', 'registry_id', 'auth_email'].includes(c) ? `user_context.${c}` : c));
const jqRow = `[${mlrFields.map((f) => `.${f}`).join(', ')}]`;

// (1) events → CSV
if (only.includes('export')) {
  const floor = await eventsFloor();
  const job = { id: 'export', title: `1. ${big(bigN)} events → CSV, seed 000's columns (${fmt(evIn.bytes / 1e6, 0)} MB in)`, rows: [floor],
    note: 'Ours runs with its defaults: formula neutralisation and secret redaction on. The peers do neither (they only select and quote).' };
  job.rows.push(...await levels('export-csv', { job: 'export', tool: 'export-csv (ours)', role: 'ours', missing: ours['export-csv'].error, ...evIn, keep: csvPath,
    check: (p) => checkCsv(p, bigN, { headerNames: SEED000_COLUMNS }) }, [events.big.path]));
  job.rows.push(await runTool({ job: 'export', tool: 'mlr flatten+cut', role: 'peer', missing: MLR ? null : MISSING.mlr, ...evIn,
    cmd: [MLR, '--ijsonl', '--ocsv', 'flatten', 'then', 'cut', '-o', '-f', mlrFields.join(','), events.big.path], check: (p) => checkCsv(p, bigN) }));
  job.rows.push(await runTool({ job: 'export', tool: 'jq @csv', role: 'peer', missing: JQ ? null : MISSING.jq, ...evIn,
    cmd: [JQ, '-rn', `${JSON.stringify(SEED000_COLUMNS)}, (inputs | ${jqRow}) | @csv`, events.big.path], check: (p) => checkCsv(p, bigN) }));
  job.rows.push(await runTool({ job: 'export', tool: 'json2csv --ndjson', role: 'peer', missing: JSON2CSV ? null : MISSING.json2csv, ...evIn,
    cmd: [NODE, JSON2CSV, '--ndjson', '-i', events.big.path, '-f', mlrFields.join(',')], check: (p) => checkCsv(p, bigN) }));
  // ndjson-cli writes NDJSON only: the nearest job is the same projection as JSON arrays.
  job.rows.push(await runTool({ job: 'export', tool: 'ndjson-map (arrays)', role: 'peer', missing: NDJSON_CLI ? null : MISSING['ndjson-cli'], ...evIn,
    cmd: [NODE, ndjsonCli('ndjson-map'), `[${mlrFields.map((f) => `d.${f}`).join(', ')}]`], stdin: events.big.path, check: (p) => checkNdjsonCount(p, bigN) }));
  await settle(job.rows);
  jobs.push(relate(job, floor));
  const [, o, o2, m, j, c] = job.rows;
  const at2 = ok(o2) ? o2 : null;
  const sp = (r) => (at2 && ok(r) ? r.ours2_speedup : null);
  target('export-csv --jobs 2 vs Miller', '≥ 6×', sp(m) === null ? '–' : `${fmt(sp(m))}×${cpuRatio(m, o2)}`, sp(m) === null ? null : sp(m) >= 6);
  target('export-csv --jobs 2 vs jq', '≥ 5×', sp(j) === null ? '–' : `${fmt(sp(j))}×${cpuRatio(j, o2)}`, sp(j) === null ? null : sp(j) >= 5);
  target('export-csv --jobs 2 vs json2csv', '≥ 5×', sp(c) === null ? '–' : `${fmt(sp(c))}×${cpuRatio(c, o2)}`, sp(c) === null ? null : sp(c) >= 5);
  target('export-csv --jobs 2 × floor', '≤ 1.3×', at2 && ok(floor) ? `${fmt(o2.x_floor)}×` : '–', at2 && ok(floor) ? o2.x_floor <= 1.3 : null);
  target('export-csv --jobs 1 × floor', 'issue 7: ≤ 1.8×', ok(o) && ok(floor) ? `${fmt(o.x_floor)}×${cpuRatio(o, floor)}` : '–', ok(o) && ok(floor) ? o.x_floor <= 1.8 : null);
  const peak = Math.max(ok(o) ? o.rss_kb : 0, at2 ? o2.rss_kb : 0);
  target(`export-csv peak RSS at ${label(bigN)} (both levels)`, '< 150 MiB', peak ? `${fmt(mib(peak), 1)} MiB` : '–', peak ? mib(peak) < 150 : null);
  identical('export-csv', o2);
}

// (2) counts by category and distinct users
if (only.includes('analyze')) {
  const floor = await eventsFloor();
  const meta = events.big.meta;
  const job = { id: 'analyze', title: `2. counts by category and distinct users over ${big(bigN)} events`, rows: [floor],
    note: 'Ours emits its full summary (the counts plus affected users, per-user batches and one-line summaries). `mlr count-distinct -f category` is the one-pass reference of the target; the `-u` row does both counts in one pass, as ours does.' };
  job.rows.push(...await levels('analyze', { job: 'analyze', tool: 'analyze (ours)', role: 'ours', missing: ours.analyze.error, ...evIn,
    check: (p) => checkAnalyze(p, meta) }, [events.big.path]));
  job.rows.push(await runTool({ job: 'analyze', tool: 'mlr count-distinct -f category', role: 'peer', missing: MLR ? null : MISSING.mlr, ...evIn,
    cmd: [MLR, '--ijsonl', '--ojson', 'count-distinct', '-f', 'category', events.big.path], check: (p) => checkMillerCounts(p, meta, { users: false }) }));
  if (!opt.quick) job.rows.push(await runTool({ job: 'analyze', tool: 'mlr count-distinct -u (both)', role: 'peer', missing: MLR ? null : MISSING.mlr, ...evIn,
    cmd: [MLR, '--ijsonl', '--ojson', 'flatten', 'then', 'count-distinct', '-u', '-f', 'category,user_context.email', events.big.path], check: (p) => checkMillerCounts(p, meta, { users: true }) }));
  job.rows.push(await runTool({ job: 'analyze', tool: 'jq reduce', role: 'peer', missing: JQ ? null : MISSING.jq, ...evIn,
    // jq 1.6 copies a reduce accumulator on every update: a 60,000-key object of users there is
    // quadratic (938 s for 100,000 events), so users are collected and `unique`d, categories reduced.
    cmd: [JQ, '-n', '[inputs | [.category, .user_context.email]] | (reduce .[] as [$c] ({}; .[$c] += 1)) as $by | {by_category: $by, distinct_users: (map(.[1]) | unique | length)}', events.big.path],
    check: (p) => checkJqCounts(p, meta) }));
  // ndjson-cli: the same two counts in one pass (reduce), the users' object counted after.
  const reduce = `${show([NODE, ndjsonCli('ndjson-reduce'), '(p.c[d.category] = (p.c[d.category] || 0) + 1, p.u[d.user_context.email] = 1, p)', '{c: {}, u: {}}'])} < ${show([events.big.path])} | ${show([NODE, ndjsonCli('ndjson-map'), '({by_category: d.c, distinct_users: Object.keys(d.u).length})'])}`;
  job.rows.push(await runTool({ job: 'analyze', tool: 'ndjson-reduce', role: 'peer', missing: NDJSON_CLI ? null : MISSING['ndjson-cli'], ...evIn,
    cmd: ['bash', '-o', 'pipefail', '-c', reduce], check: (p) => checkJqCounts(p, meta) }));
  await settle(job.rows);
  jobs.push(relate(job, floor));
  const [, o, o2, m] = job.rows;
  for (const [r, n] of [[o, 1], [o2, 2]]) {
    const s = ok(r) && ok(m) ? m.median_s / r.median_s : null;
    target(`analyze --jobs ${n} vs one pass of mlr count-distinct`, '≥ 8×', s === null ? '–' : `${fmt(s)}×${cpuRatio(m, r)}`, s === null ? null : s >= 8);
  }
  identical('analyze', o2);
}

// (3) process with the built-in pack
// A fixed --now: the events' timestamps (and so the outputs of two runs) are the same bytes.
const processArgs = (dir) => ['--rules', 'user-management', '--job', 'user_management', '--now', '2026-12-01T00:00:00Z', '--registry', registry.path, dir];
if (only.includes('process')) {
  const dirN = directory.big.meta.records;
  const io = { records: dirN, bytes: directory.big.meta.bytes + registry.meta.bytes };
  const floor = await runTool({ job: 'process', tool: 'floor (registry + directory)', role: 'floor', cmd: [NODE, join(ROOT, 'bench/floor.mjs'), registry.path, directory.big.path], ...io, forceWarm: true });
  const job = { id: 'process', title: `3. process --rules user-management: ${big(dirN)} directory entries joined against a ${big(REGISTRY)}-person registry`, rows: [floor],
    note: 'records/s counts directory entries; MB/s counts registry + directory bytes. The floor reads and parses both files. No peer does this job.' };
  const missing = ours.process.error ?? (offers('process', 'registry') ? null : 'process has no --registry yet (built-in pack not wired)');
  job.rows.push(...await levels('process', { job: 'process', tool: 'process (ours)', role: 'ours', missing, ...io,
    check: (p) => { const { size } = statSync(p); return size === 0 ? 'no events' : null; } }, processArgs(directory.big.path)));
  await settle(job.rows);
  jobs.push(relate(job, floor));
  const [, o, o2] = job.rows;
  for (const [r, n, goal] of [[o, 1, 5], [o2, 2, 3.5]]) {
    target(`process --jobs ${n} × floor (per record)`, `≤ ${goal}×`, ok(r) && ok(floor) ? `${fmt(r.x_floor)}×${cpuRatio(r, floor)}` : '–', ok(r) && ok(floor) ? r.x_floor <= goal : null);
    target(`process --jobs ${n} peak RSS at ${label(dirN)}`, '< 150 MiB', ok(r) ? `${fmt(mib(r.rss_kb), 1)} MiB` : '–', ok(r) ? mib(r.rss_kb) < 150 : null);
  }
  identical('process', o2);
}

// import-csv on job 1's CSV
if (only.includes('import')) {
  await csvOf(events.big, csvPath);
  const csvOk = existsSync(csvPath) && statSync(csvPath).size > 0;
  const io = { records: bigN, bytes: csvOk ? statSync(csvPath).size : 0 };
  const noCsv = csvOk ? null : 'no CSV from export-csv to read (job 1 did not produce one)';
  const job = { id: 'import', title: `4. import-csv: job 1's CSV (${fmt(io.bytes / 1e6, 0)} MB, ${big(bigN)} rows) → NDJSON`, rows: [],
    note: 'There is no JSON floor for CSV input; the ratio that counts is against Miller.' };
  // The run records that open and close our output are not rows.
  job.rows.push(...await levels('import-csv', { job: 'import', tool: 'import-csv (ours)', role: 'ours', missing: ours['import-csv'].error ?? noCsv, ...io,
    check: (p) => checkNdjsonCount(p, bigN + 2) }, [csvPath]));
  job.rows.push(await runTool({ job: 'import', tool: 'mlr --icsv --ojsonl cat', role: 'peer', missing: MLR ? noCsv : MISSING.mlr, ...io,
    cmd: [MLR, '--icsv', '--ojsonl', 'cat', csvPath], check: (p) => checkNdjsonCount(p, bigN) }));
  await settle(job.rows);
  jobs.push(relate(job, null));
  const [o, o2, m] = job.rows;
  for (const [r, n] of [[o, 1], [o2, 2]]) {
    const s = ok(r) && ok(m) ? m.median_s / r.median_s : null;
    target(`import-csv --jobs ${n} vs mlr --icsv --ojsonl cat`, '≥ 3×', s === null ? '–' : `${fmt(s)}×${cpuRatio(m, r)}`, s === null ? null : s >= 3);
  }
  identical('import-csv', o2);
}

// (4) start-up on empty input
if (only.includes('startup')) {
  const n = opt.quick ? 3 : Math.max(20, runs * 3);
  const job = { id: 'startup', title: `5. start-up: each binary on empty stdin (${n} runs after a warm-up)`, rows: [] };
  const base = await runTool({ job: 'startup', tool: 'node -e 0', role: 'floor', cmd: [NODE, '-e', '0'], records: 0, bytes: 0, n, forceWarm: true });
  job.rows.push(base);
  for (const b of BINARIES) {
    job.rows.push(await runTool({ job: 'startup', tool: b, role: 'ours', cmd: ourCmd(b), stdin: '/dev/null', missing: ours[b].error, records: 0, bytes: 0, n, forceWarm: true }));
  }
  await settle(job.rows);
  for (const r of job.rows) {
    r.records_per_s = NaN;
    r.mb_per_s = NaN;
    if (ok(r) && ok(base)) r.x_floor = r.median_s / base.median_s;
  }
  job.note = '× floor here is the multiple of `node -e 0`.';
  jobs.push(job);
  for (const r of job.rows.slice(1)) {
    target(`${r.tool} start-up vs node -e 0`, '≤ 1.8×', ok(r) && ok(base) ? `${fmt(r.x_floor)}× (${fmt(r.median_s * 1000, 0)} ms vs ${fmt(base.median_s * 1000, 0)} ms)` : '–', ok(r) && ok(base) ? r.x_floor <= 1.8 : null);
  }
}

// (5) peak RSS at the small and the big size
if (only.includes('memory')) {
  const smallN = events.small.meta.records;
  const smallCsv = join(DATA, `events-${label(smallN)}.csv`);
  await csvOf(events.small, smallCsv);
  const job = { id: 'memory', title: `6. peak RSS at ${label(smallN)} and ${label(bigN)} input records`, rows: [],
    note: 'One warm-up and one run per size (RSS does not need more); the largest peak is kept. The 1M figures of jobs 1–4 are reused when those jobs ran.' };
  const reuse = (jobId) => jobs.find((j) => j.id === jobId)?.rows.find((r) => r.role === 'ours');
  const plan = [
    ['export-csv', (e) => ourCmd('export-csv', e.path), 'export', 150],
    ['analyze', (e) => ourCmd('analyze', e.path), 'analyze', null],
    ['import-csv', (e, csv) => ourCmd('import-csv', csv), 'import', 150],
    ['process', (e, csv, dir) => ourCmd('process', ...processArgs(dir.path)), 'process', 150],
    ['notify', (e) => ourCmd('notify', e.path), null, null],
  ];
  const mem = [];
  for (const [b, mk, jobId, cap] of plan) {
    const sizes = {};
    for (const [which, ev, csv, dir] of [['small', events.small, smallCsv, directory.small], ['big', events.big, csvPath, directory.big]]) {
      const prior = which === 'big' && jobId ? reuse(jobId) : null;
      if (prior && !prior.error) {
        sizes[which] = prior;
        continue;
      }
      const missing = ours[b].error ?? (b === 'import-csv' && !existsSync(csv) ? 'no CSV input' : b === 'process' && !offers('process', 'registry') ? 'process has no --registry yet' : null);
      const recs = b === 'process' ? dir.meta.records : ev.meta.records;
      sizes[which] = await runTool({ job: 'memory', tool: `${b} @${label(recs)}`, role: 'ours', cmd: mk(ev, csv, dir), missing, records: recs, bytes: b === 'process' ? dir.meta.bytes : ev.meta.bytes, n: 1, forceWarm: !opt.quick });
      await settle([sizes[which]]);
    }
    mem.push({ b, cap, small: sizes.small, big: sizes.big });
    job.rows.push({ ...sizes.small, tool: `${b} @${label(sizes.small.records ?? smallN)}` }, { ...sizes.big, tool: `${b} @${label(sizes.big.records ?? bigN)}` });
  }
  jobs.push(job);
  for (const { b, cap, small, big: bg } of mem) {
    const both = ok(small) && ok(bg);
    const ratio = both ? bg.rss_kb / small.rss_kb : null;
    target(`${b} RSS ${label(bigN)} / ${label(smallN)}`, '≤ 1.2×', both ? `${fmt(ratio)}× (${fmt(mib(small.rss_kb), 0)} → ${fmt(mib(bg.rss_kb), 0)} MiB)` : '–', both ? ratio <= 1.2 : null);
    if (cap) target(`${b} peak RSS at ${label(bigN)}`, `< ${cap} MiB`, ok(bg) ? `${fmt(mib(bg.rss_kb), 1)} MiB` : '–', ok(bg) ? mib(bg.rss_kb) < cap : null);
  }
}

// across cores: process | export-csv, one pipeline vs GNU parallel
if (only.includes('cores')) {
  const dirN = directory.big.meta.records;
  const io = { records: dirN, bytes: directory.big.meta.bytes + registry.meta.bytes };
  const pre = ours.process.error ?? ours['export-csv'].error ?? (offers('process', 'registry') ? null : 'process has no --registry yet');
  const proc = show(ourCmd('process', ...processArgs(directory.big.path).slice(0, -1)));
  const exp = show(ourCmd('export-csv'));
  const single = `${proc} ${show([directory.big.path])} | ${exp}`;
  const job = { id: 'cores', title: `7. across cores (${cpus().length} here): process | export-csv over ${big(dirN)} directory entries`, rows: [],
    note: 'The single pipeline already overlaps its two processes; the parallel run splits the file into one part per core (`--pipepart --block -1`), each part through its own pipeline, headers off and one header written first.' };
  let singleRows = null;
  job.rows.push(await runTool({ job: 'cores', tool: 'process | export-csv', role: 'ours', cmd: ['bash', '-o', 'pipefail', '-c', single], missing: pre, ...io,
    check: (p) => { singleRows = scanCsv(p).rows; return null; } }));
  const jobsN = cpus().length;
  const par = `printf '%s\\n' ${SEED000_COLUMNS.join(',')}; ${show([PARALLEL ?? 'parallel'])} --pipepart -a ${show([directory.big.path])} --block -1 -j ${jobsN} ${show([`${proc} | ${exp} --no-header`])}`;
  job.rows.push(await runTool({ job: 'cores', tool: `parallel --pipepart -j ${jobsN}`, role: 'parallel', cmd: ['bash', '-o', 'pipefail', '-c', par], missing: pre ?? (PARALLEL ? null : MISSING.parallel), ...io,
    check: (p) => { const rows = scanCsv(p).rows; return singleRows !== null && rows !== singleRows ? `${rows} rows, single run had ${singleRows}` : null; } }));
  for (const flag of ['workers', 'threads', 'jobs']) {
    if (!pre && offers('process', flag) && offers('export-csv', flag)) {
      const cmd = `${show(ourCmd('process', ...processArgs(directory.big.path).slice(0, -1), `--${flag}`, String(jobsN)))} ${show([directory.big.path])} | ${exp} --${flag} ${jobsN}`;
      job.rows.push(await runTool({ job: 'cores', tool: `--${flag} ${jobsN}`, role: 'parallel', cmd: ['bash', '-o', 'pipefail', '-c', cmd], ...io }));
    }
  }
  await settle(job.rows);
  const [s, ...pars] = job.rows;
  for (const r of job.rows) if (ok(r) && ok(s)) r.x_floor = r.median_s / s.median_s;
  job.note += ' × floor here is the multiple of the single pipeline.';
  jobs.push(job);
  const best = pars.filter(ok).sort((a, b) => a.median_s - b.median_s)[0];
  const gain = ok(s) && best ? s.median_s / best.median_s : null;
  target('across cores vs single pipeline', '≥ 1.6×', gain === null ? '–' : `${fmt(gain)}× (${best.tool})`, gain === null ? null : gain >= 1.6);
}

// ---------------------------------------------------------------- report

const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model,
  memory_gib: +(totalmem() / 2 ** 30).toFixed(1),
  free_gib_at_start: +(freemem() / 2 ** 30).toFixed(1),
  node: process.version,
  loadavg_start: load0.map((x) => +x.toFixed(2)),
  loadavg_end: loadavg().map((x) => +x.toFixed(2)),
  rss_method: RSS_METHOD,
};
const header = [
  `## Benchmark run ${started.toISOString()}${opt.quick ? ' (--quick)' : ''}`,
  '',
  `Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memory_gib} GiB RAM, Node ${machine.node}; load average ${machine.loadavg_start.join(' ')} at start, ${machine.loadavg_end.join(' ')} at end. Peak RSS: ${RSS_METHOD}.`,
  `Peers: ${Object.entries(peers).map(([k, v]) => `${k}: ${v ?? '**missing**'}`).join('; ')}.`,
  `Data: events ${big(events.big.meta.records)} (${fmt(events.big.meta.bytes / 1e6, 0)} MB, ${events.big.meta.distinct_users} distinct users) and ${big(events.small.meta.records)}; directory ${big(directory.big.meta.records)} entries (${fmt(directory.big.meta.bytes / 1e6, 0)} MB); registry ${big(registry.meta.records)} persons (${fmt(registry.meta.bytes / 1e6, 0)} MB). Median of ${runs} run${runs === 1 ? '' : 's'} after a warm-up${opt.quick ? ' (quick: the single run is the first one, no separate warm-up)' : ` (slower than ${slowSeconds} s: one run, for peers the first one)`}; MB = 10^6 bytes of input.`,
  '',
].join('\n');
const md = [header, ...jobs.map(jobTable), targetsTable(targets)].join('\n');
process.stdout.write(md + '\n');
const result = { started: started.toISOString(), finished: new Date().toISOString(), quick: opt.quick, runs, machine, peers,
  data: { events: { big: events.big.meta, small: events.small.meta }, directory: { big: directory.big.meta, small: directory.small.meta }, registry: registry.meta },
  jobs, targets };
// latest.* is the last run of any kind; full.* / quick.* keep the last of each.
for (const name of ['latest', opt.quick ? 'quick' : 'full']) {
  writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(RESULTS, `${name}.md`), md + '\n');
}
log(`wrote ${rel(join(RESULTS, 'latest.json'))} and ${rel(join(RESULTS, 'latest.md'))}`);
