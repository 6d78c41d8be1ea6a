// Runs a real binary the way a user would, and parses what it printed.
import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BINARIES = ['process', 'analyze', 'export-csv', 'import-csv', 'notify'] as const;
export type Binary = (typeof BINARIES)[number];

export function binPath(name: Binary): string {
  return join(ROOT, 'bin', `${name}.js`);
}

/** The node flags in a launcher's shebang (`#!/usr/bin/env -S node --flag`), so tests run what users run. */
export function nodeFlags(name: Binary): string[] {
  const first = readFileSync(binPath(name), 'utf8').split('\n', 1)[0]!;
  const m = /\bnode\b(.*)$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as NDJSON (empty lines ignored), without the run records that open and close it (docs/run-records.md). */
  records: Array<Record<string, any>>;
  /** The run records of stdout (`kind: "run"`), in order. */
  runRecords: Array<Record<string, any>>;
}

export interface RunOptions {
  input?: string | Buffer;
  /** stdout is not NDJSON (CSV, help, a table): records and runRecords are then empty instead of an error. */
  textOutput?: boolean;
}

/**
 * Runs a binary. Reading `records` or `runRecords` of a stdout that is not NDJSON throws (naming
 * the first bad line), so `expect(records).toEqual([])` cannot pass on garbage; a test of text
 * output reads `stdout`, or passes `textOutput: true`.
 */
export async function run(name: Binary, args: string[] = [], runOpts: Options & RunOptions = {}): Promise<RunResult> {
  const { textOutput = false, ...opts } = runOpts;
  const res = await execa(process.execPath, [...nodeFlags(name), binPath(name), ...args], {
    reject: false,
    stripFinalNewline: false,
    // notify's default outbox is ./outbox: a run at the checkout root writes it to a temp folder instead.
    env: { NO_COLOR: '1', ...(opts.cwd === undefined ? { NOTIFY_OUTBOX: scratchOutbox() } : {}), ...opts.env },
    ...(opts.input === undefined && opts.inputFile === undefined ? { stdin: 'ignore' as const } : {}),
    ...opts,
  });
  const stdout = String(res.stdout ?? '');
  const stderr = String(res.stderr ?? '');
  let all: Array<Record<string, any>> | null = [];
  let notNdjson = '';
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      const value: unknown = JSON.parse(line);
      // NDJSON records are objects: a CSV line `1` or `"x"` parses as JSON but is not a record.
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
      all.push(value as Record<string, any>);
    } catch {
      all = textOutput ? [] : null;
      notNdjson = line.length > 80 ? `${line.slice(0, 80)}…` : line;
      break;
    }
  }
  const parsed = (): Array<Record<string, any>> => {
    if (all === null) throw new Error(`${name} ${args.join(' ')}: stdout is not NDJSON (line ${JSON.stringify(notNdjson)}); read stdout, or pass textOutput: true\nstderr: ${stderr}`);
    return all;
  };
  const isRun = (r: Record<string, any>) => r !== null && typeof r === 'object' && r.kind === 'run';
  return {
    exitCode: res.exitCode ?? -1,
    stdout,
    stderr,
    get records() {
      return parsed().filter((r) => !isRun(r));
    },
    get runRecords() {
      return parsed().filter(isRun);
    },
  };
}

let outbox: string | null = null;
function scratchOutbox(): string {
  return (outbox ??= join(tempDir('be-outbox-'), 'outbox'));
}

export function tempDir(prefix = 'be-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Renders records as NDJSON input. */
export function ndjson(records: unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/**
 * Two inputs of one error event repeated, for the --jobs tests: `big` (5 MiB, past the size at
 * which workers start) and `small` (1,000 lines, below it), in a new temp folder.
 */
export function bigAndSmallInputs(bigBytes = 65 * 1024 * 1024): { big: string; small: string } {
  const dir = tempDir();
  const line = JSON.stringify({ event_type: 'error', category: 'Unverified Email', message: 'x'.repeat(200), user_context: { email: 'a@b.org' } }) + '\n';
  const big = join(dir, 'big.ndjson');
  writeFileSync(big, line.repeat(Math.ceil(bigBytes / line.length)));
  const small = join(dir, 'small.ndjson');
  writeFileSync(small, line.repeat(1000));
  return { big, small };
}
