#!/usr/bin/env node
// Writes man/<tool>.1 for every binary from the same argument definitions as --help and the
// completions (src/cli/help.ts renders them). Run after changing a flag: `npm run man`; a test
// fails while the committed pages differ from what this writes. Needs a build (dist/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manPages } from '../dist/cli/man-pages.js';
import { COMMANDS } from '../dist/commands/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'man'), { recursive: true });
for (const [name, text] of Object.entries(await manPages(COMMANDS))) {
  writeFileSync(join(root, 'man', `${name}.1`), text);
  process.stdout.write(`man/${name}.1\n`);
}
