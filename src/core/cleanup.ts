// Temporary files (and lock files) are removed when SIGINT, SIGTERM or SIGHUP (a closed terminal
// or ssh session) ends a run, so an interrupted write leaves the old file and nothing else
// (SIGKILL cannot be caught; the atomic rename covers it). The exit code is 128 + the signal.
import { rmSync } from 'node:fs';

const EXIT_BY_SIGNAL: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const paths = new Set<string>();
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const p of paths) {
    try {
      rmSync(p, { force: true });
    } catch {
      // best effort: the rename never happened, so the user's file is intact either way
    }
  }
  paths.clear();
  process.exit(EXIT_BY_SIGNAL[signal] ?? 143);
}

export function removeOnSignal(path: string): void {
  if (!installed) {
    installed = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
  }
  paths.add(path);
}

export function forget(path: string): void {
  paths.delete(path);
}
