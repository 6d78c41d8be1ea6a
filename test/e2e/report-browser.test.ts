// The HTML report as support staff see it: analyze --format html output loaded in headless
// Chromium from a file:// URL, its rendered text read back, screenshots taken at desktop and phone
// sizes (test/out/screenshots/, git-ignored, for a person to look at).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run, tempDir } from '../helpers/run.js';
import { launchBrowser, layoutOf, noBrowser, screenshot, type TestBrowser } from '../helpers/browser.js';
import { renderHtmlReport } from '../../src/summary/report-html.js';
import { SummaryState } from '../../src/summary/summary.js';
import type { JsonObject } from '../../src/event/event.js';

let browser: TestBrowser;
beforeAll(async () => {
  if (!noBrowser) browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Distinct colours in a PNG is a poor man's "not blank": a blank page has one or two. */
function notBlank(png: Buffer): boolean {
  // PNG data is compressed; a blank page compresses to almost nothing.
  return png.length > 8_000;
}

async function checkLayout(file: string, name: string): Promise<string[]> {
  const texts: string[] = [];
  for (const [width, height, label] of [[1280, 800, 'desktop'], [390, 844, 'phone']] as const) {
    const r = await browser.open(file, { width, height });
    const { scrollWidth, clientWidth } = await layoutOf(r.page);
    expect(scrollWidth, `${name} at ${width}x${height} scrolls sideways`).toBeLessThanOrEqual(clientWidth);
    const shot = await screenshot(r.page, `${name}-${label}`);
    expect(notBlank(shot.png), `${shot.path} looks blank`).toBe(true);
    texts.push(await r.page.innerText('body'));
    expect(r.console).toEqual([]);
    await r.close();
  }
  return texts;
}

describe.skipIf(noBrowser)('the HTML report in headless Chromium', () => {
  it('npm run example leaves examples/out/report.html: every category and count, bars summing to the errors, the top users', async () => {
    const out = tempDir('be-report-example-');
    const res = await execa('bash', [join(ROOT, 'examples', 'pipeline.sh')], { env: { OUT: out }, reject: false, stdin: 'ignore' });
    expect(res.exitCode, res.stderr).toBe(0);
    const file = join(out, 'report.html');
    const summary = readFileSync(join(out, 'summary.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((r) => r.kind === 'summary');

    const [desktop, phone] = await checkLayout(file, 'example');
    for (const text of [desktop!, phone!]) {
      for (const [category, n] of Object.entries(summary.errors_by_category as Record<string, number>)) {
        expect(text).toContain(category);
        expect(text).toMatch(new RegExp(`${category.replace(/[/]/g, '\\/')}\\s+${n}\\s`));
      }
      expect(text).toContain(String(summary.error_count));
      const top = [...summary.user_batches].sort((a, b) => b.error_count - a.error_count)[0];
      expect(text).toContain(top.email ?? top.name);
    }
    const r = await browser.open(file);
    const bars = await r.page.$$eval('#h-cat ~ ol .bar-row', (rows) => rows.map((row) => ({ category: row.getAttribute('data-category'), n: Number(row.getAttribute('data-count')) })));
    expect(bars.reduce((s, b) => s + b.n, 0)).toBe(summary.error_count);
    expect(Object.fromEntries(bars.map((b) => [b.category, b.n]))).toEqual(summary.errors_by_category);
    const timeBars = await r.page.$$eval('.cols rect', (rects) => rects.reduce((s, x) => s + Number(x.getAttribute('data-count')), 0));
    expect(timeBars + summary.errors_over_time.untimed).toBe(summary.error_count);
    await r.close();
  });

  it('user strings cannot run: <script>, "><img onerror>, RTL and CJK names show as text and the layout holds', async () => {
    const dir = tempDir('be-report-inject-');
    const nasty = [
      ['<script>document.title="pwned";console.log("pwned")</script>', 'evil1@x.org'],
      ['"><img src=x onerror=console.log("pwned")>', 'evil2@x.org'],
      ['محمد عبد الرحمن الطويل', 'rtl@x.org'],
      ['山田太郎 (やまだ たろう) 研究センター', 'cjk@x.org'],
      ['x'.repeat(300), `${'long'.repeat(40)}@x.org`],
    ];
    const events = nasty.map(([name, email], i) => ({
      event_id: `e${i}`,
      timestamp: `2026-11-21T10:0${i}:00.000Z`,
      event_type: 'error',
      category: i === 0 ? '<script>console.log("cat")</script>' : i === 1 ? '"><svg onload=console.log(1)>' : 'Unverified Email',
      message: `${name} failed`,
      action_needed: i === 1 ? '<b onmouseover=alert(1)>act</b>' : 'check_email_verification_in_comanage',
      user_context: { email, name, center_id: 1, registry_id: null, auth_email: null },
      source: { job: '<i>job</i>' },
    }));
    const input = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const file = join(dir, 'report.html');
    const r0 = await run('analyze', ['--format', 'html', '-o', file], { input });
    expect(r0.exitCode, r0.stderr).toBe(0);

    const [desktop, phone] = await checkLayout(file, 'injection');
    for (const text of [desktop!, phone!]) {
      for (const [name] of nasty.slice(0, 4)) expect(text).toContain(name);
      expect(text).toContain('<script>console.log("cat")</script>');
      expect(text).toContain('<b onmouseover=alert(1)>act</b>');
    }
    const r = await browser.open(file);
    expect(await r.page.title()).not.toBe('pwned');
    expect(await r.page.$$('img, script, body svg[onload], b[onmouseover], i')).toHaveLength(0);
    await r.close();
  });

  it('a 1,000,000-event summary: the report is under 2 MB and renders (time printed, not asserted)', async () => {
    const state = new SummaryState({ job: 'nightly_1m', now: '2026-11-22T00:00:00.000Z' });
    const categories = ['Bad ORCID Claims', 'Unverified Email', 'Unclaimed Records', 'Missing Directory Data', 'Duplicate/Wrong User Records', 'Flywheel Error', 'Insufficient Permissions'];
    const t0 = Date.parse('2026-11-21T00:00:00.000Z');
    for (let i = 0; i < 1_000_000; i++) {
      const error = i % 4 !== 0;
      state.add({
        event_id: `e${i}`,
        timestamp: new Date(t0 + Math.floor(i * 21.6)).toISOString(),
        event_type: error ? 'error' : 'success',
        category: error ? categories[i % categories.length]! : 'User Successfully Created',
        message: `message ${i % 97}`,
        action_needed: null,
        user_context: { email: `user${i % 60_000}@uni.example.edu`, name: `User ${i % 60_000}`, center_id: i % 50 },
        source: { job: 'nightly_1m' },
      } as JsonObject);
    }
    const summary = state.build();
    const dir = tempDir('be-report-1m-');
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtmlReport(summary as unknown as JsonObject));
    const bytes = statSync(file).size;
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
    const started = Date.now();
    const r = await browser.open(file);
    await r.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const ms = Date.now() - started;
    console.log(`report of a 1,000,000-event summary: ${bytes} bytes, loaded and painted in ${ms} ms (headless Chromium)`);
    expect(await r.page.innerText('#h-cat + ol')).toContain('Bad ORCID Claims');
    expect(r.console).toEqual([]);
    await r.close();
  });
});
