// --jobs N: how many worker threads a binary may use for a large input (docs/parallel.md).
import { availableParallelism } from 'node:os';
import { invalidOption } from '../cli/errors.js';
import type { ToolArgs } from '../cli/run.js';

/** More threads than this stop paying: the main thread's reading and writing is the limit. */
export const MAX_DEFAULT_JOBS = 8;

/** The --jobs flag (worker threads; default: the cores, at most MAX_DEFAULT_JOBS). */
export const jobsArg = {
  jobs: {
    type: 'string',
    valueHint: 'N',
    description: `Worker threads for a large input (default: the number of cores, at most ${MAX_DEFAULT_JOBS}); output is identical to --jobs 1, which uses none`,
  },
} satisfies ToolArgs;

/** --jobs for a command whose workers do not pay yet (process): the default stays one thread. */
export const jobsArgOne = {
  jobs: {
    type: 'string',
    valueHint: 'N',
    description: 'Worker threads for a large input (default 1: no worker); output is identical to --jobs 1',
  },
} satisfies ToolArgs;

/** --jobs as a number: the default is the core count, capped (or `fallback`, for a command whose workers do not pay yet). */
export function jobsOption(raw: string | boolean | undefined, fallback?: number): number {
  if (raw === undefined || raw === false) return fallback ?? Math.max(1, Math.min(MAX_DEFAULT_JOBS, availableParallelism()));
  const text = String(raw).trim();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 256) throw invalidOption('jobs', 'must be a whole number from 1 to 256', raw);
  return Number(text);
}
