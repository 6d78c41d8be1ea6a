// The capped lists behind the summary's merges: whatever order the items come in, and however
// they are split between lists, each keeps exactly the first N of all it was offered.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FirstTexts, UserBatches } from '../../../src/summary/first-n.js';
import { compareBatchErrors } from '../../../src/summary/order.js';
import type { BatchError } from '../../../src/summary/record.js';

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('FirstTexts', () => {
  it('property: keeps the first cap texts in code-unit order, equal texts kept, whatever the offer order', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 3 }), { maxLength: 400, size: 'max' }), fc.nat(40), (texts, cap) => {
        const list = new FirstTexts(cap);
        for (const t of texts) list.offer(t);
        expect(list.first()).toEqual([...texts].sort(byCodeUnit).slice(0, cap));
      }),
      { numRuns: 200 },
    );
  });

  it('a lowered cap keeps the first of the longer list', () => {
    const list = new FirstTexts(5);
    for (const t of ['e', 'd', 'c', 'b', 'a']) list.offer(t);
    list.cap = 2;
    expect(list.first()).toEqual(['a', 'b']);
  });
});

describe('UserBatches', () => {
  const err = (timestamp: string, event_id: string): BatchError => ({ category: 'c', message: 'm', action_needed: null, event_id, timestamp });

  it('property: the first maxUsers keys, each with its first maxErrors errors, however the errors are split across notes (past the ceiling too)', () => {
    const arbNote = fc.record({ key: fc.nat(199).map((n) => `k${String(n).padStart(3, '0')}`), errors: fc.array(fc.tuple(fc.nat(9), fc.nat(9)), { maxLength: 6 }) });
    fc.assert(
      fc.property(fc.array(arbNote, { maxLength: 300, size: 'max' }), fc.nat(4), fc.nat(5), (notes, maxUsers, maxErrors) => {
        const batches = new UserBatches(maxUsers, maxErrors);
        const all = new Map<string, BatchError[]>();
        for (const n of notes) {
          const errors = n.errors.map(([t, i]) => err(`2026-01-0${t}`, `e${i}`));
          all.set(n.key, [...(all.get(n.key) ?? []), ...errors]);
          const b = batches.note(n.key, null, 'Unknown', null, errors.length);
          if (b !== null) for (const e of errors) batches.offerError(b, e);
        }
        const keys = [...all.keys()].sort(byCodeUnit).slice(0, maxUsers);
        expect(batches.first().map((b) => [b.name, b.error_count, b.errors])).toEqual(
          keys.map((k) => ['Unknown', all.get(k)!.length, [...all.get(k)!].sort(compareBatchErrors).slice(0, maxErrors)]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('merges what is known of a user in any order: a known name beats Unknown, the smaller name and center win', () => {
    const one = new UserBatches(10, 10);
    const two = new UserBatches(10, 10);
    const notes: Array<[string | null, string, number | null]> = [[null, 'Unknown', 7], ['a@x.org', 'Zed', null], [null, 'Ada', 3]];
    for (const [email, name, center] of notes) one.note('a@x.org', email, name, center, 1);
    for (const [email, name, center] of [...notes].reverse()) two.note('a@x.org', email, name, center, 1);
    expect(one.first()).toEqual(two.first());
    expect(one.first()[0]).toMatchObject({ email: 'a@x.org', name: 'Ada', center_id: 3, error_count: 3 });
  });
});
