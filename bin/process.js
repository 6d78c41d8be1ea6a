#!/usr/bin/env node
// A plain `env node` shebang: it runs where env has no -S (BusyBox, Alpine images). The memory
// settings the old shebang flags gave are applied at run time (dist/cli/heap-limits.js), first.
import { launch } from './launch.js';
await launch('process');
