// The argument definitions of every binary (citty's ArgsDef shape: type, description, valueHint,
// alias, default, options), typed so that a command's ctx.args has one key per flag it declares,
// and the strict parser the runner uses (unknown flags are usage errors, exit 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Logger } from './logger.js';
import type { Progress } from './progress.js';
import { invalidOption, UsageError } from './errors.js';
import type { BadLinePolicy } from '../stream/bad-lines.js';
import type { NdjsonWriter } from '../stream/ndjson-writer.js';
import { DEFAULT_MAX_LINE_BYTES, type Item, type Source, type TextLine } from '../stream/ndjson-reader.js';
import type { FilterOptions, FilterStats, Predicate } from '../stream/filters.js';

/** One flag or positional argument: its type, help text and default; ctx.args is typed from these. */
export interface ToolArgDef {
  type: 'boolean' | 'string' | 'enum' | 'positional';
  description: string;
  valueHint?: string;
  alias?: string;
  default?: string | boolean;
  options?: readonly string[];
  required?: boolean;
  /** A string option that may be given bare (`--backup`): this value then applies, unless a number follows. */
  bare?: string;
}

/** A command's argument definitions, by flag name. */
export type ToolArgs = Record<string, ToolArgDef>;

/** The value a definition gives ctx.args: a string (enum: one of its options) or a boolean, never undefined when it has a default. */
type ArgValue<D extends ToolArgDef> =
  | (D['type'] extends 'boolean' ? boolean : D extends { type: 'enum'; options: readonly (infer O extends string)[] } ? O : string)
  | (D extends { default: string | boolean } ? never : undefined);

/** ctx.args of a command: one key per flag it declares (positionals are ctx.files), typed from the definitions. */
export type ArgValues<A extends ToolArgs> = string extends keyof A
  ? Record<string, string | boolean | undefined>
  : { [K in keyof A as A[K]['type'] extends 'positional' ? never : K]: ArgValue<A[K]> };

/** A binary: its argument definitions, help text and run(); A types ctx.args from the definitions. */
export interface ToolCommand<A extends ToolArgs = ToolArgs> {
  meta: { name: string; description: string };
  args: A;
  /** Two or three real uses, shown in --help and the man page. */
  examples?: Array<{ text: string; command: string }>;
  /** A closing line of --help (where the docs are). */
  seeAlso?: string;
  /** What the binary reads, for the hint printed when stdin is a terminal (default NDJSON). */
  input?(args: ArgValues<A>): string;
  /** What to do when an NDJSON input looks like CSV. */
  csvHint?: string;
  run(ctx: ToolContext<A>): Promise<number | void>;
  /** Whether stdout carries NDJSON for these options (then it opens and closes with run records); default yes. */
  writesRecords?(args: ArgValues<A>): boolean;
}

/** citty's defineCommand: the argument definitions type ctx.args, so a command reads its flags without casts. */
export function defineCommand<const A extends ToolArgs>(def: ToolCommand<A>): ToolCommand<A> {
  return def;
}

/** What run() gets: the parsed flags, the input and output of this run, and its shared policies. */
export interface ToolContext<A extends ToolArgs = ToolArgs> {
  tool: string;
  /** The arguments as given (after the program name), for audit records. */
  argv: readonly string[];
  /** The last value of each option (strings), or its boolean. */
  args: ArgValues<A>;
  /** Every value of a repeatable option, comma lists kept as given. */
  list(name: keyof A & string): string[];
  /** Positional arguments (input files; `-` is stdin). */
  files: string[];
  log: Logger;
  out: NdjsonWriter;
  policy: BadLinePolicy;
  progress: Progress;
  /** The shared filters, or null when none was given. */
  filter: Predicate | null;
  /** Set when stdout was closed by its reader: stop producing. */
  stop: { stopped: boolean };
  sources(): Source[];
  /** --max-line-bytes, parsed once: every reader of this run uses the same limit. */
  maxLineBytes: number;
  records(): AsyncGenerator<Item[]>;
  lines(): AsyncGenerator<TextLine[]>;
  /** For readers of this run's input: idle flush of stdout, bytes for the progress percentage. */
  readHooks: { onIdle: () => void; onBytes: (n: number) => void; onCsvLike: (file: string) => void };
  /** The shared filters as given (worker threads rebuild the same predicate from them) and what they counted. */
  filterSpec: FilterOptions | null;
  filterStats: FilterStats;
  /** Parses an integer option, with a usage error naming the flag. */
  int(name: keyof A & string, min?: number): number | undefined;
  /** Why this run is failing though it ends normally (exit 1): said in its end-of-run record. */
  fail(reason: string): void;
}

/** Options every binary has. */
export const commonArgs = {
  quiet: { type: 'boolean', alias: 'q', description: 'Only errors on stderr' },
  verbose: { type: 'boolean', alias: 'v', description: 'Debug output and stack traces on stderr' },
  progress: { type: 'boolean', description: 'Progress on stderr; by default shown when stderr is a TTY, the input is files (so a percentage can be shown) and the run passes 2 s; --no-progress turns it off' },
  'max-bad': { type: 'string', valueHint: 'N', default: '0', description: 'Malformed input lines tolerated before the exit code becomes 1' },
  rejects: { type: 'string', valueHint: 'FILE', description: 'Append each malformed line to FILE as NDJSON {file, line, error, raw}' },
  'max-line-bytes': { type: 'string', valueHint: 'N', default: String(DEFAULT_MAX_LINE_BYTES), description: 'A longer input line is a bad line' },
} satisfies ToolArgs;

/** The shared filters, for every binary that reads events. */
export const filterArgs = {
  type: { type: 'string', valueHint: 'error|success', description: 'Keep events of this type' },
  category: { type: 'string', valueHint: 'NAME', description: 'Keep events of this category (repeatable, or a comma list)' },
  since: { type: 'string', valueHint: 'TIME', description: 'Keep events at or after TIME (ISO, or a duration ago: 30s, 5m, 4h)' },
  until: { type: 'string', valueHint: 'TIME', description: 'Keep events before TIME' },
  where: { type: 'string', valueHint: 'EXPR', description: 'field=value, field!=value, field~regex, field!~regex; dotted paths; repeatable, all must hold' },
} satisfies ToolArgs;

/** The input files positional every reading binary takes (none or - is stdin). */
export const filesArg = {
  files: { type: 'positional', required: false, valueHint: 'FILE', description: 'Input files (default: stdin; - is stdin)' },
} satisfies ToolArgs;

/** The shells --completions writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'];


/** An unknown flag; main() words it, with the nearest known flag when it looks like a typo. */
export class UnknownOptionError extends UsageError {
  constructor(readonly flag: string, readonly defs: ToolArgs) {
    super(`unknown option ${flag} (see --help)`);
  }
}

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  lists: Record<string, string[]>;
  positionals: string[];
}

/** `--flag` without a value becomes `--flag=<bare>` when the next argument is not a number. */
function applyBareValues(defs: ToolArgs, argv: string[]): string[] {
  const bare = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) if (def.bare !== undefined) bare.set(`--${name}`, def.bare);
  if (!bare.size) return argv;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return out.concat(argv.slice(i));
    const value = bare.get(a);
    out.push(value !== undefined && !/^\d+$/.test(argv[i + 1] ?? '') ? `${a}=${value}` : a);
  }
  return out;
}

/** Parses argv against the definitions (node:util parseArgs underneath); an unknown flag throws UnknownOptionError. */
export function parseToolArgs(defs: ToolArgs, argv: string[]): Parsed {
  argv = applyBareValues(defs, argv);
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === 'positional') continue;
    const short = def.alias && def.alias.length === 1 ? def.alias : undefined;
    if (def.type === 'boolean') {
      options[name] = { type: 'boolean', ...(short ? { short } : {}) };
      options[`no-${name}`] = { type: 'boolean' };
    } else {
      options[name] = { type: 'string', multiple: true, ...(short ? { short } : {}) };
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const m = /'(-{1,2}[^' ]+)/.exec(e.message);
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UnknownOptionError(m?.[1] ?? '', defs);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = (m?.[1] ?? '').replace(/^-+/, '');
      throw new UsageError(`invalid --${flag}: ${/missing/.test(e.message) ? 'needs a value' : e.message}`);
    }
    throw new UsageError(e.message);
  }
  const values: Parsed['values'] = {};
  const lists: Parsed['lists'] = {};
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === 'positional') continue;
    const v = (parsed.values as Record<string, unknown>)[name];
    if (def.type === 'boolean') {
      const neg = (parsed.values as Record<string, unknown>)[`no-${name}`];
      values[name] = neg ? false : v === true ? true : (def.default as boolean | undefined);
    } else {
      const all = (v as string[] | undefined) ?? [];
      lists[name] = all;
      values[name] = all.length ? all[all.length - 1] : (def.default as string | undefined);
      if (def.type === 'enum' && values[name] !== undefined && def.options && !def.options.includes(values[name] as string)) {
        throw invalidOption(name, `must be one of ${def.options.join(', ')}`, values[name]);
      }
    }
  }
  return { values, lists, positionals: parsed.positionals };
}
