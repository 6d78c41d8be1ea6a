// Read-and-parse comparison behind our NDJSON reader: the same file through the `ndjson`
// package's parse stream (split2 + a per-record object stream), through the same with the
// records also collected with their line numbers (what every binary needs for FILE:LINE), and
// through our readNdjson (raw-byte splitting, per-line decode, batches per chunk).
// Usage: node bench/ndjson-readers.mjs [events.ndjson]   (run `npx tsc -p .` first)
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { BadLinePolicy } from '../dist/stream/bad-lines.js';
import { readNdjson } from '../dist/stream/ndjson-reader.js';

const require = createRequire(import.meta.url);
const ndjson = require('ndjson');
const file = process.argv[2] ?? 'bench/data/events-100k.ndjson';

async function time(name, fn) {
  const times = [];
  let count = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    count = await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { name, median_ms: Math.round(times[2]), count };
}

const viaPackage = (withLines) =>
  new Promise((resolve, reject) => {
    let n = 0;
    let line = 0;
    const items = [];
    createReadStream(file, { highWaterMark: 1024 * 1024 })
      .pipe(ndjson.parse())
      .on('data', (value) => {
        n++;
        // split2 skips nothing but parseRow drops empty rows, so this count is only right on clean input.
        if (withLines) items.push({ value, file, line: ++line });
        if (items.length >= 1024) items.length = 0;
      })
      .on('error', reject)
      .on('end', () => resolve(n));
  });

const pkg = await time('ndjson package: parse stream', () => viaPackage(false));
const pkgLines = await time('ndjson package + {value, file, line} items', () => viaPackage(true));
const ours = await time('ours: readNdjson (batches, FILE:LINE)', async () => {
  let n = 0;
  const policy = new BadLinePolicy();
  for await (const batch of readNdjson([{ name: file, open: () => createReadStream(file, { highWaterMark: 1024 * 1024 }) }], { policy })) n += batch.length;
  return n;
});
for (const r of [ours, pkg, pkgLines]) {
  console.log(`${r.name.padEnd(48)} ${String(r.median_ms).padStart(6)} ms  ${(r.median_ms / ours.median_ms).toFixed(2)}×  (${r.count} records)`);
}
