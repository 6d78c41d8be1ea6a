import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { eventIdOfKey, idKeyPart, stableEventId } from '../../../src/event/event.js';
import { absent, personName } from '../../../src/event/normalize.js';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { userManagementPack } from '../../../src/rules/user-management.js';
import type { JsonObject } from '../../../src/event/event.js';

const part = fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.double(), fc.constant(null), fc.constant(undefined));

describe('event ids from a joined key', () => {
  it('eventIdOfKey of the parts joined by NUL (idKeyPart each) is stableEventId of the parts', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 6 }), (parts) => {
        expect(eventIdOfKey(parts.map(idKeyPart).join('\u0000'))).toBe(stableEventId(...parts));
      }),
      { numRuns: 500 },
    );
  });

  it('the engine ids are stableEventId(job, file, line, rule, n), across files and jobs', () => {
    for (const job of ['user_management', null]) {
      const engine = createRuleEngine({ packs: [userManagementPack], job, now: '2026-11-21T00:00:00.000Z' });
      const out: JsonObject[] = [];
      for (const [file, line] of [['a.ndjson', 1], ['b.ndjson', 7], ['a.ndjson', 2]] as const) {
        engine.entry({ value: { email: 'x@y.org', auth_email: 'z@y.org', center_id: 1, authorizations: [] }, file, line }, (ev) => out.push(ev));
      }
      expect(out.length).toBeGreaterThanOrEqual(6);
      // Each rule here reports one finding per entry (n = 0).
      for (const ev of out) {
        const src = ev.source as JsonObject;
        expect(ev.event_id).toBe(stableEventId(job, src.file as string, src.line as number, (ev.details as JsonObject).rule as string, 0));
      }
    }
  });
});

/** personName's {first_name, last_name} branch as it was written before (filter, map, join). */
function listName(v: { first_name?: unknown; last_name?: unknown }): string {
  const parts = [v.first_name, v.last_name].filter((p) => typeof p === 'string' && !absent(p.trim())) as string[];
  return parts.length ? parts.map((p) => p.trim()).join(' ') : 'Unknown';
}

describe('personName of {first_name, last_name}', () => {
  it('is the parts, trimmed, absent ones left out, joined by a space', () => {
    const namePart = fc.oneof(fc.string(), fc.constantFrom(' None ', 'null', '', '  ', ' Ada ', 'Lovelace'), fc.integer(), fc.constant(null), fc.constant(undefined));
    fc.assert(
      fc.property(namePart, namePart, (first_name, last_name) => {
        expect(personName({ first_name, last_name })).toBe(listName({ first_name, last_name }));
      }),
      { numRuns: 1000 },
    );
  });
});
