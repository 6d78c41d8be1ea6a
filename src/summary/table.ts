// The summary for a person at a terminal: the counts, and a bar per category drawn in text.
import stringWidth from 'string-width';
import type { Summary } from './record.js';

/** How much of the summary the terminal table shows. */
export interface TableOptions {
  /** Width of the longest bar, in characters. */
  barWidth?: number;
  /** Lines of the summaries list to show before "… N more". */
  maxLines?: number;
}

// Columns are counted as a terminal shows them: a CJK character or an emoji takes two.
function pad(text: string, width: number): string {
  const w = stringWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}

function padStart(text: string, width: number): string {
  const w = stringWidth(text);
  return w >= width ? text : ' '.repeat(width - w) + text;
}

/** A bar proportional to n/max; any non-zero count gets at least one block. */
export function bar(n: number, max: number, width: number): string {
  if (n <= 0 || max <= 0) return '';
  return '█'.repeat(Math.max(1, Math.round((n / max) * width)));
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Renders one summary as plain text lines (no colour: it must read the same in a pipe or a log). */
export function renderSummaryTable(s: Summary, opts: TableOptions = {}): string {
  const barWidth = opts.barWidth ?? 30;
  const maxLines = opts.maxLines ?? 10;
  const out: string[] = [];
  const incomplete = s.complete === false ? ['INCOMPLETE:', ...(s.incomplete_reasons ?? []).map((r) => `  ${r}`), ''] : [];
  const title = `Summary${s.job ? ` of ${s.job}` : ''}${s.group ? ` — ${s.group.by} ${s.group.value ?? '(none)'}` : ''}`;
  // Lines a stage could not read (--max-bad let it finish): what they held is in no count below.
  const skipped = s.skipped_lines?.length ? ['SKIPPED INPUT:', ...s.skipped_lines.map((r) => `  ${r}`), ''] : [];
  out.push(title, '='.repeat(stringWidth(title)), ...incomplete, ...skipped);
  out.push(
    `events ${fmt(s.total_events)}   errors ${fmt(s.error_count)}   successes ${fmt(s.success_count)}   users with errors ${fmt(s.affected_user_count)}`,
  );
  if (s.first_event_at) out.push(`from ${s.first_event_at} to ${s.last_event_at}`);
  out.push('');

  const cats = Object.entries(s.events_by_category);
  if (cats.length) {
    const nameW = Math.max(8, ...cats.map(([c]) => stringWidth(c)));
    const max = Math.max(...cats.map(([, n]) => n));
    out.push(`${pad('category', nameW)}  ${padStart('events', 8)}  ${padStart('errors', 8)}`);
    for (const [c, n] of cats) {
      const e = s.errors_by_category[c] ?? 0;
      out.push(`${pad(c, nameW)}  ${padStart(fmt(n), 8)}  ${padStart(fmt(e), 8)}  ${bar(n, max, barWidth)}`);
      for (const [a, k] of Object.entries(s.actions_by_category?.[c] ?? {})) out.push(`  ${pad(a, nameW - 2)}  ${padStart('', 8)}  ${padStart(fmt(k), 8)}`);
    }
    out.push('');
  }

  if (s.user_batches.length) {
    out.push(`users with errors (${fmt(s.affected_user_count)}):`);
    for (const b of s.user_batches.slice(0, maxLines)) {
      out.push(`  ${b.email ?? b.name}${b.email && b.name !== 'Unknown' ? ` (${b.name})` : ''}: ${fmt(b.error_count)} error${b.error_count === 1 ? '' : 's'}`);
    }
    const more = s.affected_user_count - Math.min(maxLines, s.user_batches.length);
    if (more > 0) out.push(`  … ${fmt(more)} more`);
    out.push('');
  }

  if (s.summaries.length) {
    out.push('errors:');
    for (const line of s.summaries.slice(0, maxLines)) out.push(`  ${line}`);
    const more = s.error_count - Math.min(maxLines, s.summaries.length);
    if (more > 0) out.push(`  … ${fmt(more)} more`);
    out.push('');
  }

  for (const e of s.exports) {
    out.push(`export: ${String(e.path ?? e.file ?? '?')}${typeof e.rows === 'number' ? ` (${fmt(e.rows)} rows)` : ''}`);
  }
  const i = s.input;
  out.push(`input: ${fmt(i.records)} records, ${fmt(i.bad_lines)} bad lines, ${fmt(i.filtered_out)} filtered out, ${fmt(i.passed_through)} passed through`);
  return out.join('\n') + '\n';
}
