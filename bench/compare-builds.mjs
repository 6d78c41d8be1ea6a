#!/usr/bin/env node
// Before/after in one run: the same jobs on the same data with two builds of the binaries,
// alternating (A B A B …) so machine load hits both alike. Reports the median CPU seconds
// (user + sys, from /usr/bin/time) and wall seconds per job and build, and the ratio.
// Usage: node bench/compare-builds.mjs BEFORE_ROOT AFTER_ROOT EVENTS.ndjson [runs]
// (each root holds bin/ and a built dist/; EVENTS is bench/gen-bench-data.mjs output).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const [before, after, events, runsArg] = process.argv.slice(2);
if (!before || !after || !events) {
  process.stderr.write('usage: node bench/compare-builds.mjs BEFORE_ROOT AFTER_ROOT EVENTS.ndjson [runs]\n');
  process.exit(2);
}
const runs = Number(runsArg ?? 3);
const csv = events.replace(/\.ndjson$/, '.csv');
if (!existsSync(csv)) execFileSync('sh', ['-c', `node ${join(after, 'bin/export-csv.js')} --no-redact --no-escape-formulas ${events} > ${csv}`]);

const jobs = {
  'export-csv': (root) => [join(root, 'bin/export-csv.js'), events],
  analyze: (root) => [join(root, 'bin/analyze.js'), events],
  'process (events)': (root) => [join(root, 'bin/process.js'), events],
  'import-csv': (root) => [join(root, 'bin/import-csv.js'), csv],
};

function once(args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, '--max-semi-space-size=4', '--heap-growing-percent=50', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 20,
  });
  const last = String(r.stderr).trim().split('\n').pop();
  const [wall, user, sys] = last.split(' ').map(Number);
  return { wall, cpu: user + sys };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| job | before CPU s | after CPU s | after/before CPU | before wall s | after wall s |`);
console.log(`|---|---|---|---|---|---|`);
for (const [name, argsFor] of Object.entries(jobs)) {
  const m = { before: [], after: [] };
  for (let i = 0; i < runs; i++) {
    for (const [label, root] of i % 2 ? [['after', after], ['before', before]] : [['before', before], ['after', after]]) m[label].push(once(argsFor(root)));
  }
  const b = { cpu: median(m.before.map((x) => x.cpu)), wall: median(m.before.map((x) => x.wall)) };
  const a = { cpu: median(m.after.map((x) => x.cpu)), wall: median(m.after.map((x) => x.wall)) };
  console.log(`| ${name} | ${b.cpu.toFixed(2)} | ${a.cpu.toFixed(2)} | ${(a.cpu / b.cpu).toFixed(3)} | ${b.wall.toFixed(2)} | ${a.wall.toFixed(2)} |`);
}
