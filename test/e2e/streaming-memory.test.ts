// Reading and writing stream: peak memory must not grow with the input (issue 2).
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { binPath, nodeFlags, ROOT, tempDir } from '../helpers/run.js';

function events(n: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      let chunk = '';
      for (let k = 0; k < 2000 && i < n; k++, i++) {
        chunk += JSON.stringify({
          event_type: i % 7 ? 'error' : 'success',
          category: i % 7 ? 'Flywheel Error' : 'User Successfully Created',
          message: `message ${i}, with "quotes" and ünïcödé 日本`,
          user_context: { email: `user${i % 5000}@example.org`, name: `User ${i}`, center_id: i % 40 },
        }) + '\n';
      }
      this.push(chunk || null);
    },
  });
}

async function peakRss(n: number): Promise<number> {
  const file = join(tempDir(), 'rss');
  const child = execa(process.execPath, [...nodeFlags('process'), '--import', join(ROOT, 'test/fixtures/report-rss.mjs'), binPath('process')], {
    env: { REPORT_RSS_FILE: file },
    stdin: 'pipe',
    stdout: 'ignore',
    reject: false,
  });
  events(n).pipe(child.stdin!);
  const res = await child;
  expect(res.exitCode).toBe(0);
  return Number(readFileSync(file, 'utf8'));
}

describe('streaming memory', () => {
  it('process: peak RSS on 1,000,000 events is within 1.5x of the peak on 10,000', async () => {
    const small = await peakRss(10_000);
    const large = await peakRss(1_000_000);
    console.log(`process peak RSS: 10k events ${(small / 2 ** 20).toFixed(1)} MiB, 1M events ${(large / 2 ** 20).toFixed(1)} MiB`);
    expect(large).toBeLessThan(small * 1.5);
  }, 300_000);
});
