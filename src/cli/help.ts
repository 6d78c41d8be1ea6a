// Help, man pages and shell completions, all from the one argument definition of each binary:
// a flag added to a command shows up in --help, man/<tool>.1 and the completions alike.
// Help is wrapped to the terminal's width (80 when stdout is not a terminal); the tool's own
// flags come first, the shared filters and common options after, then real examples.
import stringWidth from 'string-width';
import { COMPLETION_SHELLS, type ToolArgDef, type ToolArgs, type ToolCommand } from './args.js';

/** Where a flag is listed in --help: the command's own, the shared filters, or the common flags. */
export type HelpGroup = 'own' | 'filter' | 'common';

/** The flags every binary answers before parsing: shown with the common options. */
export const BUILTIN_FLAGS: Array<{ flag: string; description: string; valueHint?: string; options?: string[] }> = [
  { flag: '-h, --help', description: 'Print this help and exit' },
  { flag: '-V, --version', description: 'Print the version and exit' },
  { flag: '--completions', valueHint: 'bash|zsh|fish', options: COMPLETION_SHELLS, description: 'Print a shell completion script and exit (e.g. source <(process --completions bash))' },
];

interface Row {
  name: string;
  flag: string;
  def: ToolArgDef;
}

function flagText(name: string, def: ToolArgDef): string {
  const short = def.alias && def.alias.length === 1 ? `-${def.alias}, ` : '';
  const value = def.type === 'boolean' ? '' : ` ${def.valueHint ?? 'VALUE'}`;
  return `${short}--${name}${value}`;
}

function describe(def: ToolArgDef): string {
  const d = def.default;
  const shown = d !== undefined && typeof d !== 'boolean' && !/\(default/.test(def.description) ? ` (default: ${String(d)})` : '';
  return def.description + shown;
}

/** The rows of each group, in declaration order. */
export function groups(cmd: ToolCommand, shared: { filter: ToolArgs; common: ToolArgs }): Record<HelpGroup, Row[]> {
  const out: Record<HelpGroup, Row[]> = { own: [], filter: [], common: [] };
  for (const [name, def] of Object.entries(cmd.args)) {
    if (def.type === 'positional') continue;
    const group: HelpGroup = shared.common[name] === def ? 'common' : shared.filter[name] === def ? 'filter' : 'own';
    out[group].push({ name, flag: flagText(name, def), def });
  }
  return out;
}

/** Greedy word wrap by display width (CJK counts two columns); a word longer than the line is cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (stringWidth(candidate) <= width) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    let w = word;
    while (stringWidth(w) > width) {
      let cut = width;
      while (cut > 1 && stringWidth(w.slice(0, cut)) > width) cut--;
      lines.push(w.slice(0, cut));
      w = w.slice(cut);
    }
    line = w;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

function table(rows: Array<{ flag: string; text: string }>, width: number, col: number): string[] {
  const indent = 2;
  const out: string[] = [];
  for (const r of rows) {
    const descWidth = Math.max(20, width - col);
    const desc = wrap(r.text, descWidth);
    const head = ' '.repeat(indent) + r.flag;
    if (head.length + 2 <= col) {
      out.push(head.padEnd(col) + desc[0]);
    } else {
      out.push(head);
      out.push(' '.repeat(col) + desc[0]);
    }
    for (const d of desc.slice(1)) out.push(' '.repeat(col) + d);
  }
  return out;
}

/** The flag groups every binary shares, listed after its own flags. */
export interface HelpShared {
  filter: ToolArgs;
  common: ToolArgs;
}

/** --help text for a terminal of `width` columns (wrapped by display width). */
export function renderHelp(cmd: ToolCommand, shared: HelpShared, width = 80): string {
  const name = cmd.meta.name;
  const g = groups(cmd, shared);
  const positional = Object.entries(cmd.args).find(([, d]) => d.type === 'positional');
  const lines: string[] = [];
  lines.push(...wrap(`Usage: ${name} [OPTIONS]${positional ? ` [${positional[1].valueHint ?? 'FILE'}...]` : ''}`, width));
  lines.push('');
  lines.push(...wrap(cmd.meta.description, width));
  const sections: Array<[string, Array<{ flag: string; text: string }>]> = [
    ['Arguments:', positional ? [{ flag: `${positional[1].valueHint ?? 'FILE'}...`, text: positional[1].description }] : []],
    ['Options:', g.own.map((r) => ({ flag: r.flag, text: describe(r.def) }))],
    ['Filters (shared by the binaries that read events):', g.filter.map((r) => ({ flag: r.flag, text: describe(r.def) }))],
    [
      'Common options:',
      [
        ...g.common.map((r) => ({ flag: r.flag, text: describe(r.def) })),
        ...BUILTIN_FLAGS.map((b) => ({ flag: b.flag + (b.valueHint ? ` ${b.valueHint}` : ''), text: b.description.replace('process', name) })),
      ],
    ],
  ];
  // One flag column for all sections: as wide as the longest flag, at most a third of the line
  // (a longer flag puts its description on the next line).
  const fits = sections.flatMap(([, rows]) => rows.map((r) => r.flag.length)).filter((n) => n + 4 <= Math.max(16, Math.floor(width / 3)));
  const col = Math.max(0, ...fits) + 4;
  for (const [title, rows] of sections) {
    if (!rows.length) continue;
    lines.push('', title);
    lines.push(...table(rows, width, col));
  }
  if (cmd.examples?.length) {
    lines.push('', 'Examples:');
    cmd.examples.forEach((ex, n) => {
      if (n) lines.push('');
      lines.push(...wrap(`# ${ex.text}`, width - 2).map((l, i) => `  ${i ? '# ' : ''}${l}`));
      lines.push(...wrap(ex.command, width - 4).map((l, i) => (i ? `      ${l}` : `  ${l}`)));
    });
  }
  if (cmd.seeAlso) lines.push('', ...wrap(cmd.seeAlso, width));
  return lines.map((l) => l.replace(/\s+$/, '')).join('\n') + '\n';
}

// ---- man pages (roff), from the same definitions ----

function roff(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
}

/** The man page (roff) of a binary, for `npm run man`. */
export function renderMan(cmd: ToolCommand, shared: HelpShared, version: string): string {
  const name = cmd.meta.name;
  const g = groups(cmd, shared);
  const out: string[] = [];
  out.push(`.TH ${name.toUpperCase()} 1 "" "batch-events ${version}" "User Commands"`);
  out.push('.SH NAME', `${roff(name)} \\- ${roff(cmd.meta.description)}`);
  out.push('.SH SYNOPSIS', `.B ${roff(name)}`, '[\\fIOPTIONS\\fR] [\\fIFILE\\fR...]');
  out.push('.SH DESCRIPTION', roff(cmd.meta.description) + '.');
  const positional = Object.values(cmd.args).find((d) => d.type === 'positional');
  if (positional) out.push('.PP', roff(positional.description) + '.');
  const section = (title: string, rows: Row[], extra: typeof BUILTIN_FLAGS = []) => {
    if (!rows.length && !extra.length) return;
    out.push(`.SH ${title}`);
    for (const r of rows) {
      const hint = r.def.type === 'boolean' ? '' : ` \\fI${roff(r.def.valueHint ?? 'VALUE')}\\fR`;
      const short = r.def.alias && r.def.alias.length === 1 ? `\\fB\\-${r.def.alias}\\fR, ` : '';
      out.push('.TP', `${short}\\fB\\-\\-${roff(r.name)}\\fR${hint}`, roff(describe(r.def)));
    }
    for (const b of extra) {
      const flags = b.flag.split(', ').map((f) => `\\fB${roff(f)}\\fR`).join(', ');
      out.push('.TP', `${flags}${b.valueHint ? ` \\fI${roff(b.valueHint)}\\fR` : ''}`, roff(b.description.replace('process', name)));
    }
  };
  section('OPTIONS', g.own);
  section('FILTERS', g.filter);
  section('COMMON OPTIONS', g.common, BUILTIN_FLAGS);
  if (cmd.examples?.length) {
    out.push('.SH EXAMPLES');
    for (const ex of cmd.examples) out.push('.PP', roff(ex.text) + ':', '.PP', '.RS', '.nf', roff(ex.command), '.fi', '.RE');
  }
  out.push('.SH EXIT STATUS', '0 success; 1 a data or I/O failure, or more malformed lines than \\fB\\-\\-max\\-bad\\fR; 2 a usage error; 3 errors present (\\fB\\-\\-fail\\-on\\-errors\\fR).');
  out.push('.SH SEE ALSO', ['process', 'analyze', 'export-csv', 'import-csv', 'notify'].filter((n) => n !== name).map((n) => `\\fB${roff(n)}\\fR(1)`).join(', '));
  return out.join('\n') + '\n';
}

// ---- shell completions ----

function flagNames(cmd: ToolCommand): Array<{ long: string; short?: string; def: ToolArgDef | null; description: string; options?: readonly string[]; takesValue: boolean }> {
  const out = [];
  for (const [name, def] of Object.entries(cmd.args)) {
    if (def.type === 'positional') continue;
    const short = def.alias && def.alias.length === 1 ? def.alias : undefined;
    out.push({ long: name, short, def, description: def.description, options: def.options, takesValue: def.type !== 'boolean' });
    if (def.type === 'boolean') out.push({ long: `no-${name}`, def, description: `Turn off --${name}`, takesValue: false });
  }
  out.push({ long: 'help', short: 'h', def: null, description: 'Print the help', takesValue: false });
  out.push({ long: 'version', short: 'V', def: null, description: 'Print the version', takesValue: false });
  out.push({ long: 'completions', def: null, description: 'Print a completion script', options: ['bash', 'zsh', 'fish'], takesValue: true });
  return out;
}

function fnName(tool: string): string {
  return `_batch_events_${tool.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** --completions SHELL: a completion script for bash, zsh or fish. */
export function renderCompletions(cmd: ToolCommand, shell: string): string {
  const tool = cmd.meta.name;
  const flags = flagNames(cmd);
  if (shell === 'bash') {
    const words = flags.flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]).join(' ');
    const cases = flags
      .filter((f) => f.takesValue)
      .map((f) => (f.options ? `    --${f.long}) COMPREPLY=($(compgen -W "${f.options.join(' ')}" -- "$cur")); return ;;` : `    --${f.long}${f.short ? `|-${f.short}` : ''}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`));
    return [
      `# bash completion for ${tool} (batch-events): source <(${tool} --completions bash)`,
      `${fnName(tool)}() {`,
      '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
      '  case "$prev" in',
      ...cases,
      '  esac',
      '  if [[ "$cur" == -* ]]; then',
      `    COMPREPLY=($(compgen -W "${words}" -- "$cur"))`,
      '  else',
      '    COMPREPLY=($(compgen -f -- "$cur"))',
      '  fi',
      '}',
      `complete -o filenames -F ${fnName(tool)} ${tool}`,
      '',
    ].join('\n');
  }
  if (shell === 'zsh') {
    const esc = (t: string) => t.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/[[\]:]/g, (c) => `\\${c}`);
    const specs = flags.map((f) => {
      const value = f.takesValue ? `:${esc(f.def?.valueHint ?? 'value')}:${f.options ? `(${f.options.join(' ')})` : '_files'}` : '';
      const spec = `[${esc(f.description)}]${value}'`;
      return f.short ? `    {-${f.short},--${f.long}}'${spec}` : `    '--${f.long}${spec}`;
    });
    return [
      `#compdef ${tool}`,
      `# zsh completion for ${tool} (batch-events): source <(${tool} --completions zsh)`,
      `${fnName(tool)}() {`,
      '  _arguments -s \\',
      ...specs.map((s) => `${s} \\`),
      "    '*:file:_files'",
      '}',
      `compdef ${fnName(tool)} ${tool}`,
      '',
    ].join('\n');
  }
  const esc = (t: string) => t.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  return [
    `# fish completion for ${tool} (batch-events): ${tool} --completions fish | source`,
    ...flags.map((f) => {
      const parts = [`complete -c ${tool}`];
      if (f.short) parts.push(`-s ${f.short}`);
      parts.push(`-l ${f.long}`);
      if (f.options) parts.push(`-x -a '${f.options.join(' ')}'`);
      else if (f.takesValue) parts.push('-r');
      parts.push(`-d '${esc(f.description)}'`);
      return parts.join(' ');
    }),
    '',
  ].join('\n');
}
