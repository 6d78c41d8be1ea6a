// Temporary files (and lock files) are removed when SIGINT, SIGTERM or SIGHUP (a closed terminal
// or ssh session) ends a run, so an interrupted write leaves the old file and nothing else
// (SIGKILL cannot be caught; the atomic rename covers it). After the cleanup the process dies by
// the same signal, as coreutils and signal-exit do: a shell running `for …; do … | tool; done`
// stops at Ctrl-C only when its child died of SIGINT (an exit code of 130 is not enough).
import { rmSync } from 'node:fs';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const EXIT_BY_SIGNAL: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const paths = new Set<string>();
const hooks = new Set<() => void>();
const commits = new Set<() => Promise<void>>();
let installed = false;
let committing = false;

/**
 * A ledger's rows are results, not a draft: on a signal they are committed first, then the
 * temp files are removed and the process exits. A second signal during that commit exits at once.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (commits.size && !committing) {
    committing = true;
    const tasks = [...commits].map((commit) => commit().catch(() => undefined));
    void Promise.all(tasks).then(() => finish(signal));
    return;
  }
  finish(signal);
}

function finish(signal: NodeJS.Signals): void {
  for (const p of paths) {
    try {
      rmSync(p, { force: true });
    } catch {
      // best effort: the rename never happened, so the user's file is intact either way
    }
  }
  paths.clear();
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // best effort, as above
    }
  }
  hooks.clear();
  // With no listener left Node restores the default action, so the re-raised signal ends the
  // process the way the shell expects. Should another listener remain, exit with 128 + n.
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  setTimeout(() => process.exit(EXIT_BY_SIGNAL[signal] ?? 143), 1000).unref();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
}

/** Removes `path` (a temp or lock file) if SIGINT, SIGTERM or SIGHUP ends the run before forget(path). */
export function removeOnSignal(path: string): void {
  install();
  paths.add(path);
}

/** Runs `commit` when SIGINT, SIGTERM or SIGHUP arrives, before the cleanup and exit; returns the undo. */
export function commitOnSignal(commit: () => Promise<void>): () => void {
  install();
  commits.add(commit);
  return () => void commits.delete(commit);
}

/** Stops removing `path` on a signal: it was renamed into place or removed already. */
export function forget(path: string): void {
  paths.delete(path);
}

/** Runs `fn` (synchronous, best effort) if a signal ends the run; 'exit' handlers do not run then. */
export function onSignalCleanup(fn: () => void): void {
  install();
  hooks.add(fn);
}
