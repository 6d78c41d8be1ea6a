// An advisory lock so that separate processes writing one file take turns: `<path>.lock` is
// created atomically (hard link of a private O_EXCL file) and names its holder; a lock whose holder died (same host, pid gone)
// is broken safely; waiting is bounded and ends with an error that says what to do.
import { link, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { DataError } from '../cli/errors.js';
import { pidAlive, writeFailure } from './atomic-file.js';
import { forget, onSignalCleanup, removeOnSignal } from './cleanup.js';

/** A minute is long enough for any batch commit and short enough for a cron job to fail visibly. */
export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

/**
 * A lock or .break file without readable content (written by something else, or a breaker killed
 * between create and write) cannot name a pid to check, so it is judged by age.
 */
const UNREADABLE_STALE_MS = 10_000;

/** What a lock file says about its holder, for the stale check and for the error message. */
export interface LockInfo {
  pid: number;
  hostname: string;
  time: string;
  token: string;
}

/** Options for callers (export-csv's --lock-timeout, a "waiting for pid N" note on stderr). */
export interface LockOptions {
  timeoutMs?: number;
  onWait?: (holder: LockInfo | null) => void;
  /** After how long onWait is called (once). */
  waitNoticeMs?: number;
}

/** The handle a holder gets; release() is idempotent and never removes someone else's lock. */
export interface FileLock {
  readonly lockPath: string;
  readonly token: string;
  release(): Promise<void>;
}

const held = new Map<string, string>();
/**
 * A signal can land after link() succeeded but before its continuation ran; the exit hook
 * then still finds (and, token checked, removes) the lock.
 */
const attempting = new Map<string, string>();
const liveTokens = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const removeHeld = () => {
    for (const [lockPath, token] of [...held, ...attempting]) {
      try {
        if (parseInfo(readFileSync(lockPath, 'utf8'))?.token === token) rmSync(lockPath, { force: true });
      } catch {
        // best effort at exit: a leftover lock of a dead pid is broken by the next writer
      }
    }
  };
  process.on('exit', removeHeld);
  // A signal re-raised after cleanup ends the process without 'exit': remove the locks then too.
  onSignalCleanup(removeHeld);
}

function parseInfo(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.hostname === 'string' && typeof v.token === 'string') {
      return { pid: v.pid, hostname: v.hostname, time: String(v.time ?? ''), token: v.token };
    }
  } catch {
    // fall through: unreadable
  }
  return null;
}

/** Tests and callers check holders the same way the lock does. */
export { pidAlive };

interface Seen {
  text: string;
  ino: number;
  mtimeMs: number;
  info: LockInfo | null;
}

async function look(lockPath: string): Promise<Seen | null> {
  try {
    const st = await stat(lockPath);
    const text = await readFile(lockPath, 'utf8');
    return { text, ino: st.ino, mtimeMs: st.mtimeMs, info: parseInfo(text) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function isStale(seen: Seen): boolean {
  const info = seen.info;
  if (!info) return Date.now() - seen.mtimeMs > UNREADABLE_STALE_MS;
  if (info.hostname !== hostname()) return false;
  if (info.pid === process.pid) return !liveTokens.has(info.token);
  return !pidAlive(info.pid);
}

/**
 * Breaking is itself serialized by `<lock>.break` (O_EXCL), and the lock is removed only if it
 * is still the very file judged stale; so two waiters can never remove a lock a third just took.
 */
async function breakStale(lockPath: string, seen: Seen): Promise<void> {
  const breaker = `${lockPath}.break`;
  let fh;
  try {
    fh = await open(breaker, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const other = await look(breaker);
    if (other && isStale(other)) await rm(breaker, { force: true });
    return;
  }
  removeOnSignal(breaker);
  const token = `${process.pid}-break-${randomBytes(8).toString('hex')}`;
  liveTokens.add(token);
  try {
    await fh.writeFile(JSON.stringify({ pid: process.pid, hostname: hostname(), time: new Date().toISOString(), token }));
    await fh.close();
    const now = await look(lockPath);
    if (now && now.text === seen.text && now.ino === seen.ino && now.mtimeMs === seen.mtimeMs) {
      await rm(lockPath, { force: true });
      if (seen.info && /^[\w-]+$/.test(seen.info.token)) await rm(`${lockPath}.${seen.info.token}`, { force: true });
    }
  } finally {
    await rm(breaker, { force: true });
    forget(breaker);
    liveTokens.delete(token);
  }
}

function holderText(info: LockInfo | null): string {
  return info ? `pid ${info.pid} on ${info.hostname} since ${info.time}` : 'an unknown process';
}

/**
 * A waiter killed with SIGKILL leaves its private `<path>.lock.<pid>-<token>` file; the next
 * writer removes those whose pid is gone (once per lock path and process: a readdir is not free).
 */
const swept = new Set<string>();
async function removeStaleWaiterFiles(lockPath: string): Promise<void> {
  if (swept.has(lockPath)) return;
  swept.add(lockPath);
  const dir = dirname(lockPath);
  const base = basename(lockPath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${base}\\.(\\d+)-[0-9a-f]{16}$`);
  let names: string[];
  try {
    names = await readdir(dir || '.');
  } catch {
    return;
  }
  for (const name of names) {
    const m = re.exec(name);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    await rm(join(dir, name), { force: true }).catch(() => undefined);
  }
}

/** The one way to take the lock; resolves once this process holds `<path>.lock`. */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<FileLock> {
  const lockPath = `${path}.lock`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const started = Date.now();
  const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const body = JSON.stringify({ pid: process.pid, hostname: hostname(), time: new Date().toISOString(), token }) + '\n';
  let delay = 2;
  let noticed = false;
  installExitHook();
  // The lock is born complete: its content goes to a private file first, which is then hard-linked
  // to <path>.lock (link fails with EEXIST when the lock is taken, atomically, also on NFS).
  const tmp = `${lockPath}.${token}`;
  await removeStaleWaiterFiles(lockPath);
  removeOnSignal(tmp);
  try {
    await writeFile(tmp, body, { flag: 'wx' });
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    forget(tmp);
    throw writeFailure(path, `create the lock file ${lockPath}`, err);
  }
  try {
    for (;;) {
      attempting.set(lockPath, token);
      try {
        await link(tmp, lockPath);
        held.set(lockPath, token);
        liveTokens.add(token);
        return makeLock(lockPath, token);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') throw writeFailure(path, `create the lock file ${lockPath}`, err);
      } finally {
        attempting.delete(lockPath);
      }
      const seen = await look(lockPath);
      if (!seen) continue;
      if (isStale(seen)) {
        await breakStale(lockPath, seen);
        continue;
      }
      const waited = Date.now() - started;
      if (waited >= timeoutMs) {
        throw new DataError(
          `still locked by ${holderText(seen.info)} after waiting ${Math.round(waited / 1000)}s; if that process is gone, delete ${lockPath}, or raise --lock-timeout`,
          path,
        );
      }
      if (!noticed && opts.onWait && waited >= (opts.waitNoticeMs ?? Math.min(2000, timeoutMs / 2))) {
        noticed = true;
        opts.onWait(seen.info);
      }
      const pause = Math.min(delay, timeoutMs - waited) * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, Math.max(1, pause)));
      delay = Math.min(delay * 2, 25);
    }
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
    forget(tmp);
  }
}

async function releaseHeld(lockPath: string, token: string): Promise<void> {
  if (held.get(lockPath) !== token) return;
  const now = await look(lockPath).catch(() => null);
  if (now?.info?.token === token) await rm(lockPath, { force: true });
  held.delete(lockPath);
  liveTokens.delete(token);
}

function makeLock(lockPath: string, token: string): FileLock {
  return { lockPath, token, release: () => releaseHeld(lockPath, token) };
}

