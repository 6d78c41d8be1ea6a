// All diagnostics go to stderr so stdout stays pure data; consola gives the levels.
import { clearProgressLine } from './progress.js';
import { createConsola, type ConsolaInstance, type LogObject } from 'consola/core';

/** --quiet (errors only) and --verbose (debug lines and stack traces). */
export interface LoggerOptions {
  quiet?: boolean;
  verbose?: boolean;
}

/** consola's logger, with the binary's name that prefixes every line. */
export type Logger = ConsolaInstance & { tool: string };

/** `<tool>: message`, one line per entry; levels: quiet = errors only, verbose = debug. */
export function createLogger(tool: string, opts: LoggerOptions = {}): Logger {
  const level = opts.quiet ? 0 : opts.verbose ? 4 : 3;
  const logger = createConsola({
    level,
    reporters: [
      {
        log(obj: LogObject) {
          const text = obj.args
            .map((a) => (a instanceof Error ? (opts.verbose ? (a.stack ?? a.message) : a.message) : String(a)))
            .join(' ');
          const prefix = obj.type === 'warn' ? `${tool}: warning: ` : `${tool}: `;
          clearProgressLine();
          process.stderr.write(prefix + text + '\n');
        },
      },
    ],
  }) as Logger;
  logger.tool = tool;
  return logger;
}
