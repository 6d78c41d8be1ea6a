// Headless Chromium (Debian's `chromium` package) driven by playwright-core, which never downloads
// a browser: tests that need it skip with this module's reason when the binary is missing.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { ROOT } from './run.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test/out/screenshots');

/** Why the browser tests skip here, or null when Chromium is installed. */
export const noBrowser: string | null = existsSync(CHROMIUM)
  ? null
  : `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium; .ci/run does) to run the browser tests`;
if (noBrowser) console.warn(`report browser tests skipped: ${noBrowser}`);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface OpenedReport {
  page: Page;
  /** Every console message and page error while the report loaded and was read. */
  console: string[];
  close(): Promise<void>;
}

export interface TestBrowser {
  open(file: string, viewport?: { width: number; height: number }): Promise<OpenedReport>;
  close(): Promise<void>;
}

/** One Chromium with a fresh profile (removed on close); each open() gets its own context. */
export async function launchBrowser(): Promise<TestBrowser> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'be-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 800 },
    offline: true,
  });
  const browser: Browser | null = context.browser();
  return {
    async open(file, viewport = { width: 1280, height: 800 }) {
      const page = await context.newPage();
      const messages: string[] = [];
      page.on('console', (m: ConsoleMessage) => messages.push(`console.${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
      page.on('dialog', (d) => {
        messages.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      await page.setViewportSize(viewport);
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      return { page, console: messages, close: () => page.close() };
    },
    async close() {
      await context.close();
      await browser?.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Layout facts a person would notice: horizontal scroll, and how much of the screenshot is not blank. */
export async function layoutOf(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
}

/** Takes a full-page screenshot into test/out/screenshots (git-ignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<{ path: string; png: Buffer }> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  const png = await page.screenshot({ path, fullPage: true });
  return { path, png };
}
