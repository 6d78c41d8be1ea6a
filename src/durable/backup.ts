// Rotating backups (seeds 002/004): before a file is changed, a complete copy goes to a
// `backups` folder beside it, and only the newest N copies are kept.
import { copyFile, link, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, writeFailure } from './atomic-file.js';
import { forget, removeOnSignal } from './cleanup.js';

// Why: seeds 002 and 004 keep five.
export const DEFAULT_BACKUPS = 5;

// Why: a sortable UTC stamp with milliseconds, safe in file names on every system.
export function backupStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface BackupName {
  name: string;
  stamp: string;
  n: number;
}

// Why: only files this module named are ever pruned; anything else in the folder is left alone.
function listBackups(names: string[], base: string): BackupName[] {
  const re = new RegExp(`^${escapeRegExp(base)}\\.(\\d{8}T\\d{9}Z)(?:-(\\d+))?$`);
  const out: BackupName[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (m) out.push({ name, stamp: m[1]!, n: m[2] ? Number(m[2]) : 0 });
  }
  return out.sort((a, b) => (a.stamp === b.stamp ? b.n - a.n : a.stamp < b.stamp ? 1 : -1));
}

// Why: the backups of one file, newest first (for tests, docs and a future --restore).
export async function listBackupsOf(path: string): Promise<string[]> {
  const dir = join(dirname(path), 'backups');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return listBackups(names, basename(path)).map((b) => join(dir, b.name));
}

// Why: the copy is made under a temp name, fsynced, then linked into place (link never
// overwrites, so two writers in the same millisecond get -1, -2 … instead of clobbering).
export async function backupFile(path: string, keep: number = DEFAULT_BACKUPS): Promise<string | null> {
  const dir = join(dirname(path), 'backups');
  const base = basename(path);
  const tmp = join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw writeFailure(path, 'read it for a backup', err);
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw writeFailure(path, `create the backups folder ${dir}`, err);
  }
  removeOnSignal(tmp);
  let target: string | null = null;
  try {
    try {
      await copyFile(path, tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw writeFailure(path, `back it up to ${dir}`, err);
    }
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const stamp = backupStamp();
    for (let n = 0; target === null; n++) {
      const candidate = join(dir, `${base}.${stamp}${n ? `-${n}` : ''}`);
      try {
        await link(tmp, candidate);
        target = candidate;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(path, `back it up to ${dir}`, err);
      }
    }
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
    forget(tmp);
  }
  await fsyncDir(dir).catch(() => undefined);
  await pruneBackups(path, keep);
  return target;
}

// Why: keep the newest `keep` copies; older ones go (a failed removal is not worth failing the run).
export async function pruneBackups(path: string, keep: number): Promise<string[]> {
  const all = await listBackupsOf(path);
  const doomed = all.slice(Math.max(0, keep));
  for (const p of doomed) await rm(p, { force: true }).catch(() => undefined);
  return doomed;
}
