// The binaries run compiled JavaScript: build once before any test spawns them, as `npm run
// build` does (tsc, then the launchers' bundles, so the tests run what users run). A type error
// is printed but does not stop the run (tsc still emits); `npm ci` (prepare) is the type gate.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.json`], { stdio: 'inherit' });
  if (r.status !== 0) console.error('global-setup: tsc reported errors (see above); testing the emitted JavaScript anyway');
  const b = spawnSync(process.execPath, [`${root}/scripts/bundle.mjs`], { stdio: 'inherit' });
  if (b.status !== 0) throw new Error('global-setup: bundling the launchers failed (scripts/bundle.mjs)');
}
