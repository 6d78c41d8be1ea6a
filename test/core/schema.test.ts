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
  for (const name of ['event', 'summary', 'export', 'notification']) {
    ajv.addSchema(JSON.parse(readFileSync(join(ROOT, 'schema', `${name}.v1.json`), 'utf8')));
  }
  return ajv;
}

describe('schemas', () => {
  it('every shipped schema compiles', () => {
    const ajv = validator();
    for (const name of ['event', 'summary', 'export', 'notification']) {
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
