#!/usr/bin/env node
// A plain `env node` shebang: it runs where env has no -S (BusyBox, Alpine images). The memory
// settings the old shebang flags gave are applied by heap-limits, imported before anything else.
import '../dist/cli/heap-limits.js';
const { main } = await import('../dist/cli/run.js');
const { default: command } = await import('../dist/commands/process.js');
await main(command);
