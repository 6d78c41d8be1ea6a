// The run() test helper is what most end-to-end assertions stand on: it must not turn output that
// is not NDJSON into an empty list of records, or `expect(records).toEqual([])` passes on garbage.
import { describe, expect, it } from 'vitest';
import { run } from '../../helpers/run.js';

describe('run() test helper', () => {
  it('parses NDJSON stdout into records, with the run records apart', async () => {
    const r = await run('import-csv', [], { input: 'a,b\n1,x\n2,y\n' });
    expect(r.exitCode).toBe(0);
    expect(r.records).toEqual([{ a: '1', b: 'x' }, { a: '2', b: 'y' }]);
    expect(r.runRecords.every((x) => x.kind === 'run')).toBe(true);
  });

  it('throws when records are read from stdout that is not NDJSON, naming the line', async () => {
    const r = await run('export-csv', [], { input: '{"a":1,"b":"x"}\n' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('a,b\n1,x\n');
    expect(() => r.records).toThrow(/stdout is not NDJSON \(line "a,b"\)/);
    expect(() => r.runRecords).toThrow(/not NDJSON/);
  });

  it('throws on lines that parse as JSON but are not records (a one-column CSV of numbers)', async () => {
    const r = await run('export-csv', ['--no-header'], { input: '{"n":1}\n{"n":2}\n' });
    expect(r.stdout).toBe('1\n2\n');
    expect(() => r.records).toThrow(/stdout is not NDJSON \(line "1"\)/);
  });

  it('gives empty records for text output only when the caller opts out', async () => {
    const r = await run('export-csv', [], { input: '{"a":1}\n', textOutput: true });
    expect(r.records).toEqual([]);
    expect(r.stdout).toBe('a\n1\n');
  });
});
