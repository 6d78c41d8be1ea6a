// The man page of every binary, rendered from its argument definitions (scripts/gen-man.mjs
// writes them to man/; a test checks the committed pages are current).
import { readFileSync } from 'node:fs';
import { commonArgs, filterArgs, type ToolCommand } from './run.js';
import { renderMan } from './help.js';
import processCommand from '../commands/process.js';
import analyzeCommand from '../commands/analyze.js';
import exportCsvCommand from '../commands/export-csv.js';
import importCsvCommand from '../commands/import-csv.js';
import notifyCommand from '../commands/notify.js';

const COMMANDS: ToolCommand[] = [processCommand, analyzeCommand, exportCsvCommand, importCsvCommand, notifyCommand];

export async function manPages(): Promise<Record<string, string>> {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const out: Record<string, string> = {};
  for (const cmd of COMMANDS) out[cmd.meta.name] = renderMan(cmd, { filter: filterArgs, common: commonArgs }, pkg.version);
  return out;
}
