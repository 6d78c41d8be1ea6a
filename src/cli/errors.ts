// Exit codes and error types shared by every binary, so scripts and Make can rely on them.
/** Exit 0: the run did what was asked. */
export const EXIT_OK = 0;
/** Exit 1: a failure (bad input lines over --max-bad, a file that could not be written, ...). */
export const EXIT_FAILURE = 1;
/** Exit 2: a usage error (a bad flag or flag value); nothing was read or written. */
export const EXIT_USAGE = 2;
/** Exit 3: --fail-on-error and the input held error events (the run itself succeeded). */
export const EXIT_ERRORS_PRESENT = 3;

/** A bad flag or flag value: exit 2, message `invalid --flag: why`. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Builds the message csv-parse style: names the option, what it must be, and what it got. */
export function invalidOption(flag: string, must: string, got?: unknown): UsageError {
  const gotText = got === undefined ? '' : `, got ${JSON.stringify(got)}`;
  return new UsageError(`invalid --${flag}: ${must}${gotText}`);
}

/** Data or I/O failure that ends the run: exit 1, one line, optionally FILE:LINE. */
export class DataError extends Error {
  readonly exitCode = EXIT_FAILURE;
  constructor(message: string, readonly file?: string, readonly line?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DataError';
  }
  override toString(): string {
    const where = this.file ? `${this.file}${this.line ? `:${this.line}` : ''}: ` : '';
    return `${where}${this.message}`;
  }
}

/** The exit code an error asks for (its exitCode), else EXIT_FAILURE. */
export function exitCodeOf(err: unknown): number {
  if (err && typeof err === 'object' && 'exitCode' in err && typeof (err as { exitCode: unknown }).exitCode === 'number') {
    return (err as { exitCode: number }).exitCode;
  }
  return EXIT_FAILURE;
}

/**
 * The one errno table: what an I/O error code means, in words a user can act on, and what to do
 * about it where that is not obvious. Every message that names an I/O failure takes its words
 * from here (describeError, the durable writers' writeFailure, the readers of --flag FILEs).
 */
const ERRNO: Record<string, { text: string; advice?: string }> = {
  ENOENT: { text: 'no such file or directory' },
  ENOTDIR: { text: 'a part of the path is not a folder' },
  EACCES: { text: 'permission denied', advice: 'check the file and folder permissions' },
  EPERM: { text: 'operation not permitted' },
  EISDIR: { text: 'is a directory, expected a file' },
  ENOSPC: { text: 'no space left on device', advice: 'free some space and run again; the existing output was left untouched' },
  EROFS: { text: 'read-only file system' },
  EFBIG: { text: 'file too large for this system or ulimit -f' },
  EDQUOT: { text: 'disk quota exceeded' },
  EIO: { text: 'input/output error' },
};

/** The words for an errno code (`no such file or directory`), or undefined for a code not in the table. */
export function errnoText(code: string | undefined): string | undefined {
  return code === undefined ? undefined : ERRNO[code]?.text;
}

/** Why reading a file failed, for messages like `FILE: why`: the errno's words, else the error's message. */
export function readFailureText(err: unknown): string {
  return errnoText((err as NodeJS.ErrnoException)?.code) ?? (err instanceof Error ? err.message : String(err));
}

/** One line for a person: no stack, the node error code's meaning where it is a known I/O code. */
export function describeError(err: unknown): string {
  if (err instanceof DataError) return err.toString();
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const path = (err as NodeJS.ErrnoException).path;
    const known = code ? ERRNO[code] : undefined;
    if (known && path) return `${path}: ${known.text}${known.advice ? ` (${known.advice})` : ''}`;
    return err.message.split('\n')[0] ?? String(err);
  }
  return String(err);
}
