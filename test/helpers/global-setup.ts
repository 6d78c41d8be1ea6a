// The binaries run compiled JavaScript: build once before any test spawns them. A type error
// is printed but does not stop the run (tsc still emits); `npm ci` (prepare) is the type gate.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.json`], { stdio: 'inherit' });
  if (r.status !== 0) console.error('global-setup: tsc reported errors (see above); testing the emitted JavaScript anyway');
}
