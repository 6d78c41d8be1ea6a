// Shared by the launchers: runs a binary from its bundle (dist/bin/NAME.js, one file written by
// `npm run build`, scripts/bundle.mjs) for a fast start, or from the modules of dist/ when there
// is no bundle or a later `tsc` run made it stale (the bundle is older than dist/index.js, which
// every tsc run rewrites), so a developer's fresh build is what runs.
import { existsSync, statSync } from 'node:fs';

function bundleIsFresh(name) {
  try {
    return statSync(new URL(`../dist/bin/${name}.js`, import.meta.url)).mtimeMs >= statSync(new URL('../dist/index.js', import.meta.url)).mtimeMs;
  } catch {
    return false;
  }
}

export async function launch(name) {
  if (bundleIsFresh(name)) {
    await import(`../dist/bin/${name}.js`);
    return;
  }
  // The memory settings first (dist/cli/heap-limits.js), as the bundle does.
  await import('../dist/cli/heap-limits.js');
  const { main } = await import('../dist/cli/run.js');
  // A command is one module (dist/commands/NAME.js) or a folder of them (NAME/index.js).
  const folder = new URL(`../dist/commands/${name}/index.js`, import.meta.url);
  const { default: command } = await import(existsSync(folder) ? folder.href : `../dist/commands/${name}.js`);
  await main(command);
}
