#!/usr/bin/env node
// A plain `env node` shebang: it runs where env has no -S (BusyBox, Alpine images). The V8 flag
// that keeps a streaming run's heap from over-growing is set here, before any input is read
// (measured in BENCHMARKS.md; the young-generation size cannot be set at run time).
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--heap-growing-percent=50');
const { main } = await import('../dist/core/cli.js');
const { default: command } = await import('../dist/commands/process.js');
await main(command);
