// The man page of every binary, rendered from its argument definitions (scripts/gen-man.mjs
// writes them to man/; a test checks the committed pages are current).
import { readFileSync } from 'node:fs';
import { commonArgs, filterArgs, type ToolCommand } from './args.js';
import { renderMan } from './help.js';

/** Each command's man page by binary name; the commands are passed in (cli/ imports no command). */
export async function manPages(commands: readonly ToolCommand[]): Promise<Record<string, string>> {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const out: Record<string, string> = {};
  for (const cmd of commands) out[cmd.meta.name] = renderMan(cmd, { filter: filterArgs, common: commonArgs }, pkg.version);
  return out;
}
