// The bundled example's whole workflow (examples/pipeline.sh, with its --now) pinned byte for
// byte: the CSV, the summary and the decoded email text. The only fields that are not the
// input's are normalised: the output folder (<OUT>) and the clock of the machine that ran it
// (generated_at, the export's started_at/finished_at) and user (the export's `by`). UPDATE_GOLDEN=1 rewrites the files;
// read the email as support would before committing them.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { ROOT, tempDir } from '../helpers/run.js';

const GOLDEN = join(ROOT, 'test/golden/example');
const CLOCK = '<CLOCK>';

function normalizeSummary(line: string, out: string): string {
  const s = JSON.parse(line) as Record<string, any>;
  s.generated_at = CLOCK;
  for (const e of s.exports) {
    e.started_at = CLOCK;
    e.finished_at = CLOCK;
    // Who ran it (issue 18's audit fields): the machine's, not the input's.
    if (e.by !== undefined) e.by = '<WHO>';
  }
  return JSON.stringify(s).replaceAll(out, '<OUT>') + '\n';
}

function check(name: string, actual: string): void {
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  expect(actual, name).toBe(readFileSync(path, 'utf8'));
}

describe('golden: the bundled example, end to end', () => {
  it('errors.csv, the summary and the email are exactly the pinned ones', async () => {
    const out = tempDir('be-golden-');
    const res = await execa('bash', [join(ROOT, 'examples/pipeline.sh')], { env: { OUT: out }, reject: false, stdin: 'ignore' });
    expect(res.exitCode, res.stderr).toBe(0);
    check('errors.csv', readFileSync(join(out, 'errors.csv'), 'utf8'));
    const summary = readFileSync(join(out, 'summary.ndjson'), 'utf8').split('\n').find((l) => l.startsWith('{"kind":"summary"'))!;
    check('summary.json', normalizeSummary(summary, out));
    const [eml] = readdirSync(join(out, 'outbox'));
    const mail = await simpleParser(readFileSync(join(out, 'outbox', eml!)));
    check('email.txt', `Subject: ${mail.subject}\nTo: ${(mail.to as { text: string }).text}\n\n${(mail.text ?? '').replaceAll(out, '<OUT>')}`);
  });
});
