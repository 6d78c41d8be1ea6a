// What a per-record commit costs on a 10,000-row ledger (docs/durability.md): each record
// committed on its own (fsync 'always' = commitMs 0), against the 1 s default that groups them.
// Usage: node bench/ledger-commit.mjs [records]   (run after `npm run build`)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger } from '../dist/index.js';

const N = Number(process.argv[2] ?? 200);
const ROWS = 10_000;
const encodeRow = (cells) => cells.join(';') + '\n';
const seed = () => 'id;name;STATUS\n' + Array.from({ length: ROWS }, (_, i) => `${i};name ${i};PENDING\n`).join('');

async function measure(mode, perRecord) {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  const path = join(dir, 'ledger.csv');
  writeFileSync(path, seed());
  const ledger = await openLedger({ path, columns: ['id', 'name', 'STATUS'], delimiter: ';', quote: '"', crlf: false, bom: false, header: true, mode, key: mode === 'upsert' ? 'id' : 'id', encodeRow, fsync: perRecord ? 'always' : 'batch', log: () => undefined });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const id = mode === 'upsert' ? String((i * 7919) % ROWS) : String(ROWS + i);
    ledger.add([id, `name ${id}`, 'COMPLETED']);
    await ledger.flush();
  }
  await ledger.close();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

for (const mode of ['append', 'upsert']) {
  const each = await measure(mode, true);
  const grouped = await measure(mode, false);
  console.log(`${mode}: ${N} records into a ${ROWS}-row ledger: each on its own ${each.toFixed(0)} ms (${(each / N).toFixed(2)} ms/record); grouped by the 1 s timer ${grouped.toFixed(0)} ms`);
}
