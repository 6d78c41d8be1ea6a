// Temporary files are removed when SIGINT or SIGTERM ends a run, so an interrupted write
// leaves the old file and nothing else (SIGKILL cannot be caught; atomic rename covers it).
import { rmSync } from 'node:fs';

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
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

export function removeOnSignal(path: string): void {
  if (!installed) {
    installed = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  paths.add(path);
}

export function forget(path: string): void {
  paths.delete(path);
}
