import { describe, expect, it } from 'vitest';
import { analyzeRecords, createAnalyzeStage, type AnalyzeOptions } from '../../../src/commands/analyze.js';
import { collect } from '../../../src/stream/stage.js';
import { renderSummaryTable, bar } from '../../../src/summary/table.js';
import { summarizeEvents } from '../../../src/summary/summary.js';
import type { JsonObject } from '../../../src/event/event.js';

const NOW = '2026-12-01T00:00:00.000Z';

const err = (email: string | null, category = 'Flywheel Error', extra: JsonObject = {}): JsonObject => ({
  event_type: 'error',
  category,
  message: 'boom',
  timestamp: '2026-11-21T10:00:00.000Z',
  user_context: { email, name: 'N', center_id: 3 },
  source: { job: 'j' },
  ...extra,
});

function drive(records: JsonObject[], opts: AnalyzeOptions) {
  const out: JsonObject[] = [];
  const stage = createAnalyzeStage({ now: NOW, ...opts });
  records.forEach((value, i) => stage.push({ value, file: 'in', line: i + 1 }, (r) => out.push(r)));
  void stage.end((r) => out.push(r));
  return { out, stage };
}

describe('analyze stage', () => {
  it('library form: records in, pass-through and summary out', async () => {
    const out = await collect(analyzeRecords([err('a@x.org'), { kind: 'notification', status: 'sent' }], { now: NOW }));
    expect(out.map((r) => r.kind)).toEqual(['notification', 'summary']);
    expect(out[1]!.generated_at).toBe(NOW);
  });

  it('counts error events for --fail-on-errors, after filters', () => {
    expect(drive([err('a'), err('b'), { ...err('c'), event_type: 'success' }], {}).stage.errorCount).toBe(2);
    expect(drive([err('a')], { filter: (r) => r.event_type === 'success' }).stage.errorCount).toBe(0);
  });

  it('--merge refuses to mix grouped and ungrouped partials', () => {
    const grouped = drive([err('a')], { mode: 'partial', by: 'user' }).out;
    const plain = drive([err('a')], { mode: 'partial' }).out;
    expect(() => drive([...plain, ...grouped], { mode: 'merge' })).toThrow(/cannot merge partials of different groupings \(--by user here, --by none before\)/);
  });

  it('--merge warns when its caps exceed the partials\' (the lists could differ from one run)', () => {
    const warnings: string[] = [];
    const partial = drive([err('a')], { mode: 'partial', maxUsers: 1 }).out;
    drive(partial, { mode: 'merge', maxUsers: 5, onWarning: (t) => warnings.push(t) });
    expect(warnings.join()).toMatch(/smaller caps/);
  });

  it('a plain uncapped summary merges like a partial', () => {
    const s = summarizeEvents([err('a@x.org')], { now: NOW }) as unknown as JsonObject;
    const merged = drive([s, err('b@x.org')], { mode: 'merge' }).out.at(-1)!;
    expect(merged.affected_users).toEqual(['a@x.org', 'b@x.org']);
    expect(merged.total_events).toBe(2);
  });

  it('a record that is not an event goes to onInvalid', () => {
    const bad: string[] = [];
    drive([{ hello: 1 }], { onInvalid: (item, reason) => bad.push(`${item.file}:${item.line}: ${reason}`) });
    expect(bad).toEqual(['in:1: not an event: event_type must be "error" or "success", got null']);
  });
});

describe('table', () => {
  it('draws bars proportional to the largest category, at least one block for any count', () => {
    expect(bar(10, 10, 20)).toBe('█'.repeat(20));
    expect(bar(1, 1000, 20)).toBe('█');
    expect(bar(0, 10, 20)).toBe('');
  });

  it('renders the counts, the categories, users, summaries and input', () => {
    const s = summarizeEvents([err('a@x.org'), err('a@x.org', 'Unverified Email'), { ...err('b@x.org'), event_type: 'success', category: 'User Successfully Created' }], { now: NOW });
    expect(renderSummaryTable(s, { barWidth: 4 })).toBe(
      [
        'Summary of j',
        '============',
        'events 3   errors 2   successes 1   users with errors 1',
        'from 2026-11-21T10:00:00.000Z to 2026-11-21T10:00:00.000Z',
        '',
        'category                     events    errors',
        'Flywheel Error                    1         1  ████',
        '  (none)                                    1',
        'Unverified Email                  1         1  ████',
        '  (none)                                    1',
        'User Successfully Created         1         0  ████',
        '',
        'users with errors (1):',
        '  a@x.org (N): 2 errors',
        '',
        'errors:',
        '  Flywheel Error: a@x.org - boom',
        '  Unverified Email: a@x.org - boom',
        '',
        'input: 3 records, 0 bad lines, 0 filtered out, 0 passed through',
        '',
      ].join('\n'),
    );
  });

  it('counts display columns, not UTF-16 units: a CJK title is underlined to its width, CJK categories line up', () => {
    const s = summarizeEvents([{ ...err('a@x.org'), source: { job: '夜間ジョブ', file: 'f', line: 1 } }], { now: NOW });
    const lines = renderSummaryTable(s, { barWidth: 4 }).split('\n');
    expect(lines[0]).toBe('Summary of 夜間ジョブ');
    expect(lines[1]).toBe('='.repeat(11 + 10));
    const t = renderSummaryTable({ ...s, events_by_category: { 'Flywheel Error': 1, 'エラー': 2 }, errors_by_category: { 'Flywheel Error': 1, 'エラー': 2 } }, { barWidth: 4 }).split('\n');
    const rows = t.filter((l) => l.startsWith('Flywheel') || l.startsWith('エラー'));
    // 'エラー' is 3 characters but 6 columns: both rows put their counts at the same column.
    expect(rows[0]!.indexOf('1')).toBe(rows[1]!.indexOf('2') + 3);
  });
});
