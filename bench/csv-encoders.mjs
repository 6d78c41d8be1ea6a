// Encode-only comparison behind export-csv's hand-written encoder: the same cells (seed 000
// columns of N events, safe defaults applied) through our row encoder into a reused buffer,
// through csv-stringify's sync API per 1,000-row batch, and through its stream per record.
// Usage: node bench/csv-encoders.mjs [events.ndjson]   (run `npx tsc -p .` first)
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { stringify } from 'csv-stringify';
import { ChunkBuffer, makeRowEncoder } from '../dist/csv/write/encode.js';
import { RowBuilder } from '../dist/csv/write/row-builder.js';
import { EVENT_COLUMNS } from '../dist/csv/write/flatten.js';

const file = process.argv[2] ?? 'bench/data/events-100k.ndjson';
const builder = new RowBuilder({ escapeFormulas: true, redact: true }, EVENT_COLUMNS);
const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => builder.build(JSON.parse(l)).slice());
const fmt = { delimiter: ',', quote: '"', eol: '\n' };

async function time(name, fn) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { name, median_ms: Math.round(times[2]) };
}

const ours = await time('ours: row encoder → reused buffer', () => {
  const enc = makeRowEncoder(fmt);
  const cb = new ChunkBuffer();
  for (let i = 0; i < rows.length; i++) {
    cb.append(enc(rows[i]));
    if ((i & 1023) === 1023) cb.take();
  }
  cb.take();
});
const sync = await time('csv-stringify sync per 1,000 rows', () => {
  for (let i = 0; i < rows.length; i += 1000) Buffer.from(stringifySync(rows.slice(i, i + 1000), { quoted_match: /[\r\n]/ }));
});
const stream = await time('csv-stringify stream, one write per record', () =>
  new Promise((res) => {
    const s = stringify({ quoted_match: /[\r\n]/ });
    s.pipe(new Writable({ write(_c, _e, cb) { cb(); } })).on('finish', res);
    for (const r of rows) s.write(r);
    s.end();
  }),
);
for (const r of [ours, sync, stream]) console.log(`${r.name.padEnd(45)} ${String(r.median_ms).padStart(6)} ms  ${(r.median_ms / ours.median_ms).toFixed(2)}×`);
