// The report's charts, drawn as inline SVG (no script, no network): errors by category as bars
// with their actions, and errors over time as columns on a display unit of the histogram.
import { num, obj, type JsonObject } from '../event/event.js';
import { actionsOf, bdi, countsOf, fmt, plural, t, timeText } from './report-text.js';
import { bucketStart, isTimelineUnit, nextBucket, TIMELINE_UNITS, type TimelineUnit } from './timeline.js';

/** The errors-by-category section: a bar per category, its share, and its actions with their counts. */
export function categoryChart(s: JsonObject): string {
  const cats = countsOf(s.errors_by_category);
  const errors = num(s.error_count);
  if (!cats.length) return `<section class="card" aria-labelledby="h-cat"><h2 id="h-cat">Errors by category</h2><p class="muted">No errors in this run.</p></section>`;
  const max = cats[0]![1];
  const items = cats.map(([c, n], i) => {
    const w = Math.max(0.5, (n / max) * 100);
    const share = errors > 0 ? Math.round((n / errors) * 1000) / 10 : 0;
    const actions = actionsOf(s, c);
    return (
      `<li class="bar-row" data-category="${t(c)}" data-count="${n}">` +
      `<div class="bar-head"><span class="cat">${bdi(c)}</span><span class="num">${fmt(n)} <span class="muted">${share}%</span></span></div>` +
      `<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true"><rect class="track" width="100" height="10"/><rect class="c${i % 8}" width="${w.toFixed(2)}" height="10"/></svg>` +
      (actions.length
        ? `<ul class="actions">${actions.map(([a, k]) => `<li><span class="a-label">action</span> <code>${bdi(a)}</code>${k !== null ? ` <span class="num">× ${fmt(k)}</span>` : ''}</li>`).join('')}</ul>`
        : '') +
      `</li>`
    );
  });
  return `<section class="card" aria-labelledby="h-cat"><h2 id="h-cat">Errors by category</h2><ol class="bars">${items.join('')}</ol></section>`;
}

interface TimeBar {
  start: number;
  end: number;
  n: number;
}

/** The histogram on a display unit (a coarser one of the same chain when there are too many bars), gaps filled. */
export function timeBars(h: { bucket: TimelineUnit; counts: Record<string, number> }, maxBars: number): { unit: TimelineUnit; bars: TimeBar[] } {
  const points = Object.entries(h.counts)
    .map(([k, n]) => [Date.parse(k), n] as [number, number])
    .filter(([ms, n]) => !Number.isNaN(ms) && n > 0)
    .sort((a, b) => a[0] - b[0]);
  let u = TIMELINE_UNITS.indexOf(h.bucket);
  if (!points.length) return { unit: h.bucket, bars: [] };
  const lo = points[0]![0];
  const hi = points[points.length - 1]![0];
  const count = (unit: TimelineUnit) => {
    let k = 0;
    for (let s = bucketStart(lo, unit); s <= hi && k <= maxBars; s = nextBucket(s, unit)) k++;
    return k;
  };
  while (u < TIMELINE_UNITS.length - 1 && count(TIMELINE_UNITS[u]!) > maxBars) u++;
  const unit = TIMELINE_UNITS[u]!;
  const sums = new Map<number, number>();
  for (const [ms, n] of points) {
    const s = bucketStart(ms, unit);
    sums.set(s, (sums.get(s) ?? 0) + n);
  }
  const bars: TimeBar[] = [];
  if (count(unit) <= maxBars) {
    for (let s = bucketStart(lo, unit); s <= hi; s = nextBucket(s, unit)) bars.push({ start: s, end: nextBucket(s, unit), n: sums.get(s) ?? 0 });
  } else {
    // Centuries of span even by the year: the non-empty years only.
    for (const [s, n] of [...sums].sort((a, b) => a[0] - b[0])) bars.push({ start: s, end: nextBucket(s, unit), n });
  }
  return { unit, bars };
}

const UNIT_TEXT: Record<TimelineUnit, string> = { '1m': 'minute', '5m': '5 minutes', '15m': '15 minutes', '1h': 'hour', '6h': '6 hours', '1d': 'day', '1mo': 'month', '1y': 'year' };

/** The errors-over-time section: one column per bucket (UTC), gaps shown, untimed errors noted. */
export function timeChart(s: JsonObject, maxBars: number): string {
  const head = `<section class="card" aria-labelledby="h-time"><h2 id="h-time">Errors over time</h2>`;
  const h = obj(s.errors_over_time);
  const errors = num(s.error_count);
  if (errors === 0) return `${head}<p class="muted">No errors in this run.</p></section>`;
  if (!isTimelineUnit(h.bucket)) return `${head}<p class="muted">This summary carries no time histogram (made by an older analyze).</p></section>`;
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(h.counts))) counts[k] = num(v);
  const { unit, bars } = timeBars({ bucket: h.bucket, counts }, maxBars);
  const untimed = num(h.untimed);
  const note = untimed ? `<p class="muted">${plural(untimed, 'error')} without a usable time ${untimed === 1 ? 'is' : 'are'} not in the chart.</p>` : '';
  if (!bars.length) return `${head}<p class="muted">No error had a usable time.</p>${note}</section>`;
  const max = Math.max(...bars.map((b) => b.n));
  const W = 10;
  const rects = bars
    .map((b, i) => {
      const hgt = b.n === 0 ? 0 : Math.max(1.5, (b.n / max) * 100);
      return `<rect x="${i * W + 1}" y="${(100 - hgt).toFixed(2)}" width="${W - 2}" height="${hgt.toFixed(2)}" data-count="${b.n}"><title>${timeText(new Date(b.start).toISOString())}: ${plural(b.n, 'error')}</title></rect>`;
    })
    .join('');
  const grid = [25, 50, 75].map((y) => `<line x1="0" x2="${bars.length * W}" y1="${y}" y2="${y}"/>`).join('');
  const first = bars[0]!;
  const last = bars[bars.length - 1]!;
  return (
    head +
    `<p class="muted">Errors per ${UNIT_TEXT[unit]} (UTC); the tallest bar is ${plural(max, 'error')}.</p>` +
    `<figure class="timechart"><div class="plot"><div class="ymax">${fmt(max)}</div>` +
    `<svg viewBox="0 0 ${bars.length * W} 100" preserveAspectRatio="none" role="img" aria-label="Errors per ${UNIT_TEXT[unit]}, ${timeText(new Date(first.start).toISOString())} to ${timeText(new Date(last.end).toISOString())}"><g class="grid">${grid}</g><g class="cols">${rects}</g></svg></div>` +
    `<figcaption class="xaxis"><span>${timeText(new Date(first.start).toISOString())}</span><span>${timeText(new Date(last.end).toISOString())}</span></figcaption></figure>` +
    note +
    `</section>`
  );
}
