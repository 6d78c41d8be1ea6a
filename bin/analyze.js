#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=50
// Node flags (measured in BENCHMARKS.md): a 4 MB young generation and a 50 % heap growth step keep a
// streaming run's peak RSS flat (1,000,000 events: 70 MB, as with --optimize-for-size) at full speed
// (--optimize-for-size took twice the CPU).
import { main } from '../dist/core/cli.js';
import command from '../dist/commands/analyze.js';
await main(command);
