// RELIABILITY.md must say what the tests do: every fault and corpus case is in the table with the
// same expectation and test, every test the table names exists, and every `fault:` test is listed.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
// @ts-expect-error: a plain .mjs script, no type declarations
import { TABLE, loadCases, parseRows, resultsFrom, rowCells, titleInSource } from '../../scripts/reliability-table.mjs';
import { ROOT } from '../helpers/run.js';

interface Case {
  kind: 'fault' | 'corpus';
  id: string;
  what: string;
  expectation: string;
  file: string | null;
  manifest?: string;
  prefix: string;
}

const { faults, corpus } = loadCases(ROOT) as { faults: Case[]; corpus: Case[] };
const cases = [...faults, ...corpus];
const rows: string[][] = parseRows(readFileSync(join(ROOT, TABLE), 'utf8'));

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return testFiles(p);
    return name.endsWith('.test.ts') ? [relative(ROOT, p)] : [];
  });
}

describe('RELIABILITY.md is in sync with the tests', () => {
  it('has one row per fault and corpus case, with the same fault, expectation and test (columns 1-3)', () => {
    expect(faults.length).toBeGreaterThan(40);
    const expected = cases.map((c) => rowCells(ROOT, c));
    expect(rows.map((r) => r.slice(0, 3)), 'run `npm run reliability` (or node scripts/reliability-table.mjs --report FILE) and commit RELIABILITY.md').toEqual(expected);
    for (const r of rows) expect(r, r.join(' | ')).toHaveLength(4);
  });

  it('every test the table names exists: the file holds a test titled with the case prefix', () => {
    for (const c of cases) {
      expect(c.file, `${c.kind} ${c.id}: no test file`).toBeTruthy();
      const text = readFileSync(join(ROOT, c.file!), 'utf8');
      if (c.kind === 'fault') {
        expect(titleInSource(ROOT, c), `${c.file} has no test titled "${c.prefix}…"`).not.toBeNull();
        expect(text.split(c.prefix).length - 1, `${c.prefix} appears more than once in ${c.file}`).toBe(1);
      } else {
        // Corpus tests are generated from the manifests: the file must title them `corpus: <id> — <title>`.
        expect(text).toContain('`corpus: ${c.id} — ${c.title}`');
        expect(JSON.parse(readFileSync(join(ROOT, c.manifest!), 'utf8')).id).toBe(c.id);
      }
    }
  });

  it('every `fault: <id> — ` test in the suites is listed in test/reliability/faults.cases.json, once', () => {
    const listed = new Map(faults.map((c) => [c.id, c.file]));
    expect(listed.size).toBe(faults.length);
    const found: string[] = [];
    // This file writes such titles only as samples for the report reader.
    for (const file of testFiles(join(ROOT, 'test')).filter((f) => f !== 'test/reliability/table.test.ts')) {
      for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/['"`]fault: ([a-z0-9-]+) — /g)) {
        found.push(m[1]!);
        expect(listed.get(m[1]!), `fault ${m[1]} (${file}) is not in faults.cases.json, or is listed under another file`).toBe(file);
      }
    }
    expect([...new Set(found)].sort()).toEqual([...listed.keys()].sort());
  });

  it('results are pass, skipped (with the reason), not run or FAIL; no row claims a result for a missing test', () => {
    for (const r of rows) {
      expect(r[3], r.join(' | ')).toMatch(/^(pass( \(\d+ tests\))?|pass \(\d+\), skipped \(\d+\)|skipped(: .+)?|not run|\*\*FAIL\*\*( \(\d+ of \d+\))?)$/);
      if (r[2]!.startsWith('(no test found')) expect(r[3]).toBe('not run');
    }
  });

  it('the Result column reads a vitest JSON report: pass, FAIL, skipped with the listed reason, not run', () => {
    const pick = (id: string) => faults.find((c) => c.id === id)!;
    const [single, multi, skipped, missing] = [pick('kill-export-o-sigkill'), pick('pipe-head'), pick('enospc-export-o'), pick('smtp-drop-mid-data')];
    const t = (title: string, status: string) => ({ title, status });
    const report = {
      testResults: [
        { name: join(ROOT, single.file!), assertionResults: [t(`${single.prefix}x`, 'passed'), t('fault: kill-export-o-sigkill-other — y', 'failed')] },
        { name: join(ROOT, multi.file!), assertionResults: [t(`${multi.prefix}a`, 'passed'), t(`${multi.prefix}b`, 'failed'), t(`${multi.prefix}c`, 'passed')] },
        { name: join(ROOT, skipped.file!), assertionResults: [t(`${skipped.prefix}z`, 'skipped')] },
      ],
    };
    const results = resultsFrom(report, ROOT, [single, multi, skipped, missing]);
    expect(results.get(single)).toBe('pass');
    expect(results.get(multi)).toBe('**FAIL** (1 of 3)');
    expect(results.get(skipped)).toBe('skipped: mount not allowed here (needs root and tmpfs)');
    expect(results.get(missing)).toBe('not run');
  });
});
