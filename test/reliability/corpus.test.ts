// Runs every case of the bad-input corpus (test/reliability/corpus/*/case.json) with the real
// binary: exit code, FILE:LINE reasons on stderr, the valid records around the bad one, no stack
// trace, no hang (timeout), and a bound on the child's peak RSS where the case sets one.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { parse as parseCsv } from 'csv-parse/sync';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs module (the listing script shares it), no type declarations
import { loadCases, writeGenerated } from './corpus/cases.mjs';
import { binPath, nodeFlags, ROOT, tempDir, type Binary } from '../helpers/run.js';

interface Expect {
  exit: number;
  /** Regexes (multiline) that stderr must match. */
  stderr?: string | string[];
  stderrNot?: string | string[];
  /** Exact number of NDJSON records on stdout. */
  records?: number;
  /** Partial records that must appear on stdout in this order (a deep subset match each). */
  recordsInclude?: unknown[];
  /** Partial records that no stdout record may match. */
  recordsExclude?: unknown[];
  stdout?: string | string[];
  stdoutNot?: string | string[];
  /** Data rows of CSV on stdout (after the header), parsed with csv-parse. */
  csvRows?: number;
  /** A regex that every data cell of the CSV on stdout must match / must not match. */
  csvCells?: string;
  csvCellsNot?: string;
  /** Bound on the child's peak RSS. */
  maxRssMiB?: number;
  notes?: string;
}

interface Case {
  id: string;
  title: string;
  binary: Binary;
  args: string[];
  stdin?: string;
  env?: Record<string, string>;
  generate?: Record<string, unknown[]>;
  timeoutMs?: number;
  expect: Expect;
  expectation: string;
  dir: string;
}

const cases: Case[] = loadCases();
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Deep subset match: every key of the pattern holds in the value; arrays match element by element. */
function matches(value: unknown, pattern: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object') return Object.is(value, pattern);
  if (Array.isArray(pattern)) return Array.isArray(value) && value.length === pattern.length && pattern.every((p, i) => matches(value[i], p));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.entries(pattern).every(([k, p]) => matches((value as Record<string, unknown>)[k], p));
}

async function runCase(c: Case) {
  const work = tempDir('be-corpus-');
  for (const name of readdirSync(c.dir)) if (name !== 'case.json') copyFileSync(join(c.dir, name), join(work, name));
  for (const [name, parts] of Object.entries(c.generate ?? {})) writeGenerated(join(work, name), parts);
  const rssFile = join(work, '.rss');
  try {
    const res = await execa(process.execPath, [...nodeFlags(c.binary), '--import', join(ROOT, 'test/fixtures/report-rss.mjs'), binPath(c.binary), ...c.args], {
      cwd: work,
      reject: false,
      stripFinalNewline: false,
      encoding: 'utf8',
      timeout: c.timeoutMs ?? 45_000,
      env: { NO_COLOR: '1', REPORT_RSS_FILE: rssFile, ...c.env },
      ...(c.stdin ? { inputFile: join(work, c.stdin) } : { stdin: 'ignore' as const }),
    });
    const rss = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : NaN;
    return { exitCode: res.exitCode, timedOut: res.timedOut, stdout: String(res.stdout), stderr: String(res.stderr), rss };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

describe('bad-input corpus', () => {
  it('has the cases the reliability issue asks for, each with a title and an expectation', () => {
    const ids = new Set(cases.map((c) => c.id));
    expect(ids.size).toBe(cases.length);
    for (const c of cases) {
      expect(c.id, c.dir).toBe(c.dir.split('/').pop());
      expect(c.title.length, c.id).toBeGreaterThan(10);
      expect(c.expectation.length, c.id).toBeGreaterThan(10);
    }
    for (const id of ['truncated-json', 'invalid-utf8', 'nul-bytes', 'line-100mb', 'nesting-100k-analyze', 'numbers-beyond-2-53', 'duplicate-keys', 'not-objects', 'empty-file', 'bom-only', 'mixed-crlf-lf', 'csv-unclosed-quote', 'csv-ragged-row', 'csv-formula-cells-import', 'csv-formula-cells-export', 'entry-wrong-types', 'log-line-1mb']) {
      expect(ids, id).toContain(id);
    }
  });

  for (const c of cases) {
    it(`corpus: ${c.id} — ${c.title}`, async () => {
      const r = await runCase(c);
      const e = c.expect;
      const shown = `${c.id}: exit ${r.exitCode}\n--- stderr\n${r.stderr.slice(0, 2000)}\n--- stdout\n${r.stdout.slice(0, 2000)}`;
      expect(r.timedOut, shown).toBe(false);
      expect(r.exitCode, shown).toBe(e.exit);
      // One line per problem, never a stack trace.
      expect(r.stderr, shown).not.toMatch(/^\s+at .+\(?.*:\d+:\d+\)?$/m);
      expect(r.stderr, shown).not.toMatch(/RangeError|TypeError|Maximum call stack/);
      for (const re of list(e.stderr)) expect(r.stderr, shown).toMatch(new RegExp(re, 'm'));
      for (const re of list(e.stderrNot)) expect(r.stderr, shown).not.toMatch(new RegExp(re, 'm'));
      for (const re of list(e.stdout)) expect(r.stdout, shown).toMatch(new RegExp(re, 'm'));
      for (const re of list(e.stdoutNot)) expect(r.stdout, shown).not.toMatch(new RegExp(re, 'm'));

      if (c.binary === 'export-csv' && !c.args.includes('--pass-through') && !c.args.includes('-o')) {
        const rows = parseCsv(r.stdout, { relax_column_count: false }) as string[][];
        if (e.csvRows !== undefined) expect(rows.length - 1, shown).toBe(e.csvRows);
        for (const cell of rows.slice(1).flat()) {
          if (e.csvCells !== undefined) expect(cell, shown).toMatch(new RegExp(e.csvCells));
          if (e.csvCellsNot !== undefined) expect(cell, shown).not.toMatch(new RegExp(e.csvCellsNot));
        }
      } else {
        // stdout is data: every line is one JSON object.
        const lines = r.stdout.split('\n').filter((l) => l !== '');
        const all = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        for (const rec of all) expect(typeof rec === 'object' && rec !== null && !Array.isArray(rec), shown).toBe(true);
        // The run records that open and close the output (docs/run-records.md) are not the case's data.
        const records = all.filter((rec) => rec.kind !== 'run');
        if (e.records !== undefined) expect(records.length, shown).toBe(e.records);
        let from = 0;
        for (const pattern of e.recordsInclude ?? []) {
          const at = records.findIndex((rec, i) => i >= from && matches(rec, pattern));
          expect(at, `${shown}\nno record (after #${from}) matches ${JSON.stringify(pattern)}`).toBeGreaterThanOrEqual(0);
          from = at + 1;
        }
        for (const pattern of e.recordsExclude ?? []) {
          expect(records.some((rec) => matches(rec, pattern)), `${shown}\na record matches ${JSON.stringify(pattern)}`).toBe(false);
        }
      }
      if (e.maxRssMiB !== undefined) {
        expect(Number.isFinite(r.rss), 'the child reported its peak RSS').toBe(true);
        console.log(`corpus ${c.id}: peak RSS ${(r.rss / 2 ** 20).toFixed(0)} MiB`);
        expect(r.rss / 2 ** 20, shown).toBeLessThan(e.maxRssMiB);
      }
    }, (c.timeoutMs ?? 45_000) + 15_000);
  }
});
