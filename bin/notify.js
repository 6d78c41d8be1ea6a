#!/usr/bin/env -S node --optimize-for-size
import { main } from '../dist/core/cli.js';
import command from '../dist/commands/notify.js';
await main(command);
