#!/usr/bin/env node
import { main } from '../dist/core/cli.js';
import command from '../dist/commands/export-csv.js';
await main(command);
