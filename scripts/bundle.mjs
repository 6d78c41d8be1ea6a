// Bundles each binary into one file, dist/bin/NAME.js, after tsc has written dist/: a run then
// loads one module instead of ~65 (dist/ plus consola, csv-parse, lossless-json), which is most
// of a binary's start-up beyond `node -e 0` (BENCHMARKS.md, issue 16). What a run loads only
// on demand stays a separate import: help (string-width), the flag suggestion (leven) and the
// HTML report as split chunks; nodemailer, tsx (TypeScript rule packs) and jsonc-parser
// (createRequire) as packages. The launchers in bin/ fall back to dist/ when a later tsc run
// made the bundles stale (see bin/launch.js).
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const BINARIES = ['process', 'analyze', 'export-csv', 'import-csv', 'notify'];

// A command is one module (dist/commands/NAME.js) or a folder of them (dist/commands/NAME/index.js).
const commandModule = (name) => (existsSync(`${root}/dist/commands/${name}/index.js`) ? `${name}/index.js` : `${name}.js`);
const entry = (name) => `import './dist/cli/heap-limits.js';
import { main } from './dist/cli/run.js';
import command from './dist/commands/${commandModule(name)}';
await main(command);
`;

const entries = {
  name: 'entries',
  setup(b) {
    b.onResolve({ filter: /^bundle-entry:/ }, (a) => ({ path: a.path.slice('bundle-entry:'.length), namespace: 'bundle-entry' }));
    b.onLoad({ filter: /.*/, namespace: 'bundle-entry' }, (a) => ({ contents: entry(a.path), resolveDir: root, loader: 'js' }));
  },
};

const started = Date.now();
// Chunk names carry a content hash: old ones would pile up.
rmSync(`${root}/dist/bin`, { recursive: true, force: true });
// One build per binary: its own code in one file, only its on-demand imports split off. (One
// build for all five would split their shared code into a dozen chunks loaded at every start.)
// The files stay directly in dist/bin/: `new URL('../../package.json', import.meta.url)` then
// still finds the package's package.json, as it does from dist/cli/.
await Promise.all(
  BINARIES.map((name) =>
    build({
      absWorkingDir: root,
      entryPoints: [{ in: `bundle-entry:${name}`, out: name }],
      plugins: [entries],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outdir: 'dist/bin',
      chunkNames: `${name}-[name]-[hash]`,
      external: ['nodemailer', 'nodemailer/*', 'tsx', 'tsx/*'],
      // Class and function names stay: they appear in --verbose stack traces and error names.
      keepNames: true,
      legalComments: 'none',
      minifyWhitespace: true,
      minifySyntax: true,
      logLevel: 'warning',
    }),
  ),
);
if (process.argv.includes('--verbose')) console.error(`bundled ${BINARIES.length} binaries in ${Date.now() - started} ms`);
