import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../../helpers/run.js';
import { openLedger, type LedgerOptions } from '../../../../src/durable/ledger/csv-ledger.js';

// A plain RFC 4180 encoder, standing in for export-csv's.
const rfc4180 = (delimiter: string) => (cells: string[]) =>
  cells.map((c) => (c.includes(delimiter) || /["\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(delimiter) + '\n';

function options(path: string, over: Partial<LedgerOptions> = {}): LedgerOptions {
  const delimiter = over.delimiter ?? ';';
  return {
    path,
    columns: ['id', 'name', 'STATUS'],
    delimiter,
    quote: '"',
    crlf: false,
    bom: false,
    header: true,
    mode: 'append',
    encodeRow: rfc4180(delimiter),
    log: () => undefined,
    ...over,
  };
}

function rowsOf(path: string, delimiter = ';'): string[][] {
  return parse(readFileSync(path), { delimiter, bom: true, relax_column_count: false });
}

async function write(path: string, rows: string[][], over: Partial<LedgerOptions> = {}) {
  const ledger = await openLedger(options(path, over));
  for (const r of rows) ledger.add(r);
  await ledger.flush();
  return ledger.close();
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('csv ledger: append', () => {
  it('creates the file with its header, appends on the next run, and reports the final file', async () => {
    const path = join(tempDir(), 'results.csv');
    const first = await write(path, [['1', 'Ada; "A"', 'COMPLETED'], ['2', 'line\nbreak', 'FAILED']]);
    const second = await write(path, [['3', 'ü', 'COMPLETED']]);
    expect(rowsOf(path)).toEqual([['id', 'name', 'STATUS'], ['1', 'Ada; "A"', 'COMPLETED'], ['2', 'line\nbreak', 'FAILED'], ['3', 'ü', 'COMPLETED']]);
    expect(first).toMatchObject({ rows: 2, appended: 2, skipped: 0 });
    const disk = readFileSync(path);
    expect(second).toEqual({ path, rows: 3, appended: 1, updated: 0, skipped: 0, bytes: disk.length, sha256: sha(disk) });
    expect(readdirSync(join(path, '..')).sort()).toEqual(['results.csv']);
  });

  it('writes BOM and CRLF for a new file, and appends to such a file', async () => {
    const path = join(tempDir(), 'excel.csv');
    const crlf = (cells: string[]) => rfc4180(';')(cells).replace(/\n$/, '\r\n');
    await write(path, [['1', 'a', 'X']], { bom: true, crlf: true, encodeRow: crlf });
    await write(path, [['2', 'b', 'Y']], { bom: true, crlf: true, encodeRow: crlf });
    expect(readFileSync(path, 'utf8')).toBe('\uFEFFid;name;STATUS\r\n1;a;X\r\n2;b;Y\r\n');
  });

  it('fault: ledger-header-mismatch — a header mismatch is an error at open, and the file is untouched', async () => {
    const path = join(tempDir(), 'results.csv');
    writeFileSync(path, 'id;name\n1;a\n');
    await expect(openLedger(options(path))).rejects.toThrow('header does not match (file has id;name, run has id;name;STATUS); nothing was written');
    expect(readFileSync(path, 'utf8')).toBe('id;name\n1;a\n');
  });

  it('an empty existing file gets the header', async () => {
    const path = join(tempDir(), 'results.csv');
    writeFileSync(path, '');
    await write(path, [['1', 'a', 'X']]);
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n1;a;X\n');
  });

  it('with zero rows, a missing file is created with just the header', async () => {
    const path = join(tempDir(), 'results.csv');
    expect(await write(path, [])).toMatchObject({ rows: 0, appended: 0 });
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n');
  });

  it('--dedupe skips keys already in the file and repeated in the run, and counts them', async () => {
    const path = join(tempDir(), 'results.csv');
    await write(path, [['1', 'a', 'X'], ['2', 'b', 'X']], { key: 'id' });
    const res = await write(path, [['2', 'b2', 'Y'], ['3', 'c', 'Y'], ['3', 'c2', 'Y'], ['1', 'a2', 'Y'], ['4', 'd', 'Y']], { key: 'id' });
    expect(rowsOf(path).map((r) => r[0] + r[1])).toEqual(['idname', '1a', '2b', '3c', '4d']);
    expect(res).toMatchObject({ rows: 4, appended: 2, skipped: 3 });
  });

  it('a key that is not a column is a usage error', async () => {
    await expect(openLedger(options(join(tempDir(), 'r.csv'), { key: 'nope' }))).rejects.toThrow(/invalid --dedupe: must name one of the columns \(id, name, STATUS\), got "nope"/);
  });

  const torn: Array<[string, string, string]> = [
    ['a row cut mid-field (no line break at the end)', '3;c;COMPL', 'does not end with a line break'],
    ['a row cut inside a quoted line break', '3;"first line\n', 'does not parse'],
    ['a last line with the wrong cell count', '3;c\n', 'has 2 cells, not 3'],
  ];
  for (const [what, tail, why] of torn) {
    it(`fault: torn-tail-repair — repairs ${what}, keeps the cut bytes aside, and says so`, async () => {
      const dir = tempDir();
      const path = join(dir, 'results.csv');
      const good = 'id;name;STATUS\n1;"multi\nline";X\n2;b;X\n';
      writeFileSync(path, good + tail);
      const messages: string[] = [];
      const res = await write(path, [['3', 'c', 'COMPLETED']], { key: 'id', log: (m) => messages.push(m) });
      expect(readFileSync(path, 'utf8')).toBe(good + '3;c;COMPLETED\n');
      expect(res).toMatchObject({ rows: 3, appended: 1, skipped: 0 });
      const tornFile = readdirSync(dir).find((n) => n.startsWith('results.csv.torn-'))!;
      expect(tornFile).toMatch(/^results\.csv\.torn-\d{8}T\d{9}Z$/);
      expect(readFileSync(join(dir, tornFile), 'utf8')).toBe(tail);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toContain(`repaired a torn last row (`);
      expect(messages[0]).toContain(why);
      expect(messages[0]).toContain(`cut ${Buffer.byteLength(tail)} byte`);
    });
  }

  it('fault: torn-header — a torn header (killed while creating the file) is rebuilt', async () => {
    const path = join(tempDir(), 'results.csv');
    writeFileSync(path, 'id;na');
    await write(path, [['1', 'a', 'X']]);
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n1;a;X\n');
  });

  it('fault: ledger-malformed-refused — malformed CSV before the last row is refused, not cut', async () => {
    const path = join(tempDir(), 'results.csv');
    const text = 'id;name;STATUS\n1;"open;X\n2;b;X\n3;c;X\n';
    writeFileSync(path, text);
    await expect(write(path, [['4', 'd', 'X']])).rejects.toThrow(/results\.csv|malformed CSV before its last row .*nothing was written/);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('accepts an existing file with BOM and CRLF line ends (header check and dedupe)', async () => {
    const path = join(tempDir(), 'results.csv');
    writeFileSync(path, '\uFEFFid;name;STATUS\r\n1;a;X\r\n');
    const res = await write(path, [['1', 'dup', 'Y'], ['2', 'b', 'Y']], { key: 'id' });
    expect(res).toMatchObject({ rows: 2, appended: 1, skipped: 1 });
    expect(rowsOf(path)).toEqual([['id', 'name', 'STATUS'], ['1', 'a', 'X'], ['2', 'b', 'Y']]);
  });

  it('--fsync always and a comma delimiter produce the same file', async () => {
    const path = join(tempDir(), 'results.csv');
    await write(path, [['1', 'a,b', 'X'], ['2', 'c', 'Y']], { fsync: 'always', delimiter: ',', encodeRow: rfc4180(',') });
    expect(readFileSync(path, 'utf8')).toBe('id,name,STATUS\n1,"a,b",X\n2,c,Y\n');
  });

  it('--backup copies the existing file once per run before changing it', async () => {
    const dir = tempDir();
    const path = join(dir, 'results.csv');
    await write(path, [['1', 'a', 'X']]);
    const ledger = await openLedger(options(path, { backup: 5 }));
    for (let i = 2; i < 6; i++) {
      ledger.add([String(i), 'n', 'X']);
      await ledger.flush();
    }
    await ledger.close();
    const backups = readdirSync(join(dir, 'backups'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(dir, 'backups', backups[0]!), 'utf8')).toBe('id;name;STATUS\n1;a;X\n');
  });
});

describe('csv ledger: upsert', () => {
  it('replaces rows in place (order kept), appends new keys, backs up once, and counts', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    await write(path, [['1', 'a', 'PENDING'], ['2', 'b\nb', 'PENDING'], ['3', 'c', 'PENDING']], { mode: 'upsert', key: 'id' });
    const res = await write(path, [['2', 'b\nb', 'COMPLETED'], ['4', 'd', 'PENDING'], ['1', 'a', 'FAILED'], ['2', 'b\nb', 'COMPLETED']], { mode: 'upsert', key: 'id', backup: 5 });
    expect(rowsOf(path)).toEqual([['id', 'name', 'STATUS'], ['1', 'a', 'FAILED'], ['2', 'b\nb', 'COMPLETED'], ['3', 'c', 'PENDING'], ['4', 'd', 'PENDING']]);
    const disk = readFileSync(path);
    expect(res).toEqual({ path, rows: 4, appended: 1, updated: 2, skipped: 0, bytes: disk.length, sha256: sha(disk) });
    const backups = readdirSync(join(dir, 'backups'));
    expect(backups).toHaveLength(1);
    expect(rowsOf(join(dir, 'backups', backups[0]!)).map((r) => r[2])).toEqual(['STATUS', 'PENDING', 'PENDING', 'PENDING']);
  });

  it('keeps untouched rows byte for byte (quoting of other tools is not rewritten)', async () => {
    const path = join(tempDir(), 'ledger.csv');
    writeFileSync(path, 'id;name;STATUS\n"1";"a";"PENDING"\n2;b;PENDING\n');
    await write(path, [['2', 'b', 'COMPLETED']], { mode: 'upsert', key: 'id' });
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n"1";"a";"PENDING"\n2;b;COMPLETED\n');
  });

  it('closing without changes does not rewrite or back up the file', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    writeFileSync(path, 'id;name;STATUS\n1;a;X\n');
    const res = await write(path, [], { mode: 'upsert', key: 'id', backup: 5 });
    expect(res).toMatchObject({ rows: 1, appended: 0, updated: 0, bytes: 21 });
    expect(existsSync(join(dir, 'backups'))).toBe(false);
  });

  it('a torn tail is cut from the rewritten ledger and kept aside', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    writeFileSync(path, 'id;name;STATUS\n1;a;X\n2;"b');
    await write(path, [['1', 'a', 'Y']], { mode: 'upsert', key: 'id' });
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n1;a;Y\n');
    expect(readdirSync(dir).some((n) => n.startsWith('ledger.csv.torn-'))).toBe(true);
  });

  it('upsert needs a key', async () => {
    await expect(openLedger(options(join(tempDir(), 'l.csv'), { mode: 'upsert' }))).rejects.toThrow(/invalid --upsert: needs a key column/);
  });

  it('10,000 records over a 10,000-row ledger, flushed every 100 rows, stay linear (time reported, not asserted)', async () => {
    const path = join(tempDir(), 'ledger.csv');
    const initial = Array.from({ length: 10_000 }, (_, i) => [String(i), `name ${i}`, 'PENDING']);
    await write(path, initial, { mode: 'upsert', key: 'id' });
    const t0 = performance.now();
    const ledger = await openLedger(options(path, { mode: 'upsert', key: 'id', backup: 5 }));
    let commits = 0;
    for (let i = 0; i < 10_000; i++) {
      ledger.add([String((i * 7919) % 10_000), `name ${(i * 7919) % 10_000}`, 'COMPLETED']);
      if (i % 100 === 99) {
        const before = readFileSync(path).length;
        await ledger.flush();
        if (readFileSync(path).length !== before) commits++;
      }
    }
    const res = await ledger.close();
    const ms = performance.now() - t0;
    console.log(`upsert of 10,000 records into a 10,000-row ledger: ${ms.toFixed(0)} ms`);
    expect(res).toMatchObject({ rows: 10_000, updated: 10_000, appended: 0 });
    expect(rowsOf(path).slice(1).every((r) => r[2] === 'COMPLETED')).toBe(true);
    expect(commits).toBeLessThan(100);
  });
});

describe('csv ledger: properties', () => {
  const key = fc.constantFrom('1', '2', '3', '4', '5', 'x;y', 'q"uote', 'new\nline');
  const value = fc.string({ maxLength: 6 });
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), key, value }),
    fc.record({ kind: fc.constant('flush' as const) }),
    fc.record({ kind: fc.constant('reopen' as const) }),
  );

  async function play(mode: 'append' | 'upsert', ops: Array<{ kind: string; key?: string; value?: string }>): Promise<string[][]> {
    const path = join(tempDir('ledger-prop-'), 'l.csv');
    const open = () => openLedger(options(path, { mode, key: 'id', upsertCommitMs: 0 }));
    let ledger = await open();
    for (const o of ops) {
      if (o.kind === 'add') ledger.add([o.key!, o.value!, 'S']);
      else if (o.kind === 'flush') await ledger.flush();
      else {
        await ledger.close();
        ledger = await open();
      }
    }
    await ledger.close();
    return rowsOf(path);
  }

  it('upsert: any sequence ends with every key present exactly once, with its last value, in first-seen order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const expected = new Map<string, string>();
        for (const o of ops) if (o.kind === 'add') expected.set(o.key, o.value);
        const rows = await play('upsert', ops);
        expect(rows[0]).toEqual(['id', 'name', 'STATUS']);
        expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([...expected]);
      }),
      { numRuns: 100 },
    );
  });

  it('append --dedupe: any sequence ends with every key present exactly once, with its first value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const expected = new Map<string, string>();
        for (const o of ops) if (o.kind === 'add' && !expected.has(o.key)) expected.set(o.key, o.value);
        const rows = await play('append', ops);
        expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([...expected]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('csv ledger: idempotent upsert', () => {
  it('a run that changes nothing neither rewrites nor backs up the ledger, and counts the rows as skipped', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    await write(path, [['1', 'a', 'COMPLETED'], ['2', 'b', 'COMPLETED']], { mode: 'upsert', key: 'id' });
    const before = readFileSync(path);
    const res = await write(path, [['2', 'b', 'COMPLETED'], ['1', 'a', 'COMPLETED']], { mode: 'upsert', key: 'id', backup: 5 });
    expect(res).toMatchObject({ rows: 2, appended: 0, updated: 0, skipped: 2, sha256: sha(before) });
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(join(dir, 'backups'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['ledger.csv']);
  });
});

describe('csv ledger: more shapes', () => {
  it('fault: ledger-edited-between-batches — an in-place edit between batches (same inode) is noticed: keys are re-read, dedupe stays exact', async () => {
    const path = join(tempDir(), 'results.csv');
    const ledger = await openLedger(options(path, { key: 'id' }));
    ledger.add(['1', 'a', 'X']);
    await ledger.commit();
    writeFileSync(path, 'id;name;STATUS\n1;a;X\n2;edited by hand;X\n');
    ledger.add(['2', 'dup', 'Y']);
    ledger.add(['3', 'c', 'Y']);
    const res = await ledger.close();
    expect(readFileSync(path, 'utf8')).toBe('id;name;STATUS\n1;a;X\n2;edited by hand;X\n3;c;Y\n');
    expect(res).toMatchObject({ rows: 3, appended: 2, skipped: 1 });
  });

  it('--no-header files: append with dedupe and upsert by column position', async () => {
    const dir = tempDir();
    const a = join(dir, 'a.csv');
    await write(a, [['1', 'a', 'X']], { header: false, key: 'id' });
    await write(a, [['1', 'again', 'X'], ['2', 'b', 'X']], { header: false, key: 'id' });
    expect(readFileSync(a, 'utf8')).toBe('1;a;X\n2;b;X\n');
    const u = join(dir, 'u.csv');
    await write(u, [['1', 'a', 'PENDING'], ['2', 'b', 'PENDING']], { header: false, mode: 'upsert', key: 'id' });
    await write(u, [['2', 'b', 'DONE']], { header: false, mode: 'upsert', key: 'id' });
    expect(readFileSync(u, 'utf8')).toBe('1;a;PENDING\n2;b;DONE\n');
  });
});
