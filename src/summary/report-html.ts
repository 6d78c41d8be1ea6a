// The run as one self-contained HTML page for support staff: no script, no network (a CSP that
// allows neither), inline CSS and SVG drawn here. Reads any summary-shaped record defensively
// (notify passes what it received), escapes every string and redacts secrets as the CSV does.
// This file is the page and its CSS; the SVG charts are report-charts.ts, the shared escaping
// and formatting report-text.ts.
import { readFileSync } from 'node:fs';
import { durationText } from '../cli/duration.js';
import { isPlainObject, num, obj, str, type JsonObject, type JsonValue } from '../event/event.js';
import { categoryChart, timeChart } from './report-charts.js';
import { arr, bdi, countsOf, fmt, plural, t, timeText } from './report-text.js';

/** How much the report shows, and what it compares with. */
export interface HtmlReportOptions {
  /** The previous run's summaries (--compare): matched to each summary by group. */
  previous?: JsonObject[] | null;
  /** Where the previous summaries came from, shown in the comparison. */
  previousLabel?: string | null;
  /** Rows of the users table before "… and N more" (default 50). */
  maxUsers?: number;
  /** One-line error summaries listed (default 20). */
  maxSummaries?: number;
  /** Bars at most in the errors-over-time chart (default 96). */
  maxTimeBars?: number;
  /** The producing version, in the footer (default: this package's). */
  version?: string | null;
}

/** Rows of the users table by default. */
export const DEFAULT_REPORT_USERS = 50;

let ownVersion: string | null | undefined;
function packageVersion(): string | null {
  if (ownVersion === undefined) {
    try {
      ownVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? null;
    } catch {
      ownVersion = null;
    }
  }
  return ownVersion;
}

function groupKey(s: JsonObject): string {
  const g = s.group;
  return isPlainObject(g) ? `${String(g.by)}\u0000${String(g.value)}` : '';
}

function glance(s: JsonObject): string {
  const errors = num(s.error_count);
  const total = num(s.total_events);
  const first = str(s.first_event_at);
  const last = str(s.last_event_at);
  const input = obj(s.input);
  const stat = (label: string, value: string, cls = '', note = '') =>
    `<div class="stat${cls}"><div class="k">${label}</div><div class="v">${value}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
  const out: string[] = [];

  const complete = s.complete;
  const reasons = arr(s.incomplete_reasons).filter((r): r is string => typeof r === 'string');
  const skipped = arr(s.skipped_lines).filter((r): r is string => typeof r === 'string').map((r) => `; <span class="warn-t">${bdi(r)}</span>`);
  if (complete === false) {
    out.push(
      `<div class="banner bad" role="alert"><strong>The input was incomplete.</strong> These counts may be short.` +
        (reasons.length ? `<ul>${reasons.map((r) => `<li>${bdi(r)}</li>`).join('')}</ul>` : '') +
        `</div>`,
    );
  }

  const span = first && last ? durationText(Date.parse(last) - Date.parse(first)) : '';
  out.push('<div class="glance">');
  out.push(stat('Errors', fmt(errors), errors > 0 ? ' err' : ' ok', total ? `of ${plural(total, 'event')} checked` : ''));
  out.push(stat('Users with errors', fmt(num(s.affected_user_count))));
  out.push(stat('Succeeded', fmt(num(s.success_count))));
  out.push(stat('Categories with errors', fmt(countsOf(s.errors_by_category).length)));
  out.push('</div>');

  const rows: Array<[string, string]> = [];
  rows.push(['Job', bdi(str(s.job) ?? 'batch job')]);
  const g = obj(s.group);
  if (g.by !== undefined) rows.push([`Group (${t(g.by as string)})`, g.value === null ? '(none)' : bdi(g.value)]);
  rows.push(['Time range', first ? `${timeText(first)} → ${timeText(last)}${span ? ` <span class="muted">(${span})</span>` : ''}` : '<span class="muted">no event had a time</span>']);
  rows.push(['Events checked', `${fmt(total)} <span class="muted">(${fmt(errors)} errors, ${fmt(num(s.success_count))} succeeded)</span>`]);
  const recs = num(input.records);
  if (recs) {
    const parts = [`${fmt(recs)} records`];
    if (num(input.bad_lines)) parts.push(`<span class="warn-t">${plural(num(input.bad_lines), 'bad line')}</span>`);
    if (num(input.filtered_out)) parts.push(`${fmt(num(input.filtered_out))} filtered out`);
    if (num(input.passed_through)) parts.push(`${fmt(num(input.passed_through))} other records`);
    rows.push(['Input', parts.join(', ')]);
  }
  rows.push([
    'Completeness',
    (complete === true
      ? '<span class="ok-t">complete</span>'
      : complete === false
        ? `<span class="err-t">incomplete</span>${reasons.length ? `: ${reasons.map(bdi).join('; ')}` : ''}`
        : '<span class="muted">not recorded by the stage that made this summary (taken as complete)</span>') + skipped.join(''),
  ]);
  for (const e of arr(s.exports)) {
    if (!isPlainObject(e)) continue;
    const path = str(e.path) ?? str(e.file);
    if (!path) continue;
    const failed = e.status === 'failed';
    rows.push([
      failed ? 'CSV file (failed)' : 'CSV file',
      `${bdi(path)}${typeof e.rows === 'number' ? ` <span class="muted">(${plural(e.rows, 'row')})</span>` : ''}${failed && str(e.error) ? ` <span class="err-t">${bdi(e.error)}</span>` : ''}`,
    ]);
  }
  out.push(`<dl class="facts">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`);
  return `<section class="card" aria-labelledby="h-glance"><h2 id="h-glance">The run at a glance</h2>${out.join('')}</section>`;
}

function usersTable(s: JsonObject, maxRows: number): string {
  const head = `<section class="card" aria-labelledby="h-users"><h2 id="h-users">Users with errors</h2>`;
  const batches = arr(s.user_batches).filter(isPlainObject);
  const total = Math.max(num(s.affected_user_count), batches.length);
  if (!total) return `${head}<p class="muted">No user had an error.</p></section>`;
  const keyOf = (b: JsonObject) => str(b.email) ?? str(b.name) ?? '';
  const sorted = [...batches].sort((a, b) => num(b.error_count) - num(a.error_count) || (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const shown = sorted.slice(0, maxRows);
  const rows = shown.map((b) => {
    const cats = new Map<string, number>();
    for (const e of arr(b.errors)) if (isPlainObject(e) && typeof e.category === 'string') cats.set(e.category, (cats.get(e.category) ?? 0) + 1);
    const catText = [...cats].sort((x, y) => y[1] - x[1]).map(([c, n]) => `${bdi(c)}${n > 1 ? ` <span class="muted">×${fmt(n)}</span>` : ''}`).join(', ');
    const more = num(b.errors_omitted) > 0 ? ` <span class="muted">(+${fmt(num(b.errors_omitted))} not listed)</span>` : '';
    const center = b.center_id === null || b.center_id === undefined ? '—' : t(b.center_id as JsonValue);
    const cell = (label: string, html: string, cls = '') => `<td data-label="${label}"${cls ? ` class="${cls}"` : ''}><span>${html}</span></td>`;
    return (
      `<tr>${cell('Email', str(b.email) ? bdi(b.email) : '<span class="muted">none</span>')}${cell('Name', bdi(str(b.name) ?? 'Unknown'))}` +
      `${cell('Center', center)}${cell('Errors', fmt(num(b.error_count)), 'n')}${cell('Categories', catText + more)}</tr>`
    );
  });
  const rest = total - shown.length;
  const notes: string[] = [];
  if (rest > 0) notes.push(`<p class="more">… and ${plural(rest, 'more user')}.</p>`);
  if (num(s.user_batches_omitted) > 0) {
    notes.push(`<p class="muted">The summary lists ${plural(batches.length, 'user')} (its --max-users, by email); the table ranks those by error count. The CSV file has every error.</p>`);
  }
  return (
    `${head}<table class="users"><colgroup><col class="email"><col class="name"><col class="center"><col class="errors"><col></colgroup><thead><tr><th>Email</th><th>Name</th><th>Center</th><th class="n">Errors</th><th>Categories</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>${notes.join('')}</section>`
  );
}

type Change = 'new' | 'resolved' | 'still failing';

/** Per category: the change since the previous run. */
export function compareCategories(now: JsonObject, before: JsonObject): Array<{ category: string; before: number; now: number; change: Change }> {
  const a = new Map(countsOf(before.errors_by_category));
  const b = new Map(countsOf(now.errors_by_category));
  const rows: Array<{ category: string; before: number; now: number; change: Change }> = [];
  for (const [c, n] of b) rows.push({ category: c, before: a.get(c) ?? 0, now: n, change: a.has(c) ? 'still failing' : 'new' });
  for (const [c, n] of a) if (!b.has(c)) rows.push({ category: c, before: n, now: 0, change: 'resolved' });
  const order: Record<Change, number> = { new: 0, 'still failing': 1, resolved: 2 };
  return rows.sort((x, y) => order[x.change] - order[y.change] || y.now - x.now || y.before - x.before || (x.category < y.category ? -1 : 1));
}

function comparison(s: JsonObject, before: JsonObject | null, label: string | null): string {
  const head = `<section class="card" aria-labelledby="h-cmp"><h2 id="h-cmp">Since the previous run</h2>`;
  if (before === null) return `${head}<p class="muted">The previous summaries${label ? ` (${bdi(label)})` : ''} have none for this group.</p></section>`;
  const rows = compareCategories(s, before);
  const delta = (n: number) => (n > 0 ? `+${fmt(n)}` : n < 0 ? `−${fmt(-n)}` : '0');
  const prevErrors = num(before.error_count);
  const nowErrors = num(s.error_count);
  const when = str(before.last_event_at) ?? str(before.generated_at);
  const tally = (c: Change) => rows.filter((r) => r.change === c).length;
  const intro =
    `<p>Previous run${label ? ` (${bdi(label)})` : ''}${when ? `, ending ${timeText(when)}` : ''}: ${plural(prevErrors, 'error')}; now ${fmt(nowErrors)} ` +
    `<span class="${nowErrors > prevErrors ? 'err-t' : nowErrors < prevErrors ? 'ok-t' : 'muted'}">(${delta(nowErrors - prevErrors)})</span>. ` +
    `<span class="badge new">${tally('new')} new</span> <span class="badge still">${tally('still failing')} still failing</span> <span class="badge resolved">${tally('resolved')} resolved</span></p>`;
  if (!rows.length) return `${head}${intro}<p class="muted">No errors in either run.</p></section>`;
  const cls: Record<Change, string> = { new: 'new', 'still failing': 'still', resolved: 'resolved' };
  const body = rows
    .map(
      (r) =>
        `<tr data-category="${t(r.category)}" data-change="${r.change}"><td>${bdi(r.category)}</td><td><span class="badge ${cls[r.change]}">${r.change}</span></td>` +
        `<td class="n">${fmt(r.before)}</td><td class="n">${fmt(r.now)}</td><td class="n">${delta(r.now - r.before)}</td></tr>`,
    )
    .join('');
  return `${head}${intro}<table class="cmp"><colgroup><col><col class="change"><col class="n"><col class="n"><col class="n"></colgroup><thead><tr><th>Category</th><th>Change</th><th class="n">Before</th><th class="n">Now</th><th class="n">Δ</th></tr></thead><tbody>${body}</tbody></table></section>`;
}

function errorList(s: JsonObject, max: number): string {
  const list = arr(s.summaries).filter((x): x is string => typeof x === 'string');
  if (!list.length || max <= 0) return '';
  const shown = list.slice(0, max);
  const all = list.length + num(s.summaries_omitted);
  return (
    `<section class="card" aria-labelledby="h-list"><h2 id="h-list">${shown.length < all ? `First ${fmt(shown.length)} of ${fmt(all)} errors` : 'Errors'}</h2>` +
    `<ul class="lines">${shown.map((x) => `<li>${bdi(x)}</li>`).join('')}</ul>` +
    (shown.length < all ? `<p class="more">… and ${plural(all - shown.length, 'more error')} (see the CSV file).</p>` : '') +
    `</section>`
  );
}

const CSS = `
:root{--fg:#1b2230;--muted:#5d6678;--line:#e2e5eb;--bg:#f4f5f8;--card:#fff;--err:#b42318;--ok:#1f7a4a;--warn:#9a6200;--track:#eef0f4}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","Noto Sans Arabic","Noto Sans Hebrew","Helvetica Neue",Arial,sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px 20px 36px}
header.top{margin:0 0 18px}
h1{font-size:1.55rem;line-height:1.2;margin:0 0 4px;overflow-wrap:anywhere}
h2{font-size:1.05rem;margin:0 0 12px}
h3.group{font-size:1.25rem;margin:28px 0 10px;overflow-wrap:anywhere}
p{margin:0 0 8px}
.muted{color:var(--muted)}
.err-t{color:var(--err);font-weight:600}.ok-t{color:var(--ok);font-weight:600}.warn-t{color:var(--warn);font-weight:600}
section.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:0 0 14px;min-width:0}
.banner{border-radius:8px;padding:10px 14px;margin:0 0 14px}
.banner.bad{background:#fde8e6;border:1px solid #f4b9b3;color:#7a1a12}
.banner ul{margin:6px 0 0;padding-inline-start:20px}
.glance{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px;margin:0 0 14px}
.stat{border:1px solid var(--line);border-radius:8px;padding:10px 12px;min-width:0}
.stat .k{color:var(--muted);font-size:.82rem}
.stat .v{font-size:1.7rem;font-weight:700;font-variant-numeric:tabular-nums;line-height:1.2}
.stat .note{color:var(--muted);font-size:.8rem}
.stat.err .v{color:var(--err)}.stat.ok .v{color:var(--ok)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere;min-width:0}
ol.bars{list-style:none;margin:0;padding:0}
.bar-row{padding:9px 0;border-top:1px solid var(--line)}
.bar-row:first-child{border-top:0;padding-top:0}
.bar-head{display:flex;justify-content:space-between;gap:12px;align-items:baseline}
.bar-head .cat{font-weight:600;overflow-wrap:anywhere;min-width:0}
.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.bar-head .num{font-weight:700}
svg.bar{display:block;width:100%;height:12px;margin:5px 0 4px;border-radius:3px}
svg.bar .track{fill:var(--track)}
.c0{fill:#3b5bdb}.c1{fill:#c2410c}.c2{fill:#0f766e}.c3{fill:#9333ea}.c4{fill:#b45309}.c5{fill:#be123c}.c6{fill:#4d7c0f}.c7{fill:#0369a1}
ul.actions{list-style:none;margin:2px 0 0;padding:0;font-size:.88rem}
ul.actions li{overflow-wrap:anywhere}
ul.actions code{word-break:break-all}
.a-label{color:var(--muted);font-size:.8rem}
code{font:.86em ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;background:#eef1f7;padding:1px 5px;border-radius:4px;overflow-wrap:anywhere}
figure.timechart{margin:6px 0 0}
.plot{position:relative;border-bottom:1px solid #9aa3b2}
.plot svg{display:block;width:100%;height:170px}
.plot .grid line{stroke:#e6e8ee;stroke-width:1;vector-effect:non-scaling-stroke}
.plot .cols rect{fill:#3b5bdb}
.ymax{position:absolute;top:-2px;left:0;font-size:.75rem;color:var(--muted);background:rgba(255,255,255,.8);padding:0 3px}
.xaxis{display:flex;justify-content:space-between;gap:10px;font-size:.8rem;color:var(--muted);margin-top:4px}
table{width:100%;border-collapse:collapse;font-size:.92rem}
th,td{text-align:start;padding:6px 8px;border-top:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600;font-size:.82rem;border-top:0}
th.n,td.n{text-align:end;font-variant-numeric:tabular-nums;white-space:nowrap}
table.users,table.cmp{table-layout:fixed}
table.users col.email{width:30%}table.users col.name{width:22%}table.users col.center{width:5.5em}table.users col.errors{width:5em}
table.cmp col.change{width:8.5em}table.cmp col.n{width:5em}
.more{margin:8px 0 0;font-weight:600}
.badge{display:inline-block;border-radius:999px;padding:0 8px;font-size:.78rem;font-weight:600;white-space:nowrap}
.badge.new{background:#fde8e6;color:#8f1d14}.badge.still{background:#fff4dc;color:#7a4d00}.badge.resolved{background:#e3f5ea;color:#145c36}
ul.lines{margin:0;padding-inline-start:18px;font-size:.9rem}
ul.lines li{overflow-wrap:anywhere;margin:2px 0}
nav.groups ul{margin:0;padding-inline-start:18px;columns:2 14em}
footer{color:var(--muted);font-size:.8rem;margin-top:18px}
@media (max-width:640px){
  body{font-size:14px}
  main{padding:14px 10px 24px}
  section.card{padding:12px 12px}
  h1{font-size:1.3rem}
  .glance{grid-template-columns:1fr 1fr}
  .stat .v{font-size:1.4rem}
  dl.facts{grid-template-columns:1fr;gap:0}
  dl.facts dd{margin:0 0 6px}
  table.users thead{display:none}
  table.users tr{display:block;border-top:1px solid var(--line);padding:6px 0}
  table.users tr:first-child{border-top:0}
  table.users td{display:grid;grid-template-columns:5.6em minmax(0,1fr);gap:6px;border:0;padding:1px 2px;text-align:start}
  table.users td.n{text-align:start}
  table.users td:first-child{font-weight:600}
  table.users td::before{content:attr(data-label);color:var(--muted);font-size:.82rem;font-weight:400}
  table.users colgroup{display:none}
  table.cmp th,table.cmp td{padding:5px 4px}
  table.cmp col.change{width:5.9em}table.cmp col.n{width:3em}
  table.cmp .badge{padding:0 6px}
}
@media print{
  @page{size:A4;margin:12mm}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  body{background:#fff;font-size:10pt}
  main{max-width:none;padding:0}
  section.card{border:1px solid #ccd;break-inside:avoid-page;padding:10px 12px}
  tr,.bar-row{break-inside:avoid}
  h2,h3{break-after:avoid}
}
`;

function reportBody(s: JsonObject, opts: HtmlReportOptions, previous: JsonObject | null | undefined): string {
  return [
    glance(s),
    categoryChart(s),
    timeChart(s, opts.maxTimeBars ?? 96),
    previous !== undefined ? comparison(s, previous, opts.previousLabel ?? null) : '',
    usersTable(s, opts.maxUsers ?? DEFAULT_REPORT_USERS),
    errorList(s, opts.maxSummaries ?? 20),
  ].join('\n');
}

/** The previous summary for this one: same group, else (ungrouped) the first ungrouped one. */
function previousFor(s: JsonObject, previous: JsonObject[] | null | undefined): JsonObject | null | undefined {
  if (!previous) return undefined;
  const key = groupKey(s);
  return previous.find((p) => groupKey(p) === key) ?? (key === '' && previous.length === 1 ? previous[0]! : null);
}

function groupTitle(s: JsonObject): string {
  const g = obj(s.group);
  return g.by === undefined ? 'All events' : `${t(g.by as string)}: ${g.value === null ? '(none)' : bdi(g.value)}`;
}

/** One HTML document for one summary, or for the summaries of one `analyze --by` run (a section each). */
export function renderHtmlReport(summaries: JsonObject | JsonObject[], opts: HtmlReportOptions = {}): string {
  const list = Array.isArray(summaries) ? summaries : [summaries];
  const jobs = [...new Set(list.map((s) => str(s.job) ?? 'batch job'))];
  const job = jobs.join(', ');
  const generated = list.map((s) => str(s.generated_at)).find((x) => x !== null) ?? null;
  const errors = list.reduce((n, s) => n + num(s.error_count), 0);
  const title = `${job}: ${plural(errors, 'error')}`;
  const parts: string[] = [];
  parts.push(
    `<header class="top"><h1>${bdi(job)} <span class="muted">· run report</span></h1>` +
      `<p class="muted">${plural(errors, 'error')}${list.length > 1 ? ` in ${fmt(list.length)} groups` : ''}${generated ? ` · summarized ${timeText(generated)}` : ''}</p></header>`,
  );
  if (list.length === 0) parts.push('<section class="card"><p class="muted">No summary in the input.</p></section>');
  else if (list.length === 1) parts.push(reportBody(list[0]!, opts, previousFor(list[0]!, opts.previous)));
  else {
    parts.push(
      `<nav class="groups card" aria-label="Groups"><section class="card"><h2>Groups</h2><ul>${list
        .map((s, i) => `<li><a href="#g${i}">${groupTitle(s)}</a> <span class="muted">${plural(num(s.error_count), 'error')}</span></li>`)
        .join('')}</ul></section></nav>`,
    );
    list.forEach((s, i) => parts.push(`<h3 class="group" id="g${i}">${groupTitle(s)}</h3>${reportBody(s, opts, previousFor(s, opts.previous))}`));
  }
  const version = opts.version === undefined ? packageVersion() : opts.version;
  parts.push(`<footer>Made by batch-events${version ? ` ${t(version)}` : ''}. Times are UTC. Secrets are shown as [REDACTED].</footer>`);
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    // No script may run and nothing may load: the page is data only, safe to open from a mail.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">` +
    `<meta name="referrer" content="no-referrer">` +
    `<title>${title}</title><style>${CSS}</style></head>\n<body><main>\n${parts.join('\n')}\n</main></body></html>\n`
  );
}
