#!/usr/bin/env node
// The HTML report at scale: analyze over N generated events (default 1,000,000; --quick 100,000)
// with and without `-o report.html` (the cost of drawing the page), the cost per error of the
// errors_over_time histogram, the report's size, and the time headless Chromium takes to load and
// paint it. A script, not a test: it prints figures for BENCHMARKS.md and asserts nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateEvents } from './gen-bench-data.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const n = quick ? 100_000 : 1_000_000;
const data = join(root, 'bench/data');
mkdirSync(data, { recursive: true });
const events = join(data, `report-events-${n}.ndjson`);
if (!existsSync(events)) {
  console.error(`generating ${n} events into ${events} …`);
  generateEvents(events, n);
}
const work = mkdtempSync(join(tmpdir(), 'be-bench-report-'));
const analyze = join(root, 'bin/analyze.js');

function timed(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [analyze, ...args, events], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`analyze ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = quick ? 1 : 3;
const json = [];
const html = [];
const report = join(work, 'report.html');
for (let i = 0; i < runs; i++) {
  json.push(timed([]));
  html.push(timed(['-o', report]));
}
const bytes = statSync(report).size;

// The histogram alone, in-process: Timeline.add over n canonical times, one per 21.6 ms.
const { Timeline } = await import(pathToFileURL(join(root, 'dist/summary/timeline.js')).href);
const t0 = Date.parse('2026-11-21T00:00:00.000Z');
const times = Array.from({ length: n }, (_, i) => new Date(t0 + Math.floor(i * 21.6)).toISOString());
// Beside it, the same loop doing only a prefix compare: the floor of any per-event work here.
let nsPerError = Infinity;
let nsFloor = Infinity;
let t;
for (let rep = 0; rep < 5; rep++) {
  const tl = new Timeline();
  t = process.hrtime.bigint();
  for (const x of times) tl.add(x);
  nsPerError = Math.min(nsPerError, Number(process.hrtime.bigint() - t) / n);
  let last = '';
  let same = 0;
  t = process.hrtime.bigint();
  for (const x of times) {
    if (x.startsWith(last)) same++;
    else last = x.slice(0, 16);
  }
  nsFloor = Math.min(nsFloor, Number(process.hrtime.bigint() - t) / n);
}

let paint = null;
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (existsSync(chromium)) {
  const { chromium: pw } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'be-chromium-'));
  const ctx = await pw.launchPersistentContext(profile, {
    executablePath: chromium,
    headless: true,
    offline: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const times = [];
  for (let i = 0; i < 3; i++) {
    const page = await ctx.newPage();
    t = process.hrtime.bigint();
    await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    await page.close();
  }
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
  paint = median(times);
}
rmSync(work, { recursive: true, force: true });

const cpu = execFileSync('nproc').toString().trim();
console.log(`events: ${n.toLocaleString('en-US')} (${(statSync(events).size / 1e6).toFixed(0)} MB), ${cpu} cores, median of ${runs}`);
console.log(`analyze (json):              ${(median(json) / 1000).toFixed(2)} s`);
console.log(`analyze -o report.html:      ${(median(html) / 1000).toFixed(2)} s  (+${((median(html) - median(json)) / 1000).toFixed(2)} s for the page)`);
console.log(`errors_over_time histogram:  ${nsPerError.toFixed(0)} ns per error (in-process, Timeline.add, best of 5); a bare prefix-compare loop: ${nsFloor.toFixed(0)} ns`);
console.log(`report size:                 ${bytes.toLocaleString('en-US')} bytes`);
console.log(`Chromium load + paint:       ${paint === null ? `skipped (${chromium} not found)` : `${paint.toFixed(0)} ms (median of 3, headless)`}`);
