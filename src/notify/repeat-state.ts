// notify --state: the same set of errors is not sent twice within --repeat-interval. No daemon:
// a small JSON file of recent sends, rewritten atomically, with a lock between concurrent runs.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../durable/atomic-file.js';
import { acquireLock } from '../durable/file-lock.js';
import { DataError } from '../cli/errors.js';

/** One recent send, under its fingerprint. */
export interface StateEntry {
  sent_at: string;
  job: string | null;
  subject: string;
  transport: string;
}

/** The --state file: recent sends by fingerprint. */
export interface StateFile {
  version: 1;
  sent: Record<string, StateEntry>;
}

/** The state of a first run (or of a missing or unreadable file). */
export function emptyState(): StateFile {
  return { version: 1, sent: {} };
}

/** A missing or unreadable state file is an empty one (a corrupt file must not stop alerts). */
export function readState(path: string): StateFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return emptyState();
  }
  try {
    const parsed = JSON.parse(text) as Partial<StateFile>;
    if (parsed && typeof parsed === 'object' && parsed.sent && typeof parsed.sent === 'object') return { version: 1, sent: parsed.sent };
  } catch {
    // fall through
  }
  return emptyState();
}

/** When the same fingerprint was sent less than `intervalMs` ago, the time it was sent; else null. */
export function recentSend(state: StateFile, fp: string, intervalMs: number, nowMs: number): StateEntry | null {
  const entry = state.sent[fp];
  if (!entry) return null;
  const at = Date.parse(entry.sent_at);
  return Number.isFinite(at) && nowMs - at < intervalMs && nowMs >= at ? entry : null;
}

/** Records a send and drops entries older than `keepMs`, so the file stays small. */
export function recordSend(state: StateFile, fp: string, entry: StateEntry, nowMs: number, keepMs: number): StateFile {
  const sent: Record<string, StateEntry> = {};
  for (const [k, v] of Object.entries(state.sent)) {
    const at = Date.parse(v.sent_at);
    if (Number.isFinite(at) && nowMs - at < keepMs) sent[k] = v;
  }
  sent[fp] = entry;
  return { version: 1, sent };
}

/** Temp file in the same folder, fsync, rename: a reader sees the old or the new file, never half of one. */
export async function writeStateAtomic(path: string, state: StateFile): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(state, null, 1) + '\n', { mode: 0o600 });
}

/** The --state lock, held from the repeat check to the state update. */
export interface StateLock {
  release(): Promise<void>;
}

/**
 * The state file's lock (durable/file-lock: `FILE.lock`, O_EXCL, dead holders broken), held from
 * the repeat check to the state update so a second notify decides after the first has
 * recorded its send. Null if it cannot be had within `waitMs`: the caller decides unlocked
 * rather than miss an alert.
 */
export async function lockState(path: string, waitMs: number): Promise<StateLock | null> {
  mkdirSync(dirname(path), { recursive: true });
  try {
    return await acquireLock(path, { timeoutMs: waitMs });
  } catch (err) {
    if (err instanceof DataError) return null;
    throw err;
  }
}
