// The audit trail of exports (docs/privacy.md, "Audit log"): who exported (the OS
// user and host stand in for the web API's authenticated user), at which privacy level, with
// which redaction and arguments; and an NDJSON log that concurrent exports append to whole.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import { fsyncDir, writeAll, writeFailure } from './atomic-file.js';
import { acquireLock } from './file-lock.js';
import { redactValue } from '../redact/redact.js';
import type { JsonObject } from '../event/event.js';

/** Who ran an export, as the audit line records it. */
export interface ExportedBy {
  /** The login name of the effective user (null when the system has no name for the uid). */
  user: string | null;
  uid: number | null;
  host: string;
}

/** Who runs this process: the effective uid's name from the password database, else $USER/$LOGNAME. */
export function exportedBy(): ExportedBy {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : null;
  let user: string | null = null;
  try {
    user = userInfo().username;
  } catch {
    // A uid without a passwd entry (containers): the environment is the only name there is.
    user = process.env.USER || process.env.LOGNAME || null;
  }
  return { user, uid, host: hostname() };
}

/**
 * The command line as run, for the record. With redaction on, secret-looking values in it
 * (`--where token=…`, a URL with a password) are redacted like any cell, since the log is a file.
 */
export function auditArgv(tool: string, argv: readonly string[], redact: boolean): string[] {
  const all = [tool, ...argv];
  return redact ? all.map((a) => redactValue(a)) : all;
}

/** How long to wait for the audit log's lock, and what to do while waiting. */
export interface AuditLogOptions {
  lockTimeoutMs?: number;
  onWait?: () => void;
}

/**
 * Fails early (before any CSV is written) when FILE cannot be appended to: an export that
 * cannot be audited should not happen. Creates the file when it is missing.
 */
export async function checkAuditLog(path: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'a');
  } catch (err) {
    throw writeFailure(path, 'open the audit log for appending', err, 'nothing was exported');
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Appends one record as one line: under the file's lock (the same `<file>.lock` as
 * export-csv --append), one O_APPEND write, fsync. A line torn by an earlier crash is closed
 * with a line break first, so this line stays whole (the torn one stays a bad line for readers).
 */
export async function appendAuditRecord(path: string, record: JsonObject, opts: AuditLogOptions = {}): Promise<void> {
  const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
  const lock = await acquireLock(path, { timeoutMs: opts.lockTimeoutMs, onWait: opts.onWait });
  let fh: FileHandle | undefined;
  try {
    const existed = await stat(path).then(() => true, () => false);
    try {
      fh = await open(path, 'a+');
      const { size } = await fh.stat();
      let buf = line;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) buf = Buffer.concat([Buffer.from('\n'), line]);
      }
      await writeAll(fh, buf);
      await fh.sync();
    } catch (err) {
      throw writeFailure(path, 'append to the audit log', err, 'the export itself was written');
    }
    if (!existed) await fsyncDir(dirname(path)).catch(() => undefined);
  } finally {
    await fh?.close().catch(() => undefined);
    await lock.release();
  }
}
