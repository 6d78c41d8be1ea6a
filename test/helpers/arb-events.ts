// fast-check arbitraries of events for the summary properties (the pure analyze core and the
// Hadoop Streaming contract): small pools, so that users, timestamps, ids and messages collide
// and the caps bite.
import fc from 'fast-check';
import type { JsonObject } from '../../src/event/event.js';

export interface EventPools {
  emails: fc.Arbitrary<string | null>;
  messages?: readonly string[];
  names?: readonly string[];
}

/** v1 events drawn from the given pools (a round trip through JSON drops undefined fields). */
export function eventsOver({ emails, messages = ['m1', 'm2', '', 'a "quoted", message'], names = ['Ada', 'Bo', 'Unknown', ''] }: EventPools): fc.Arbitrary<JsonObject> {
  return fc
    .record({
      event_type: fc.constantFrom('error', 'error', 'success'),
      category: fc.constantFrom('Bad ORCID Claims', 'Unverified Email', 'User Successfully Created', 'Flywheel Error', 'Duplicate/Wrong User Records'),
      message: fc.constantFrom(...messages),
      action_needed: fc.constantFrom('act_a', 'act_b', null),
      event_id: fc.option(fc.constantFrom('e1', 'e2', 'e3', 'e4'), { nil: undefined }),
      timestamp: fc.option(fc.constantFrom('2026-01-01T00:00:00.000Z', '2026-01-02T12:00:00.000Z', '2026-01-01T00:00:00Z', '2025-12-31', 'not a date'), { nil: undefined }),
      user_context: fc.record({ email: emails, name: fc.constantFrom(...names), center_id: fc.constantFrom(1, 2, null) }),
      source: fc.record({ job: fc.constantFrom('jobA', 'jobB', null) }),
    })
    .map((e) => JSON.parse(JSON.stringify(e)) as JsonObject);
}

/** Mostly events, with the notification and export records analyze passes on. */
export function recordsOf(events: fc.Arbitrary<JsonObject>): fc.Arbitrary<JsonObject> {
  return fc.oneof(
    { weight: 12, arbitrary: events },
    { weight: 1, arbitrary: fc.constant({ kind: 'notification', status: 'sent' } as JsonObject) },
    { weight: 1, arbitrary: fc.constant({ kind: 'export', path: 'PATH', rows: 1 } as JsonObject) },
  );
}
