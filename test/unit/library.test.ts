// The package's library API (package.json "exports" → dist/index.js), imported by its own name
// the way a user's program would, runs the same cores as the binaries.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run } from '../helpers/run.js';

const data = (f: string) => join(ROOT, 'examples', 'data', f);
const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('library API', () => {
  it('is importable by the package name and exposes each command core', async () => {
    const lib = await import('batch-events');
    for (const name of ['processRecords', 'processLogLines', 'analyzeRecords', 'summarizeEvents', 'toCsv', 'importCsv', 'notifyRecords', 'renderMessage', 'readNdjson', 'NdjsonWriter', 'buildFilter', 'normalizeEvent', 'openAtomic', 'openLedger']) {
      expect(typeof (lib as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('process → analyze → CSV in-process gives what the binaries give', async () => {
    const lib = await import('batch-events');
    const registry = data('registry.ndjson');
    const cli = await run('process', ['--job', 'user_management', '--registry', registry, data('directory.ndjson')]);
    expect(cli.exitCode).toBe(0);

    // The library takes the registry as an index; the CLI builds it from the file.
    const index = await lib.loadRegistry(registry);
    const events: Array<Record<string, any>> = [];
    // Named like the CLI's source, so event ids (which hash the file name) agree too.
    const source = data('directory.ndjson');
    for await (const e of lib.processRecords(lines(source), { job: 'user_management', registry: index }, source)) events.push(e);
    const pick = (e: Record<string, any>) => [e.event_id, e.event_type, e.category, e.user_context?.email, e.message];
    expect(events.map(pick)).toEqual(cli.records.map(pick));

    const summary = lib.summarizeEvents(events as never);
    expect(summary.total_events).toBe(events.length);
    expect(summary.error_count + summary.success_count).toBe(events.length);

    const csv = await lib.toCsv(events as never);
    expect(csv.split('\n')[0]).toBe('email,name,center_id,registry_id,auth_email,category,message,action_needed,timestamp,event_id');
    expect(csv.trimEnd().split('\n')).toHaveLength(events.length + 1);
  });
});
