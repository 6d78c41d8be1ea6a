// The runner every binary shares: strict argument parsing (unknown flags exit 2, with the
// nearest flag suggested), --help, -V, --completions, one-line errors, exit codes, EPIPE as a
// quiet end. The argument definitions keep citty's ArgsDef shape (type, description,
// valueHint, alias, default, options); help is rendered here (cli/help.ts), because citty's
// renderer neither wraps to the terminal nor groups flags nor shows examples.
import { readFileSync } from 'node:fs';
import { createLogger, type Logger } from './logger.js';
import { BadLinePolicy } from '../stream/bad-lines.js';
import { NdjsonWriter } from '../stream/ndjson-writer.js';
import { readNdjson, readLines, sourcesFromArgs, DEFAULT_MAX_LINE_BYTES, type Item, type Source, type TextLine } from '../stream/ndjson-reader.js';
import { buildFilter, type FilterOptions, type FilterStats, type Predicate } from '../stream/filters.js';
import { clearProgressLine, Progress } from './progress.js';
import { runEnded, runStarted } from '../stream/run-record.js';
import { intOption } from './options.js';
import { describeError, exitCodeOf, invalidOption, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.js';
import { COMPLETION_SHELLS, commonArgs, filterArgs, parseToolArgs, UnknownOptionError, type ToolArgs, type ToolCommand, type ToolContext } from './args.js';

// The definitions are args.ts's; re-exported so that a command needs one import for the runner.
export * from './args.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// Help, completions and the flag suggestion load their libraries (string-width, leven) only when
// used: measured with callgrind, importing them up front cost every run ~320M instructions
// (+46 %) of start-up.

/** Help goes to stdout: wrapped to the terminal, or to 80 columns in a pipe or a file. */
export async function helpText(cmd: ToolCommand, width = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80): Promise<string> {
  const { renderHelp } = await import('./help.js');
  return renderHelp(cmd, { filter: filterArgs, common: commonArgs }, width);
}

async function unknownOptionMessage(err: UnknownOptionError): Promise<string> {
  const near = err.flag.startsWith('--') ? await suggestFlag(err.defs, err.flag) : null;
  return `unknown option ${err.flag}${near ? `; did you mean ${near}?` : ''} (see --help)`;
}

/** The known flag nearest to an unknown one, when it is near enough to be a typo. */
export async function suggestFlag(defs: ToolArgs, unknown: string): Promise<string | null> {
  const { default: leven } = await import('leven');
  const typed = unknown.replace(/^-+/, '').split('=')[0]!;
  const names: string[] = ['help', 'version', 'completions'];
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === 'positional') continue;
    names.push(name);
    if (def.type === 'boolean') names.push(`no-${name}`);
  }
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = name.startsWith(typed) && typed.length >= 3 ? 0.5 : leven(typed, name);
    if (d < bestDistance) {
      bestDistance = d;
      best = name;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(typed.length / 3)));
  return best !== null && bestDistance <= allowed ? `--${best}` : null;
}

function earlyFlag(argv: string[], long: string, short?: string): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === long || (short && a === short)) return true;
  }
  return false;
}


/** `--completions SHELL` (or `--completions=SHELL`) before parsing; a bad shell is a usage error. */
function completionShell(argv: string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return null;
    if (a !== '--completions' && !a.startsWith('--completions=')) continue;
    const shell = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
    const options = COMPLETION_SHELLS;
    if (shell === undefined || !options.includes(shell)) throw invalidOption('completions', `must be one of ${options.join(', ')}`, shell);
    return shell;
  }
  return null;
}

/** The input's size when every source is a regular file (progress shows a percentage), else null. */
function totalSize(sources: Source[]): number | null {
  let total = 0;
  for (const s of sources) {
    const n = s.size?.() ?? null;
    if (n === null) return null;
    total += n;
  }
  return total;
}

/** Runs one binary: parse, run, flush, and set the exit code (never exits mid-stream). */
export async function main(cmd: ToolCommand, argv = process.argv.slice(2)): Promise<void> {
  const tool = cmd.meta.name;
  const verbose = earlyFlag(argv, '--verbose', '-v');
  let log = createLogger(tool, { quiet: earlyFlag(argv, '--quiet', '-q'), verbose });
  const stop = { stopped: false };
  const out = new NdjsonWriter(process.stdout);
  // stdout and stderr on one terminal: a progress line is erased before data is written over it.
  if (process.stdout.isTTY && process.stderr.isTTY) out.beforeWrite = clearProgressLine;
  process.stdout.on('error', () => {
    if (out.closed) stop.stopped = true;
  });
  let policy: BadLinePolicy | null = null;
  let progress: Progress | null = null;
  let started = false;
  try {
    if (earlyFlag(argv, '--help', '-h')) {
      process.stdout.write(await helpText(cmd));
      return;
    }
    if (earlyFlag(argv, '--version', '-V')) {
      process.stdout.write(packageVersion() + '\n');
      return;
    }
    const completions = completionShell(argv);
    if (completions !== null) {
      const { renderCompletions } = await import('./help.js');
      process.stdout.write(renderCompletions(cmd, completions));
      return;
    }
    const parsed = parseToolArgs(cmd.args, argv);
    const { values, lists } = parsed;
    log = createLogger(tool, { quiet: values.quiet === true, verbose: values.verbose === true });
    const maxLineBytes = intOption('max-line-bytes', values['max-line-bytes'], 1) ?? DEFAULT_MAX_LINE_BYTES;
    const bad = new BadLinePolicy({ maxBad: intOption('max-bad', values['max-bad']) ?? 0, rejectsPath: values.rejects as string | undefined });
    policy = bad;
    const prog = new Progress(tool, values.progress as boolean | undefined);
    progress = prog;
    const filterStats = { noTimestamp: 0 };
    const filterSpec: FilterOptions | null = 'where' in cmd.args
      ? {
          type: values.type as string | undefined,
          category: lists.category,
          since: values.since as string | undefined,
          until: values.until as string | undefined,
          where: lists.where,
          now: Date.now(),
        }
      : null;
    const filter = filterSpec ? buildFilter(filterSpec, filterStats) : null;
    let hinted = false;
    const inputName = cmd.input?.(values) ?? 'NDJSON';
    // A terminal on stdin and no file: say what is expected instead of a silent wait.
    const onStdin = () => {
      if (hinted || !process.stdin.isTTY) return;
      hinted = true;
      log.info(`reading ${inputName} from the terminal; Ctrl-D to end, --help for usage`);
    };
    const sources = () => sourcesFromArgs(parsed.positionals, onStdin);
    prog.total = totalSize(sources());
    let csvHinted = false;
    const onCsvLike = (file: string) => {
      if (csvHinted) return;
      csvHinted = true;
      log.warn(`${file} looks like CSV, not NDJSON: ${cmd.csvHint ?? 'turn it into NDJSON with import-csv first'}`);
    };
    const readHooks = { onIdle: () => out.idle(), onBytes: (n: number) => prog.bytes(n), onCsvLike };
    let failure: string | null = null;
    // The run record opens stdout at once, so a later stage knows this run began even if it is
    // killed before writing anything else (docs/run-records.md).
    if (cmd.writesRecords?.(values) ?? true) {
      out.write(runStarted(tool));
      await out.flush(true);
      started = true;
    }
    const ctx: ToolContext = {
      tool,
      argv,
      args: values,
      list: (name) => lists[name] ?? [],
      files: parsed.positionals,
      log,
      out,
      policy: bad,
      progress: prog,
      filter,
      stop,
      sources,
      maxLineBytes,
      records: () => readNdjson(sources(), { policy: bad, maxLineBytes, signal: stop, ...readHooks }),
      lines: () => readLines(sources(), { policy: bad, maxLineBytes, signal: stop, ...readHooks, onCsvLike: undefined }),
      readHooks,
      filterSpec,
      filterStats,
      int: (name, min) => intOption(name, values[name], min),
      fail: (reason) => void (failure ??= reason),
    };
    const code = (await cmd.run(ctx)) ?? EXIT_OK;
    if (started && !out.closed && !stop.stopped) {
      let error = failure as string | null;
      if (bad.exceeded) error ??= `${bad.count} malformed input line${bad.count === 1 ? '' : 's'} (more than --max-bad ${bad.maxBad})`;
      if (code === EXIT_FAILURE || code === EXIT_USAGE) error ??= `exited with status ${code}`;
      out.write(runEnded(tool, out.records - 1, error, bad.count, (values.rejects as string | undefined) ?? null));
    }
    await out.end();
    prog.done();
    if (out.closed) {
      process.exitCode = EXIT_OK;
      return;
    }
    if (filterStats.noTimestamp > 0) {
      const n = filterStats.noTimestamp;
      log.warn(`${n} record${n === 1 ? '' : 's'} with no valid timestamp ${n === 1 ? 'was' : 'were'} left out by --${values.since !== undefined ? 'since' : 'until'}`);
    }
    if (bad.count > 0) {
      log.warn(`${bad.count} malformed input line${bad.count === 1 ? '' : 's'} skipped${bad.exceeded ? ` (more than --max-bad ${bad.maxBad})` : ''}`);
    }
    process.exitCode = bad.exceeded ? EXIT_FAILURE : code;
  } catch (err) {
    progress?.done();
    if (out.closed || (err as NodeJS.ErrnoException)?.code === 'EPIPE') {
      process.exitCode = EXIT_OK;
      return;
    }
    const code = exitCodeOf(err);
    log.error(err instanceof UnknownOptionError ? await unknownOptionMessage(err) : describeError(err));
    if (started && !out.closed) {
      // Downstream learns that this stage failed, not just that its output stopped.
      try {
        out.write(runEnded(tool, out.records - 1, describeError(err)));
        await out.flush(true);
      } catch {
        // stdout itself is the problem: the missing end record says enough.
      }
    }
    if (verbose && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    process.exitCode = code;
  } finally {
    policy?.close();
    if (stop.stopped || out.closed) process.stdin.destroy();
  }
}
