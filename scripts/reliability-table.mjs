#!/usr/bin/env node
// Builds RELIABILITY.md: every fault (test/reliability/faults.cases.json) and every bad input
// (test/reliability/corpus/*/case.json) with its expectation, the test that tries it, and the
// result of a real run (a vitest JSON report), so the table cannot claim what was not tested.
//
//   npm run reliability                              run every test file the table names, then write the table
//   node scripts/reliability-table.mjs --report F    write the table from an existing vitest JSON report
//   node scripts/reliability-table.mjs               write it with every result "not run"
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TABLE = 'RELIABILITY.md';
const FAULTS = 'test/reliability/faults.cases.json';
const CORPUS = 'test/reliability/corpus';

/** The fault list and the corpus manifests (the corpus may not exist yet: then it is empty). */
export function loadCases(root = ROOT) {
  const faults = JSON.parse(readFileSync(join(root, FAULTS), 'utf8')).faults.map((c) => ({
    kind: 'fault',
    id: c.id,
    what: c.fault,
    expectation: c.expectation,
    file: c.file,
    skipsWhen: c.skips_when ?? null,
    prefix: `fault: ${c.id} — `,
  }));
  const corpusFile = findCorpusTestFile(root);
  const corpus = [];
  const dir = join(root, CORPUS);
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      const manifest = join(dir, name, 'case.json');
      if (!statSync(join(dir, name)).isDirectory() || !existsSync(manifest)) continue;
      const c = JSON.parse(readFileSync(manifest, 'utf8'));
      corpus.push({
        kind: 'corpus',
        id: c.id,
        what: c.title,
        expectation: c.expectation,
        file: corpusFile,
        manifest: relative(root, manifest),
        skipsWhen: null,
        prefix: `corpus: ${c.id} — `,
        title: `corpus: ${c.id} — ${c.title}`,
      });
    }
  }
  return { faults, corpus };
}

/** The test file that runs the corpus: the one under test/reliability whose titles start `corpus: `. */
function findCorpusTestFile(root) {
  const dir = join(root, 'test/reliability');
  if (!existsSync(dir)) return null;
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.test.ts') && readFileSync(join(dir, name), 'utf8').includes('corpus: ${')) return `test/reliability/${name}`;
  }
  return null;
}

/** The title as written in the test file (a string or template literal starting with the case's prefix), or null. */
export function titleInSource(root, c) {
  if (c.kind === 'corpus') return c.file ? c.title : null;
  let text;
  try {
    text = readFileSync(join(root, c.file), 'utf8');
  } catch {
    return null;
  }
  const at = text.indexOf(c.prefix);
  if (at < 1) return null;
  const quote = text[at - 1];
  if (!`'"\``.includes(quote)) return null;
  const end = text.indexOf(quote, at);
  return end < 0 ? null : text.slice(at, end);
}

/** Results per case from a vitest JSON report: the tests in the case's file whose title starts with its prefix. */
export function resultsFrom(report, root, cases) {
  const byFile = new Map();
  for (const f of report.testResults ?? []) byFile.set(relative(root, resolve(f.name)), f.assertionResults ?? []);
  const out = new Map();
  for (const c of cases) {
    const tests = c.file ? (byFile.get(c.file) ?? []).filter((t) => (c.kind === 'corpus' ? t.title === c.title : t.title.startsWith(c.prefix))) : [];
    out.set(c, describeResult(tests, c));
  }
  return out;
}

function describeResult(tests, c) {
  if (tests.length === 0) return 'not run';
  const count = (s) => tests.filter((t) => t.status === s).length;
  const failed = count('failed');
  const passed = count('passed');
  const skipped = tests.length - failed - passed;
  const n = tests.length > 1 ? ` (${tests.length} tests)` : '';
  if (failed) return `**FAIL**${tests.length > 1 ? ` (${failed} of ${tests.length})` : ''}`;
  if (skipped === tests.length) return `skipped${c.skipsWhen ? `: ${c.skipsWhen}` : ''}`;
  if (skipped) return `pass (${passed}), skipped (${skipped})`;
  return `pass${n}`;
}

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** One table row (without the Result) per case: what was tried, the expectation, and the test. */
export function rowCells(root, c) {
  const title = titleInSource(root, c);
  // A template title (one test per signal, per binary) shows its placeholders as {name}.
  const test = c.file && title ? `\`${c.file}\` › ${title.replace(/\$\{\s*(?:c\.)?(\w+)\s*\}/g, '{$1}')}` : `(no test found for ${c.kind} ${c.id})`;
  return [cell(c.what), cell(c.expectation), cell(test)];
}

export function render(root, report, meta = {}) {
  const { faults, corpus } = loadCases(root);
  const results = report ? resultsFrom(report, root, [...faults, ...corpus]) : new Map();
  const result = (c) => results.get(c) ?? 'not run';
  const tally = (list) => {
    const counts = {};
    for (const c of list) {
      const r = result(c).replace(/\*/g, '');
      const key = r.startsWith('pass (') && r.includes('skipped') ? 'pass' : r.split(/[ :(]/)[0];
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ');
  };
  const table = (list) => [
    '| Fault/bad input | Expectation | Test (file and test name) | Result |',
    '|---|---|---|---|',
    ...list.map((c) => `| ${[...rowCells(root, c), cell(result(c))].join(' | ')} |`),
  ];
  const lines = [
    '# Reliability: faults and bad inputs tried',
    '',
    'Generated by `scripts/reliability-table.mjs` from the fault list (`test/reliability/faults.cases.json`)',
    'and the bad-input corpus (`test/reliability/corpus/*/case.json`); do not edit by hand. Regenerate it',
    'with `npm run reliability` (runs every test file named below with vitest\'s JSON reporter, then writes',
    'this file; `node scripts/reliability-table.mjs --report FILE` takes a report you already have, e.g. from',
    '`npx vitest run test/reliability test/e2e test/unit --reporter=json --outputFile=FILE`, or CI\'s',
    '`.ci/out/vitest.json`). CI runs every one of these tests through `npm test`, and',
    '`test/reliability/table.test.ts` fails when this table and the tests drift apart (a case missing, an',
    'expectation changed, a test renamed).',
    'Kill points and SMTP cuts are drawn from a seed that each test prints; `RELIABILITY_SEED=N` replays one.',
    '',
    report
      ? `Results: ${meta.when ?? 'a local run'}${meta.where ? ` (${meta.where})` : ''}. Faults: ${tally(faults)}.${corpus.length ? ` Bad inputs: ${tally(corpus)}.` : ''}`
      : 'Results: not run (generated without a test report).',
    '',
    `## Faults (${faults.length})`,
    '',
    ...table(faults),
    '',
    `## Bad inputs (${corpus.length})`,
    '',
    ...(corpus.length ? table(corpus) : ['No corpus cases yet (`test/reliability/corpus/*/case.json`).']),
    '',
  ];
  return lines.join('\n');
}

/** The rows of a rendered table, as arrays of cells (escaped pipes kept inside cells). */
export function parseRows(markdown) {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| Fault/bad input |'))
    .map((l) => l.slice(2, -2).split(/ (?<!\\)\| /));
}

function main(argv) {
  const at = argv.indexOf('--report');
  let reportPath = at >= 0 ? argv[at + 1] : null;
  let failedRun = false;
  if (argv.includes('--run')) {
    reportPath = join(mkdtempSync(join(tmpdir(), 'reliability-')), 'report.json');
    const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs');
    const { faults, corpus } = loadCases(ROOT);
    const files = [...new Set([...faults, ...corpus].map((c) => c.file).filter(Boolean))];
    const r = spawnSync(process.execPath, [vitest, 'run', ...files, '--reporter=json', `--outputFile=${reportPath}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    failedRun = r.status !== 0;
  }
  const report = reportPath ? JSON.parse(readFileSync(reportPath, 'utf8')) : null;
  const meta = report
    ? { when: `run of ${new Date(report.startTime ?? Date.now()).toISOString().slice(0, 16).replace('T', ' ')} UTC`, where: `node ${process.version}, ${process.platform}, uid ${process.getuid?.() ?? '?'}` }
    : {};
  const text = render(ROOT, report, meta);
  writeFileSync(join(ROOT, TABLE), text);
  const fails = (text.match(/\*\*FAIL\*\*/g) ?? []).length;
  console.error(`reliability-table: wrote ${TABLE}${report ? ` from ${reportPath}` : ' (results: not run)'}${fails ? `; ${fails} FAIL` : ''}`);
  if (fails || failedRun) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
