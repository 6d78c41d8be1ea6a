// Every binary's command, in the order the docs list them: for the man page script and its test
// (cli/ renders the pages but imports no command).
import processCommand from './process.js';
import analyzeCommand from './analyze.js';
import exportCsvCommand from './export-csv/index.js';
import importCsvCommand from './import-csv.js';
import notifyCommand from './notify.js';
import type { ToolCommand } from '../cli/args.js';

/** The five binaries' commands. */
export const COMMANDS: readonly ToolCommand[] = [processCommand, analyzeCommand, exportCsvCommand, importCsvCommand, notifyCommand];
