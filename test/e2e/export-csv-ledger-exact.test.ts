// export-csv's ledger as seeds 002/004 use it: a record is on disk within the commit interval
// whatever the input does next, a signal commits what was taken, --upsert updates fields, and
// an existing file's header gives the columns.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { parse } from 'csv-parse/sync';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binPath, ndjson, nodeFlags, run, tempDir } from '../helpers/run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, deadlineMs = 15_000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(25);
  }
  return cond();
}

const has = (path: string, text: string) => existsSync(path) && readFileSync(path, 'utf8').includes(text);

function start(args: string[]) {
  return execa(process.execPath, [...nodeFlags('export-csv'), binPath('export-csv'), ...args], { reject: false, stdin: 'pipe' });
}

describe('export-csv ledger: commits bounded in time', () => {
  for (const extra of [[], ['--fsync', 'always']]) {
    it(`fault: ledger-idle-input-commit — a record followed by silence is on disk within the interval and survives kill -9 ${extra.join(' ')}`, async () => {
      const path = join(tempDir(), 'ledger.csv');
      writeFileSync(path, 'PO_NUMBER;VENDOR;STATUS\nPO1;ACME;PENDING\n');
      const child = start(['--upsert', 'PO_NUMBER', '--delimiter', ';', ...extra, '-o', path]);
      child.stdin!.write(JSON.stringify({ PO_NUMBER: 'PO1', STATUS: 'COMPLETED' }) + '\n');
      // stdin stays open: nothing else arrives, as with `(echo …; sleep 30) | export-csv …`.
      expect(await until(() => has(path, 'COMPLETED'))).toBe(true);
      child.kill('SIGKILL');
      const r = await child;
      expect(r.signal).toBe('SIGKILL');
      expect(readFileSync(path, 'utf8')).toBe('PO_NUMBER;VENDOR;STATUS\nPO1;ACME;COMPLETED\n');
    });
  }

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`fault: ledger-signal-commit — ${signal} commits the records taken before it (commit interval 1h)`, async () => {
      const dir = tempDir();
      const path = join(dir, 'results.csv');
      const child = start(['--append', '--commit-interval', '1h', '--pass-through', '-o', path]);
      child.stdin!.write(ndjson([{ id: '1', STATUS: 'COMPLETED' }, { id: '2', STATUS: 'FAILED' }]));
      // Wait until the records were read (they come back on stdout with --pass-through).
      let seen = '';
      child.stdout!.on('data', (d) => (seen += String(d)));
      await until(() => seen.includes('"FAILED"'), 5000);
      await sleep(seen.includes('"FAILED"') ? 0 : 2000);
      expect(existsSync(path)).toBe(false);
      child.kill(signal);
      const r = await child;
      expect(r.exitCode !== 0 || r.signal !== undefined).toBe(true);
      expect(readFileSync(path, 'utf8')).toBe('id,STATUS\n1,COMPLETED\n2,FAILED\n');
      expect(existsSync(`${path}.lock`)).toBe(false);
    });
  }
});

describe('export-csv --upsert updates fields', () => {
  it('the partial update case: PO1;ACME;PENDING + {PO_NUMBER, STATUS} → PO1;ACME;COMPLETED; null clears a cell', async () => {
    const path = join(tempDir(), 'ledger.csv');
    writeFileSync(path, 'PO_NUMBER;VENDOR;STATUS\nPO1;ACME;PENDING\nPO2;BOLT;PENDING\n');
    const r = await run('export-csv', ['--upsert', 'PO_NUMBER', '--delimiter', ';', '-o', path], {
      input: ndjson([{ PO_NUMBER: 'PO1', STATUS: 'COMPLETED' }, { PO_NUMBER: 'PO2', VENDOR: null }]),
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('PO_NUMBER;VENDOR;STATUS\nPO1;ACME;COMPLETED\nPO2;;PENDING\n');
    expect(r.records[0]).toMatchObject({ kind: 'export', mode: 'upsert', updated: 2, columns: ['PO_NUMBER', 'VENDOR', 'STATUS'] });
  });

  it('--replace-rows keeps the whole-row replacement', async () => {
    const path = join(tempDir(), 'ledger.csv');
    writeFileSync(path, 'PO_NUMBER;VENDOR;STATUS\nPO1;ACME;PENDING\n');
    const r = await run('export-csv', ['--upsert', 'PO_NUMBER', '--replace-rows', '--delimiter', ';', '-o', path], { input: ndjson([{ PO_NUMBER: 'PO1', STATUS: 'COMPLETED' }]) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('PO_NUMBER;VENDOR;STATUS\nPO1;;COMPLETED\n');
  });

  it('duplicate keys already in the file are reported on stderr and kept', async () => {
    const path = join(tempDir(), 'ledger.csv');
    writeFileSync(path, 'id,STATUS\n1,PENDING\n1,PENDING\n2,PENDING\n');
    const r = await run('export-csv', ['--upsert', 'id', '-o', path], { input: ndjson([{ id: '1', STATUS: 'COMPLETED' }]) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/key "1" is on more than one row; every such row was updated and all were kept/);
    expect(readFileSync(path, 'utf8')).toBe('id,STATUS\n1,COMPLETED\n1,COMPLETED\n2,PENDING\n');
  });
});

describe('export-csv --append/--upsert: columns from the file', () => {
  it('--append to an existing file of arbitrary records works without --columns; a record with another key is a bad line kept in --rejects', async () => {
    const dir = tempDir();
    const path = join(dir, 'results.csv');
    writeFileSync(path, 'id;name;STATUS\n1;a;DONE\n');
    const rejects = join(dir, 'rejects.ndjson');
    const r = await run('export-csv', ['--append', '--delimiter', ';', '--rejects', rejects, '-o', path], {
      input: ndjson([{ STATUS: 'DONE', id: 2, name: 'b' }, { id: 3, colour: 'red' }, { id: 4 }]),
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/stdin:2: colour is not a column of .*results.csv \(columns: id, name, STATUS\)/);
    expect(parse(readFileSync(path), { delimiter: ';' })).toEqual([['id', 'name', 'STATUS'], ['1', 'a', 'DONE'], ['2', 'b', 'DONE'], ['4', '', '']]);
    const kept = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(kept).toHaveLength(1);
    expect(JSON.parse(kept[0].raw)).toEqual({ id: 3, colour: 'red' });
  });

  it('a new file takes the first record\'s keys as its columns (nested keys flattened)', async () => {
    const path = join(tempDir(), 'new.csv');
    const r = await run('export-csv', ['--upsert', 'id', '-o', path], { input: ndjson([{ id: 'a', info: { n: 1 } }, { id: 'b', info: { n: 2 } }]) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('id,info.n\na,1\nb,2\n');
  });
});
