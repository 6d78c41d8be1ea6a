import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binPath, ndjson, run, tempDir } from '../helpers/run.js';

describe('import-csv', () => {
  it('one flat JSON object per row, all values strings, empty cells ""; BOM and CRLF handled', async () => {
    const r = await run('import-csv', [], { input: Buffer.from('\uFEFFid,name,note\r\n1,Zoë,"a,""b""\r\nc"\r\n2,,\r\n', 'utf8') });
    expect(r.exitCode).toBe(0);
    expect(r.records).toEqual([{ id: '1', name: 'Zoë', note: 'a,"b"\r\nc' }, { id: '2', name: '', note: '' }]);
  });

  it('keeps a column named __proto__ (or constructor), once or twice, one thread or workers', async () => {
    const input = '__proto__,constructor,a,__proto__\n1,2,3,4\n5,6,7,8\n';
    const want = '{"__proto__":"4","constructor":"2","a":"3"}\n{"__proto__":"8","constructor":"6","a":"7"}\n';
    for (const env of [{}, { BATCH_EVENTS_PARALLEL_START: '1' }]) {
      const r = await run('import-csv', ['--jobs', '2'], { input, env });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.split('\n').filter((l) => !l.includes('"kind":"run"')).join('\n')).toBe(want);
    }
    const once = await run('import-csv', ['--jobs', '1'], { input: '__proto__,a\n1,2\n' });
    expect(once.stdout).toContain('{"__proto__":"1","a":"2"}\n');
  });

  it('--delimiter ; and tab, --quote, --columns for a headerless file', async () => {
    expect((await run('import-csv', ['--delimiter', ';'], { input: 'a;b\n1;2\n' })).records).toEqual([{ a: '1', b: '2' }]);
    expect((await run('import-csv', ['--delimiter', '\\t', '--columns', 'x,y'], { input: '1\t2\n3\t4\n' })).records).toEqual([{ x: '1', y: '2' }, { x: '3', y: '4' }]);
    expect((await run('import-csv', ['--quote', "'"], { input: "a,b\n'x,y',z\n" })).records).toEqual([{ a: 'x,y', b: 'z' }]);
    const bad = await run('import-csv', ['--delimiter', 'ab'], { input: '' });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^import-csv: invalid --delimiter: must be one character/);
    expect((await run('import-csv', ['--quote', '«'], { input: '' })).stderr).toMatch(/^import-csv: invalid --quote: must be one ASCII character/);
    // A multi-byte delimiter is fine: export-csv → import-csv round-trips through it.
    expect((await run('import-csv', ['--delimiter', '§'], { input: 'a§b\n"x§y"§z\n' })).records).toEqual([{ a: 'x§y', b: 'z' }]);
  });

  it("--where 'STATUS!=COMPLETED' lists the pending records of a ledger (seed 002 resume)", async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    writeFileSync(path, 'id;STATUS\n1;COMPLETED\n2;PENDING\n3;FAILED\n');
    const r = await run('import-csv', [path, '--delimiter', ';', '--where', 'STATUS!=COMPLETED']);
    expect(r.records.map((x) => x.id)).toEqual(['2', '3']);
  });

  it('--unescape-formulas undoes export-csv neutralisation', async () => {
    const r = await run('import-csv', ['--unescape-formulas'], { input: "a\n'=1+1\n'@x\n'plain\n" });
    expect(r.records.map((x) => x.a)).toEqual(['=1+1', '@x', "'plain"]);
  });

  it('malformed CSV: ragged rows and an unclosed quote are FILE:LINE bad lines; valid rows are kept', async () => {
    const dir = tempDir();
    const path = join(dir, 'in.csv');
    writeFileSync(path, 'a,b\n1,2\n3\n4,5\n"6,7\n8,9\n');
    const r = await run('import-csv', [path, '--rejects', join(dir, 'rej.ndjson'), '--max-bad', '5']);
    expect(r.exitCode).toBe(0);
    expect(r.records).toEqual([{ a: '1', b: '2' }, { a: '4', b: '5' }]);
    expect(r.stderr).toContain(`${path}:3: ragged row`);
    expect(r.stderr).toContain(`${path}:5: unclosed quote`);
    const rej = readFileSync(join(dir, 'rej.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rej[0]).toMatchObject({ file: path, line: 3, raw: '3' });
    const strict = await run('import-csv', [path]);
    expect(strict.exitCode).toBe(1);
  });

  it('export-csv --no-escape-formulas --no-redact | import-csv round-trips through the real binaries', async () => {
    const rec = fc.record({
      id: fc.integer().map(String),
      text: fc.string({ unit: fc.constantFrom('a', 'é', '名', '"', ',', ';', '\n', '\r\n', '=', '-', '@', ' ', "'") }),
      nested: fc.record({ v: fc.oneof(fc.string(), fc.constant(null)), flag: fc.boolean() }),
    });
    const records = fc.sample(fc.array(rec, { minLength: 50, maxLength: 50 }), { numRuns: 1, seed: 7 })[0]!;
    for (const delimiter of [',', ';', '\\t']) {
      const csv = await execa(process.execPath, [binPath('export-csv'), '--no-escape-formulas', '--no-redact', '--delimiter', delimiter], { input: ndjson(records), stripFinalNewline: false });
      const back = await run('import-csv', ['--delimiter', delimiter], { input: csv.stdout as string });
      expect(back.exitCode).toBe(0);
      expect(back.records).toEqual(records.map((r) => ({ id: r.id, text: r.text, 'nested.v': r.nested.v ?? '', 'nested.flag': String(r.nested.flag) })));
    }
  });
});
