// The JSON Schemas ship with the package; what the binaries print must validate against them.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ROOT, run } from '../helpers/run.js';

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  for (const name of ['event', 'summary', 'export', 'notification', 'run']) {
    ajv.addSchema(JSON.parse(readFileSync(join(ROOT, 'schema', `${name}.v1.json`), 'utf8')));
  }
  return ajv;
}

describe('schemas', () => {
  it('every shipped schema compiles', () => {
    const ajv = validator();
    for (const name of ['event', 'summary', 'export', 'notification', 'run']) {
      expect(ajv.getSchema(`https://batch-events.invalid/schema/${name}.v1.json`)).toBeTruthy();
    }
  });

  it('events printed by process validate against event.v1.json', async () => {
    const ajv = validator();
    const validate = ajv.getSchema('https://batch-events.invalid/schema/event.v1.json')!;
    const r = await run('process', [join(ROOT, 'examples/data/events.ndjson')]);
    expect(r.records.length).toBeGreaterThan(0);
    for (const e of r.records) {
      const ok = validate(e);
      expect(ok, JSON.stringify(validate.errors)).toBe(true);
    }
  });
});

describe('schemas of the workflow records', () => {
  it('run, export (written and failed), summary and notification records of a pipeline validate', async () => {
    const ajv = validator();
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'be-schema-'));
    writeFileSync(join(dir, 'blocker'), '');
    const events = await run('process', ['--now', '2026-11-21T10:00:00Z', '--registry', join(ROOT, 'examples/data/registry.ndjson'), join(ROOT, 'examples/data/directory.ndjson')]);
    const ok = await run('export-csv', ['--type', 'error', '-o', join(dir, 'errors.csv')], { input: events.stdout });
    const failed = await run('export-csv', ['--type', 'error', '-o', join(dir, 'blocker', 'errors.csv'), '--pass-through'], { input: events.stdout });
    const summary = await run('analyze', [], { input: events.stdout + ok.stdout + failed.stdout });
    const note = await run('notify', ['--to', 'support@example.org', '--dry-run'], { input: summary.stdout });
    const check = (name: string, rec: unknown) => {
      const v = ajv.getSchema(`https://batch-events.invalid/schema/${name}.v1.json`)!;
      expect(v(rec), `${name}: ${JSON.stringify(v.errors)}`).toBe(true);
    };
    for (const r of [events, ok, failed, summary, note]) for (const rr of r.runRecords) check('run', rr);
    expect(failed.records.find((r) => r.kind === 'export')!.status).toBe('failed');
    for (const r of [...ok.records, ...failed.records].filter((x) => x.kind === 'export')) check('export', r);
    check('summary', summary.records.find((r) => r.kind === 'summary'));
    check('notification', note.records.find((r) => r.kind === 'notification'));
  });
});
