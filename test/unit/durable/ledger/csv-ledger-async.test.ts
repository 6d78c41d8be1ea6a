// The library ledger shared by async workers of one process (seed 002's in-process queue), the
// commit timer, and upsert's field updates.
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../../helpers/run.js';
import { openLedger, type LedgerOptions } from '../../../../src/durable/ledger/csv-ledger.js';

const encodeRow = (cells: string[]) => cells.map((c) => (/[;"\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(';') + '\n';

function options(path: string, over: Partial<LedgerOptions> = {}): LedgerOptions {
  return { path, columns: ['id', 'name', 'STATUS'], delimiter: ';', quote: '"', crlf: false, bom: false, header: true, mode: 'append', encodeRow, log: () => undefined, ...over };
}

const rowsOf = (path: string): string[][] => parse(readFileSync(path), { delimiter: ';' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, deadlineMs = 10_000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}

describe('one ledger shared by async workers', () => {
  for (const workers of [4, 16]) {
    for (const mode of ['append', 'upsert'] as const) {
      it(`${workers} workers, ${mode}: every row written once, no error`, async () => {
        const path = join(tempDir(), 'results.csv');
        const logs: string[] = [];
        const ledger = await openLedger(options(path, { mode, key: 'id', commitMs: 5, lockTimeoutMs: 5000, log: (m) => logs.push(m) }));
        const perWorker = 100;
        await Promise.all(
          Array.from({ length: workers }, async (_, w) => {
            for (let i = 0; i < perWorker; i++) {
              const id = String(w * perWorker + i);
              ledger.add([id, `worker ${w}`, 'PENDING']);
              if (i % 3 === 0) await ledger.flush();
              if (i % 7 === 0) await ledger.commit();
              if (mode === 'upsert') ledger.add([id, undefined, 'COMPLETED']);
              await sleep(Math.random() * 2);
            }
          }),
        );
        const res = await ledger.close();
        const data = rowsOf(path).slice(1);
        expect(data).toHaveLength(workers * perWorker);
        expect(new Set(data.map((r) => r[0])).size).toBe(workers * perWorker);
        for (const r of data) expect(r).toEqual([r[0], `worker ${Math.floor(Number(r[0]) / perWorker)}`, mode === 'upsert' ? 'COMPLETED' : 'PENDING']);
        expect(res.rows).toBe(workers * perWorker);
        expect(logs).toEqual([]);
        expect(existsSync(`${path}.lock`)).toBe(false);
      });
    }
  }
});

describe('commit timer', () => {
  for (const mode of ['append', 'upsert'] as const) {
    it(`${mode}: a row is on disk within the interval with no further call (no flush, no close)`, async () => {
      const path = join(tempDir(), 'ledger.csv');
      const ledger = await openLedger(options(path, { mode, key: 'id', commitMs: 200 }));
      ledger.add(['1', 'a', 'COMPLETED']);
      expect(await until(() => existsSync(path) && readFileSync(path, 'utf8').includes('COMPLETED'))).toBe(true);
      await ledger.close();
    });
  }

  it("fsync 'always': flush() commits at once", async () => {
    const path = join(tempDir(), 'ledger.csv');
    const ledger = await openLedger(options(path, { mode: 'upsert', key: 'id', fsync: 'always' }));
    ledger.add(['1', 'a', 'PENDING']);
    await ledger.flush();
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n1;a;PENDING\n');
    await ledger.close();
  });
});

describe('upsert updates fields', () => {
  it('a row names only some cells: the others keep their value; an empty string clears', async () => {
    const path = join(tempDir(), 'ledger.csv');
    writeFileSync(path, 'id;name;STATUS\n1;ACME;PENDING\n2;B;PENDING\n');
    const ledger = await openLedger(options(path, { mode: 'upsert', key: 'id' }));
    ledger.add(['1', undefined, 'COMPLETED']);
    ledger.add(['2', '', undefined]);
    ledger.add(['3', undefined, 'NEW']);
    const res = await ledger.close();
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n1;ACME;COMPLETED\n2;;PENDING\n3;;NEW\n');
    expect(res).toMatchObject({ updated: 2, appended: 1 });
  });

  it('updates of one key merge cell by cell before the commit', async () => {
    const path = join(tempDir(), 'ledger.csv');
    writeFileSync(path, 'id;name;STATUS\n1;ACME;PENDING\n');
    const ledger = await openLedger(options(path, { mode: 'upsert', key: 'id' }));
    ledger.add(['1', 'ACME Ltd', undefined]);
    ledger.add(['1', undefined, 'COMPLETED']);
    await ledger.close();
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n1;ACME Ltd;COMPLETED\n');
  });

  it('replaceRows keeps the whole-row behaviour', async () => {
    const path = join(tempDir(), 'ledger.csv');
    writeFileSync(path, 'id;name;STATUS\n1;ACME;PENDING\n');
    const ledger = await openLedger(options(path, { mode: 'upsert', key: 'id', replaceRows: true }));
    ledger.add(['1', undefined, 'COMPLETED']);
    await ledger.close();
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n1;;COMPLETED\n');
  });

  it('duplicate keys already in the file are all updated, kept, and reported once', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    writeFileSync(path, 'id;name;STATUS\n1;a;PENDING\n2;b;PENDING\n1;a2;PENDING\n');
    const logs: string[] = [];
    const ledger = await openLedger(options(path, { mode: 'upsert', key: 'id', log: (m) => logs.push(m) }));
    ledger.add(['1', undefined, 'COMPLETED']);
    await ledger.commit();
    ledger.add(['1', undefined, 'FAILED']);
    const res = await ledger.close();
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n1;a;FAILED\n2;b;PENDING\n1;a2;FAILED\n');
    expect(res.rows).toBe(3);
    expect(logs).toEqual([`${path}: key "1" is on more than one row; every such row was updated and all were kept`]);
    expect(readdirSync(dir).sort()).toEqual(['ledger.csv']);
  });
});
