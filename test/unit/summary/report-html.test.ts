import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareCategories, renderHtmlReport } from '../../../src/summary/report-html.js';
import { timeBars } from '../../../src/summary/report-charts.js';
import { actionsOf, escapeHtml } from '../../../src/summary/report-text.js';
import { summarizeEvents } from '../../../src/summary/summary.js';
import type { JsonObject } from '../../../src/event/event.js';

const ev = (category: string, email: string | null, name: string, message: string, ts: string, action: string | null = null): JsonObject => ({
  event_type: 'error',
  category,
  message,
  action_needed: action,
  timestamp: ts,
  user_context: { email, name, center_id: 7, registry_id: null, auth_email: null },
  source: { job: 'nightly' },
});

function summary(): JsonObject {
  return summarizeEvents(
    [
      ev('Bad ORCID Claims', 'ada@x.org', 'Ada', 'incomplete claim', '2026-11-21T10:00:00Z', 'delete_bad_record_and_reclaim_with_institutional_idp'),
      ev('Bad ORCID Claims', 'bo@x.org', 'Bo', 'incomplete claim', '2026-11-21T10:05:00Z', 'delete_bad_record_and_reclaim_with_institutional_idp'),
      ev('Unverified Email', 'ada@x.org', 'Ada', 'not verified', '2026-11-21T11:00:00Z', 'check_email_verification_in_comanage'),
    ],
    { now: '2026-11-21T12:00:00.000Z' },
  ) as unknown as JsonObject;
}

/** The text of the page as a person reads it (tags out, entities decoded). */
function textOf(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

const RENDERER_TAGS = new Set('body main header h1 h2 h3 span p section div dl dt dd ol ul li svg rect bdi code figure figcaption g line title table thead tbody tr th td footer html nav a strong colgroup col'.split(' '));

describe('the HTML report', () => {
  it('is one self-contained page: no script, nothing loaded, a CSP that allows neither', () => {
    const html = renderHtmlReport(summary());
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|https?:\/\//i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'`);
    expect(html).toContain('<meta name="viewport"');
  });

  it('shows the run, every category with its count and action, the users and the time chart', () => {
    const text = textOf(renderHtmlReport(summary()));
    expect(text).toContain('nightly');
    expect(text).toMatch(/Bad ORCID Claims 2 66\.7%/);
    expect(text).toMatch(/Unverified Email 1 33\.3%/);
    expect(text).toContain('delete_bad_record_and_reclaim_with_institutional_idp');
    expect(text).toMatch(/ada@x\.org Ada 7 2 /);
    expect(text).toContain('Errors per 15 minutes'.slice(0, 10));
    // Issue 12's summaries say whether the input was complete.
    expect(text).toMatch(/Completeness complete/);
    expect(textOf(renderHtmlReport({ ...summary(), complete: undefined } as unknown as JsonObject))).toContain('not recorded by the stage');
  });

  it('reads both shapes of actions_by_category (issue 12 adds counts per action)', () => {
    const s = { ...summary(), actions_by_category: { 'Bad ORCID Claims': { delete_and_reclaim: 1, ask_the_user: 1 } } } as JsonObject;
    expect(actionsOf(s, 'Bad ORCID Claims')).toEqual([['ask_the_user', 1], ['delete_and_reclaim', 1]]);
    expect(textOf(renderHtmlReport(s))).toMatch(/ask_the_user × 1 .*delete_and_reclaim × 1/);
    expect(actionsOf(summary(), 'Unverified Email')).toEqual([['check_email_verification_in_comanage', 1]]);
    const old = { ...summary(), actions_by_category: { 'Unverified Email': 'check_email_verification_in_comanage' } } as JsonObject;
    expect(actionsOf(old, 'Unverified Email')).toEqual([['check_email_verification_in_comanage', null]]);
  });

  it('says when the input was incomplete, and why', () => {
    const s = { ...summary(), complete: false, incomplete_reasons: ['process: input ended mid-line <b>'] } as JsonObject;
    const html = renderHtmlReport(s);
    expect(html).toContain('The input was incomplete');
    expect(html).toContain('process: input ended mid-line &lt;b&gt;');
    expect(textOf(renderHtmlReport({ ...summary(), complete: true } as JsonObject))).toMatch(/Completeness complete/);
  });

  it('caps the users table with "… and N more", ranked by error count', () => {
    const events = Array.from({ length: 30 }, (_, i) => ev('Unverified Email', `u${String(i).padStart(2, '0')}@x.org`, 'U', 'm', '2026-11-21T10:00:00Z'));
    events.push(ev('Unverified Email', 'u29@x.org', 'U', 'again', '2026-11-21T10:01:00Z'));
    const html = renderHtmlReport(summarizeEvents(events) as unknown as JsonObject, { maxUsers: 5, maxSummaries: 0 });
    const text = textOf(html);
    expect(text).toContain('… and 25 more users');
    expect(text.indexOf('u29@x.org')).toBeLessThan(text.indexOf('u00@x.org'));
    expect(text).not.toContain('u05@x.org');
  });

  it('compares with the previous run: new, resolved, still failing', () => {
    const before = { ...summary(), errors_by_category: { 'Bad ORCID Claims': 5, 'Flywheel Error': 2 }, error_count: 7 } as JsonObject;
    expect(compareCategories(summary(), before)).toEqual([
      { category: 'Unverified Email', before: 0, now: 1, change: 'new' },
      { category: 'Bad ORCID Claims', before: 5, now: 2, change: 'still failing' },
      { category: 'Flywheel Error', before: 2, now: 0, change: 'resolved' },
    ]);
    const text = textOf(renderHtmlReport(summary(), { previous: [before], previousLabel: 'last.json' }));
    expect(text).toMatch(/Previous run \( last\.json \).*7 errors; now 3 \(−4\)/);
    expect(text).toMatch(/1 new 1 still failing 1 resolved/);
    expect(text).toMatch(/Flywheel Error resolved 2 0 −2/);
  });

  it('escapes every string and redacts secrets as the CSV does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (raw) => {
        const s = summarizeEvents([ev(raw, raw, raw, raw, '2026-11-21T10:00:00Z', raw)], { job: raw }) as unknown as JsonObject;
        const html = renderHtmlReport(s);
        const body = html.slice(html.indexOf('<body>'));
        // Every tag in the body is one the renderer writes.
        const tags = new Set([...body.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!));
        const unexpected = [...tags].filter((tag) => !RENDERER_TAGS.has(tag));
        expect(unexpected).toEqual([]);
      }),
      { numRuns: 100 },
    );
    const secret = ev('Flywheel Error', 'a@x.org', 'A', 'login failed password=hunter22 token: ghp_abcdefghijklmnopqrstuvwxyz0123', '2026-11-21T10:00:00Z');
    const html = renderHtmlReport(summarizeEvents([secret]) as unknown as JsonObject);
    expect(html).not.toContain('hunter22');
    expect(html).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123');
    expect(html).toContain('[REDACTED]');
    expect(escapeHtml(`"><img src=x onerror=alert(1)>'`)).toBe('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;');
  });

  it('draws time on a display unit of the same chain, gaps filled, counts kept', () => {
    const counts: Record<string, number> = {};
    for (let m = 0; m < 600; m += 7) counts[new Date(Date.parse('2026-11-21T00:00:00Z') + m * 60_000).toISOString()] = 2;
    const { unit, bars } = timeBars({ bucket: '1m', counts }, 96);
    expect(unit).toBe('15m');
    expect(bars.length).toBeLessThanOrEqual(96);
    expect(bars.reduce((n, b) => n + b.n, 0)).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
    for (let i = 1; i < bars.length; i++) expect(bars[i]!.start).toBe(bars[i - 1]!.end);
  });

  it('renders the summaries of analyze --by as one page with a section per group', () => {
    const a = { ...summary(), group: { by: 'center', value: '7' } } as JsonObject;
    const b = { ...summary(), group: { by: 'center', value: null }, error_count: 0, errors_by_category: {} } as JsonObject;
    const text = textOf(renderHtmlReport([a, b]));
    expect(text).toContain('3 errors in 2 groups');
    expect(text).toContain('center: 7');
    expect(text).toContain('center: (none)');
  });
});
