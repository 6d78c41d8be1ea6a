// A file is replaced atomically: written to a temporary file in the same folder, fsynced,
// renamed over the target, and the folder fsynced, so whatever kills the process leaves
// either the old file or the complete new one, never half of one. The only writer of files that
// must survive a crash: exports, ledgers (through openAtomic), notify's state file and outbox
// (writeFileAtomic), backups (copyToNewFile).
import { copyFile, link, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { DataError, errnoText } from '../cli/errors.js';
import { forget, removeOnSignal } from './cleanup.js';

/** The export engineer streams rows into this; small chunks are coalesced up to this size. */
const COALESCE_BYTES = 64 * 1024;

/** The handle a writer gets back; commit() publishes, abort() leaves the original untouched. */
export interface AtomicFile {
  readonly path: string;
  readonly tempPath: string;
  write(chunk: Buffer | string): Promise<void>;
  commit(): Promise<{ bytes: number; sha256: string }>;
  abort(): Promise<void>;
}

/**
 * The temp name is hidden, unique per process and call, and beside the target (same filesystem, so rename is atomic).
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** One line that says what failed, why, and that the user's file was not touched. */
export function writeFailure(path: string, action: string, err: unknown, outcome = 'the existing file was left untouched'): DataError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const known = errnoText(code);
  const why = known ?? (err instanceof Error ? err.message : String(err));
  return new DataError(`could not ${action} (${why}${known ? `, ${code}` : ''}); ${outcome}`, path, undefined, { cause: err });
}

/** Fsync of the folder makes the rename itself durable; some systems refuse it, which is harmless. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF' && code !== 'EACCES') throw err;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Signal 0 asks the kernel whether the pid exists without touching it; EPERM means it does. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * SIGKILL cannot be caught, so a killed writer's temp file stays; the next writer (holding the
 * file's lock) removes the temp files of this target whose process is gone. Returns their names.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^\\.${base}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(dirname(path) || '.');
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = re.exec(name);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    await rm(join(dirname(path), name), { force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

/** A short write is legal for write(2): loops until the whole buffer is on its way. */
export async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    off += bytesWritten;
  }
}

/** The single entry point for "write this file safely"; keeps the existing file's permissions. */
export async function openAtomic(path: string, opts: { mode?: number } = {}): Promise<AtomicFile> {
  const tempPath = tempPathFor(path);
  // A new file gets opts.mode (default 0o666 minus the umask); an existing file keeps its own.
  let mode = opts.mode ?? 0o666;
  try {
    mode = (await stat(path)).mode & 0o7777;
  } catch {
    // no existing file: default permissions (minus umask)
  }
  // Registered before the open: a signal while the open is under way still removes the file.
  removeOnSignal(tempPath);
  let fh: FileHandle;
  try {
    fh = await open(tempPath, 'wx', mode);
  } catch (err) {
    forget(tempPath);
    throw writeFailure(path, `create a temporary file in ${dirname(path) || '.'}`, err);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let failure: DataError | null = null;
  let finished = false;
  let chain: Promise<void> = Promise.resolve();

  const cleanup = async (): Promise<void> => {
    finished = true;
    await fh.close().catch(() => undefined);
    await rm(tempPath, { force: true }).catch(() => undefined);
    forget(tempPath);
  };
  const drain = async (): Promise<void> => {
    if (!pendingBytes) return;
    const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    try {
      await writeAll(fh, buf);
    } catch (err) {
      failure = writeFailure(path, 'write', err);
      await cleanup();
      throw failure;
    }
  };
  const serial = (task: () => Promise<void>): Promise<void> => {
    const next = chain.then(task);
    chain = next.catch(() => undefined);
    return next;
  };

  return {
    path,
    tempPath,
    write(chunk) {
      if (failure) return Promise.reject(failure);
      if (finished) return Promise.reject(new DataError('write after commit or abort', path));
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      if (!buf.length) return Promise.resolve();
      hash.update(buf);
      bytes += buf.length;
      pending.push(buf);
      pendingBytes += buf.length;
      if (pendingBytes < COALESCE_BYTES) return Promise.resolve();
      return serial(drain);
    },
    async commit() {
      if (failure) throw failure;
      if (finished) throw new DataError('commit after commit or abort', path);
      try {
        await serial(async () => {
          if (failure) throw failure;
          await drain();
          try {
            await fh.sync();
            await fh.close();
          } catch (err) {
            failure = writeFailure(path, 'write', err);
            throw failure;
          }
          try {
            await rename(tempPath, path);
          } catch (err) {
            failure = writeFailure(path, `rename ${basename(tempPath)} over it`, err);
            throw failure;
          }
        });
      } catch (err) {
        await cleanup();
        throw err;
      }
      finished = true;
      forget(tempPath);
      await fsyncDir(dirname(path)).catch(() => undefined);
      return { bytes, sha256: hash.digest('hex') };
    },
    async abort() {
      if (finished) return;
      await chain;
      await cleanup();
    },
  };
}

/** A whole file written atomically in one go (openAtomic, one write, commit); `mode` applies to a file that does not exist yet. */
export async function writeFileAtomic(path: string, data: string | Buffer, opts: { mode?: number } = {}): Promise<{ bytes: number; sha256: string }> {
  const file = await openAtomic(path, opts);
  try {
    await file.write(data);
  } catch (err) {
    await file.abort();
    throw err;
  }
  return file.commit();
}

/**
 * A copy of `from` published under the first free name of nameFor(0), nameFor(1), … (all in one
 * folder): copied to a temp file there, fsynced, then hard-linked into place, since a link never
 * overwrites (two writers in the same millisecond get different names instead of clobbering),
 * and the folder fsynced. Null when `from` is gone; `action` words a failure ("back it up to DIR").
 */
export async function copyToNewFile(from: string, nameFor: (n: number) => string, action: string): Promise<string | null> {
  const dir = dirname(nameFor(0));
  const tmp = join(dir, `.${basename(from)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  removeOnSignal(tmp);
  let target: string | null = null;
  try {
    try {
      await copyFile(from, tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw writeFailure(from, action, err);
    }
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    for (let n = 0; target === null; n++) {
      const candidate = nameFor(n);
      try {
        await link(tmp, candidate);
        target = candidate;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(from, action, err);
      }
    }
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
    forget(tmp);
  }
  await fsyncDir(dir).catch(() => undefined);
  return target;
}
