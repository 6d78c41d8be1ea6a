// Rotating backups (docs/durability.md): before a file is changed, a complete copy goes to a
// `backups` folder beside it, and only the newest N copies are kept.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { copyToNewFile, writeFailure } from './atomic-file.js';

/** Five, as docs/durability.md promises. */
export const DEFAULT_BACKUPS = 5;

/** A sortable UTC stamp with milliseconds, safe in file names on every system. */
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

/** Only files this module named are ever pruned; anything else in the folder is left alone. */
function listBackups(names: string[], base: string): BackupName[] {
  const re = new RegExp(`^${escapeRegExp(base)}\\.(\\d{8}T\\d{9}Z)(?:-(\\d+))?$`);
  const out: BackupName[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (m) out.push({ name, stamp: m[1]!, n: m[2] ? Number(m[2]) : 0 });
  }
  return out.sort((a, b) => (a.stamp === b.stamp ? b.n - a.n : a.stamp < b.stamp ? 1 : -1));
}

/** The backups of one file, newest first (for tests, docs and a future --restore). */
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

/** Copies the file to backups/<name>.<UTC stamp>[-n] beside it (copyToNewFile: never overwrites a copy), then keeps the newest `keep`; null when there is no file. */
export async function backupFile(path: string, keep: number = DEFAULT_BACKUPS): Promise<string | null> {
  const dir = join(dirname(path), 'backups');
  const base = basename(path);
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
  const stamp = backupStamp();
  const target = await copyToNewFile(path, (n) => join(dir, `${base}.${stamp}${n ? `-${n}` : ''}`), `back it up to ${dir}`);
  if (target === null) return null;
  await pruneBackups(path, keep);
  return target;
}

/** Keep the newest `keep` copies; older ones go (a failed removal is not worth failing the run). */
export async function pruneBackups(path: string, keep: number): Promise<string[]> {
  const all = await listBackupsOf(path);
  const doomed = all.slice(Math.max(0, keep));
  for (const p of doomed) await rm(p, { force: true }).catch(() => undefined);
  return doomed;
}
