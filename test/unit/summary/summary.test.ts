import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSummaryBuilder, summarizeEvents, type Summary } from '../../../src/summary/summary.js';
import { readPartial } from '../../../src/summary/summary-partial.js';
import { createAnalyzeStage, type AnalyzeOptions } from '../../../src/commands/analyze.js';
import type { JsonObject } from '../../../src/event/event.js';
import { eventsOver, recordsOf } from '../../helpers/arb-events.js';
import { ExactNumber, parseJson, stringifyExact } from '../../../src/stream/exact-number.js';

const NOW = '2026-12-01T00:00:00.000Z';

function ev(over: Partial<Record<string, unknown>> = {}): JsonObject {
  return {
    event_id: 'e1',
    timestamp: '2026-11-21T10:00:00.000Z',
    event_type: 'error',
    category: 'Bad ORCID Claims',
    message: 'User has incomplete claim with ORCID identity provider',
    action_needed: 'delete_bad_record_and_reclaim_with_institutional_idp',
    user_context: { email: 'a@b.org', name: 'Ada', center_id: 42, registry_id: null, auth_email: null },
    source: { job: 'user_management', file: 'directory.csv', line: 1 },
    ...over,
  } as JsonObject;
}

/** Drives the analyze stage over records, as the CLI does, and returns what it emitted. */
function runStage(records: JsonObject[], opts: AnalyzeOptions): JsonObject[] {
  const out: JsonObject[] = [];
  const stage = createAnalyzeStage({ now: NOW, ...opts });
  records.forEach((value, i) => stage.push({ value, file: 'test', line: i + 1 }, (r) => out.push(r)));
  void stage.end((r) => out.push(r));
  return out;
}

describe('summary (seed 001 collector)', () => {
  it('builds the contract record: counts, categories, field names, users, batches, summaries, input, exports', () => {
    const s = summarizeEvents(
      [
        ev(),
        ev({ event_id: 'e2', timestamp: '2026-11-21T09:00:00.000Z', category: 'Unverified Email', action_needed: 'check_email_verification_in_comanage', message: 'not verified' }),
        ev({ event_id: 'e3', event_type: 'success', category: 'User Successfully Created', action_needed: null, user_context: { email: 'c@d.org', name: 'Cy', center_id: 7 } }),
        ev({ event_id: 'e4', category: 'Duplicate/Wrong User Records', action_needed: 'x', user_context: { email: null, name: 'Bo', center_id: null }, message: '' }),
        { kind: 'export', path: '/out/errors.csv', rows: 3 },
      ],
      { now: NOW },
    );
    expect(s).toEqual({
      kind: 'summary',
      version: 1,
      job: 'user_management',
      group: null,
      generated_at: NOW,
      first_event_at: '2026-11-21T09:00:00.000Z',
      last_event_at: '2026-11-21T10:00:00.000Z',
      total_events: 4,
      error_count: 3,
      success_count: 1,
      events_by_category: { 'Bad ORCID Claims': 1, 'Duplicate/Wrong User Records': 1, 'Unverified Email': 1, 'User Successfully Created': 1 },
      errors_by_category: { 'Bad ORCID Claims': 1, 'Duplicate/Wrong User Records': 1, 'Unverified Email': 1 },
      errors_by_category_field: { bad_orcid_claims: 1, duplicate_wrong_user_records: 1, unverified_email: 1 },
      actions_by_category: {
        'Bad ORCID Claims': { delete_bad_record_and_reclaim_with_institutional_idp: 1 },
        'Duplicate/Wrong User Records': { x: 1 },
        'Unverified Email': { check_email_verification_in_comanage: 1 },
      },
      affected_users: ['Bo', 'a@b.org'],
      affected_user_count: 2,
      affected_users_omitted: 0,
      user_batches: [
        {
          email: null, name: 'Bo', center_id: null, error_count: 1, errors_omitted: 0,
          errors: [{ category: 'Duplicate/Wrong User Records', message: '', action_needed: 'x', event_id: 'e4', timestamp: '2026-11-21T10:00:00.000Z' }],
        },
        {
          email: 'a@b.org', name: 'Ada', center_id: 42, error_count: 2, errors_omitted: 0,
          errors: [
            { category: 'Unverified Email', message: 'not verified', action_needed: 'check_email_verification_in_comanage', event_id: 'e2', timestamp: '2026-11-21T09:00:00.000Z' },
            { category: 'Bad ORCID Claims', message: 'User has incomplete claim with ORCID identity provider', action_needed: 'delete_bad_record_and_reclaim_with_institutional_idp', event_id: 'e1', timestamp: '2026-11-21T10:00:00.000Z' },
          ],
        },
      ],
      user_batches_omitted: 0,
      summaries: [
        'Bad ORCID Claims: a@b.org - User has incomplete claim with ORCID identity provider',
        'Duplicate/Wrong User Records: Bo - No details',
        'Unverified Email: a@b.org - not verified',
      ],
      summaries_omitted: 0,
      errors_over_time: { bucket: '1m', counts: { '2026-11-21T09:00:00.000Z': 1, '2026-11-21T10:00:00.000Z': 2 }, untimed: 0 },
      input: { records: 5, bad_lines: 0, filtered_out: 0, passed_through: 1 },
      exports: [{ kind: 'export', path: '/out/errors.csv', rows: 3 }],
      complete: true,
      incomplete_reasons: [],
      limits: { max_users: 1000, max_summaries: 1000, max_errors_per_user: 100 },
    });
  });

  it('caps the lists and says how many were left out; counts stay exact', () => {
    const b = createSummaryBuilder({ now: NOW, maxUsers: 2, maxSummaries: 3, maxErrorsPerUser: 1 });
    for (let i = 0; i < 10; i++) b.add(ev({ event_id: `e${i}`, user_context: { email: `u${i % 5}@x.org` }, message: `m${i}` }));
    const s = b.build();
    expect(s.error_count).toBe(10);
    expect(s.affected_user_count).toBe(5);
    expect(s.affected_users).toEqual(['u0@x.org', 'u1@x.org']);
    expect(s.affected_users_omitted).toBe(3);
    expect(s.user_batches.map((u) => [u.email, u.error_count, u.errors.length, u.errors_omitted])).toEqual([
      ['u0@x.org', 2, 1, 1],
      ['u1@x.org', 2, 1, 1],
    ]);
    expect(s.user_batches_omitted).toBe(3);
    expect(s.summaries).toHaveLength(3);
    expect(s.summaries_omitted).toBe(7);
  });

  it('--job overrides the events\' job; several jobs are listed sorted', () => {
    expect(summarizeEvents([ev()], { now: NOW, job: 'nightly' }).job).toBe('nightly');
    expect(summarizeEvents([ev({ source: { job: 'b' } }), ev({ source: { job: 'a' } })], { now: NOW }).job).toBe('a,b');
    expect(summarizeEvents([], { now: NOW }).job).toBeNull();
  });

  it('a plain summary with a capped user list is refused by --merge; an uncapped one is read back', () => {
    const capped = summarizeEvents([ev(), ev({ user_context: { email: 'z@x.org' } })], { now: NOW, maxUsers: 1 });
    expect(() => readPartial(capped as unknown as JsonObject)).toThrow(/capped affected_users/);
    const full = summarizeEvents([ev()], { now: NOW });
    expect(readPartial(full as unknown as JsonObject).affected_users).toEqual(['a@b.org']);
  });
});

const arbEvent = eventsOver({ emails: fc.constantFrom('a@x.org', 'b@x.org', 'c@x.org', 'd@x.org', null, '') });
const arbRecord = recordsOf(arbEvent);

const arbInput = fc.array(arbRecord, { maxLength: 60 }).map((recs) =>
  recs.map((r, i) => (r.kind === 'export' ? { ...r, path: `/out/f${i}.csv` } : r)),
);

const arbSplit = (n: number) => fc.uniqueArray(fc.integer({ min: 0, max: n }), { maxLength: 6 }).map((cuts) => [...cuts].sort((a, b) => a - b));

function pieces<T>(list: T[], cuts: number[]): T[][] {
  const out: T[][] = [];
  let from = 0;
  for (const c of [...cuts, list.length]) {
    out.push(list.slice(from, c));
    from = c;
  }
  return out;
}

const byJson = (a: JsonObject, b: JsonObject) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
const summariesOf = (recs: JsonObject[]) => recs.filter((r) => r.kind === 'summary');
const othersOf = (recs: JsonObject[]) => recs.filter((r) => r.kind !== 'summary').sort(byJson);

describe('partial states merge exactly', () => {
  it('for any events and any split, merging the pieces\' partials equals one run over all', () => {
    fc.assert(
      fc.property(
        arbInput.chain((recs) => fc.tuple(fc.constant(recs), arbSplit(recs.length))),
        fc.constantFrom(null, 'user', 'category', 'center'),
        fc.record({ maxUsers: fc.integer({ min: 0, max: 4 }), maxSummaries: fc.integer({ min: 0, max: 4 }), maxErrorsPerUser: fc.integer({ min: 0, max: 3 }) }),
        fc.option(fc.constantFrom({ type: 'error' }, { category: 'Unverified Email' }), { nil: null }),
        ([records, cuts], by, caps, filterSpec) => {
          const filter = filterSpec
            ? (r: JsonObject) => ('type' in filterSpec ? r.event_type === filterSpec.type : r.category === filterSpec.category) || (r.kind !== undefined)
            : null;
          const opts = { by: by as AnalyzeOptions['by'], ...caps, filter };
          const whole = runStage(records, opts);
          // Each piece's partials travel as NDJSON text, as they do between processes.
          const partials = pieces(records, cuts)
            .flatMap((p) => runStage(p, { ...opts, mode: 'partial' }))
            .map((r) => JSON.parse(JSON.stringify(r)) as JsonObject);
          const merged = runStage(partials, { mode: 'merge', by: opts.by });
          expect(summariesOf(merged)).toEqual(summariesOf(whole));
          expect(othersOf(merged)).toEqual(othersOf(whole));
          // A tree of merges (a combiner, then the reducer) gives the same summary.
          const half = Math.floor(partials.length / 2);
          const combined = runStage(partials.slice(0, half), { mode: 'merge-partial', by: opts.by }).map((r) => JSON.parse(JSON.stringify(r)) as JsonObject);
          const tree = runStage([...combined, ...partials.slice(half)], { mode: 'merge', by: opts.by });
          expect(summariesOf(tree)).toEqual(summariesOf(whole));
          expect(othersOf(tree)).toEqual(othersOf(whole));
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    );
  });

  it('stays exact when the lists overflow their caps many times over (compaction)', () => {
    // Hundreds of distinct users and texts: the bounded lists are compacted while they fill.
    const many = eventsOver({ emails: fc.integer({ min: 0, max: 400 }).map((i) => `u${i}@x.org`) }).map((e) => ({ ...e, message: `m${String(e.message).length}-${(e.user_context as JsonObject).email}` }));
    fc.assert(
      fc.property(
        fc.array(many, { minLength: 200, maxLength: 700 }).chain((recs) => fc.tuple(fc.constant(recs), arbSplit(recs.length))),
        fc.record({ maxUsers: fc.integer({ min: 1, max: 5 }), maxSummaries: fc.integer({ min: 1, max: 5 }), maxErrorsPerUser: fc.integer({ min: 1, max: 2 }) }),
        ([records, cuts], caps) => {
          const whole = runStage(records, caps);
          const partials = pieces(records, cuts)
            .flatMap((p) => runStage(p, { ...caps, mode: 'partial' }))
            .map((r) => JSON.parse(JSON.stringify(r)) as JsonObject);
          expect(summariesOf(runStage(partials, { mode: 'merge' }))).toEqual(summariesOf(whole));
          // And equal to the uncapped run, cut afterwards.
          const full = summarizeEvents(records, { now: NOW, maxUsers: 1e9, maxSummaries: 1e9, maxErrorsPerUser: 1e9 });
          const s = whole[0] as unknown as Summary;
          expect(s.summaries).toEqual(full.summaries.slice(0, caps.maxSummaries));
          expect(s.user_batches.map((b) => b.email)).toEqual(full.user_batches.slice(0, caps.maxUsers).map((b) => b.email));
          expect(s.user_batches.map((b) => b.errors)).toEqual(full.user_batches.slice(0, caps.maxUsers).map((b) => b.errors.slice(0, caps.maxErrorsPerUser)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('centers written exactly (1.0, 1e3, -0) merge to the same summary whatever the order of the pieces', () => {
    // A user's batch keeps the smallest center; one value written two ways (1e3 and 1000) must not
    // depend on which piece came first, and a partial read back keeps an ExactNumber center.
    const centers = [1, 0, 1000, null, '1.0', '1e3', '-0', '9007199254740993'];
    const arbEvent = fc.record({ user: fc.integer({ min: 0, max: 3 }), center: fc.integer({ min: 0, max: centers.length - 1 }) });
    fc.assert(
      fc.property(fc.array(arbEvent, { minLength: 1, maxLength: 30 }).chain((es) => fc.tuple(fc.constant(es), arbSplit(es.length))), ([es, cuts]) => {
        const records = es.map(({ user, center }) => {
          const c = centers[center]!;
          return ev({ user_context: { email: `u${user}@x.org`, name: 'U', center_id: typeof c === 'string' ? new ExactNumber(c) : c } });
        });
        const text = (rs: JsonObject[]) => summariesOf(rs).map((r) => stringifyExact(r));
        const whole = text(runStage(records, {}));
        // Partials travel as exact NDJSON text, as between processes; merged in both orders.
        const partials = pieces(records, cuts).flatMap((p) => runStage(p, { mode: 'partial' })).map((r) => parseJson(stringifyExact(r)) as JsonObject);
        expect(text(runStage(partials, { mode: 'merge' }))).toEqual(whole);
        expect(text(runStage([...partials].reverse(), { mode: 'merge' }))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('counts always add up', () => {
    fc.assert(
      fc.property(arbInput, fc.integer({ min: 0, max: 3 }), (records, cap) => {
        const s = summarizeEvents(records, { now: NOW, maxUsers: cap, maxSummaries: cap, maxErrorsPerUser: cap }) as Summary;
        const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
        expect(s.error_count + s.success_count).toBe(s.total_events);
        expect(sum(s.events_by_category)).toBe(s.total_events);
        expect(sum(s.errors_by_category)).toBe(s.error_count);
        expect(sum(s.errors_by_category_field)).toBe(s.error_count);
        expect(s.summaries.length + s.summaries_omitted).toBe(s.error_count);
        expect(s.affected_users.length + s.affected_users_omitted).toBe(s.affected_user_count);
        expect(s.user_batches.length + s.user_batches_omitted).toBe(s.affected_user_count);
        for (const b of s.user_batches) expect(b.errors.length + b.errors_omitted).toBe(b.error_count);
        expect(s.input.records).toBe(records.length);
        expect(s.input.records).toBe(s.total_events + s.input.passed_through);
      }),
      { numRuns: 200 },
    );
  });
});
