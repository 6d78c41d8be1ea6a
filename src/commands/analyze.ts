// analyze: events in, the run's summary out (one per group with --by), or partial states
// (--partial) that --merge combines into exactly the summary of one pass over all the input.
// The core is analyze/stage.ts; --compare's reader and the table are analyze/compare.ts; --jobs
// is analyze/workers.ts.
import { stringifyExact } from '../stream/exact-number.js';
import { commonArgs, defineCommand, filesArg, filterArgs } from '../cli/run.js';
import { runStage, type Emit, type Stage } from '../stream/stage.js';
import { EXIT_ERRORS_PRESENT, invalidOption } from '../cli/errors.js';
import { DEFAULT_MAX_ERRORS_PER_USER, DEFAULT_MAX_SUMMARIES, DEFAULT_MAX_USERS, type GroupBy, type Summary } from '../summary/summary.js';
import { openAtomic } from '../durable/atomic-file.js';
import type { JsonObject } from '../event/event.js';
import { jobsArg, jobsOption } from '../parallel/jobs.js';
import type { AnalyzeTaskConfig } from '../parallel/tasks/analyze.js';
import { createAnalyzeStage, type AnalyzeMode } from './analyze/stage.js';
import { readPreviousSummaries, renderTables } from './analyze/compare.js';
import { runWithWorkers } from './analyze/workers.js';

export { createAnalyzeStage, analyzeRecords, type AnalyzeMode, type AnalyzeOptions, type AnalyzeStage } from './analyze/stage.js';
export { readPreviousSummaries } from './analyze/compare.js';

function parseBy(v: string | undefined): GroupBy | null {
  if (v === undefined) return null;
  if (v === 'user' || v === 'category' || v === 'center') return v;
  throw invalidOption('by', 'must be one of user, category, center', v);
}

export default defineCommand({
  meta: { name: 'analyze', description: 'Summarize events: counts by category, affected users, per-user batches (NDJSON in, summary records out)' },
  args: {
    ...filesArg,
    by: { type: 'enum', options: ['user', 'category', 'center'], valueHint: 'user|category|center', description: 'One summary per group instead of one in all' },
    partial: { type: 'boolean', description: 'Write mergeable partial states (kind summary_partial) for --merge; with --merge, merge into one partial (a combiner)' },
    merge: { type: 'boolean', description: 'Combine partial states (and uncapped summaries) into the summary one run would give' },
    'fail-on-errors': { type: 'boolean', description: 'Exit 3 after writing the summary when any error event is present' },
    format: {
      type: 'enum',
      options: ['json', 'table', 'html'],
      valueHint: 'json|table|html',
      description: 'Output format: html is a self-contained report page (default: html for -o *.html, else table on a terminal, json otherwise)',
    },
    output: { type: 'string', alias: 'o', valueHint: 'FILE', description: 'Write the table or html report to FILE (atomically); stdout then carries the summary records as with json' },
    compare: { type: 'string', valueHint: 'FILE', description: "With --format html: the previous run's summary (NDJSON) to show per category what is new, resolved, still failing" },
    job: { type: 'string', valueHint: 'NAME', description: "Job name (default: the events' source.job)" },
    'max-users': { type: 'string', valueHint: 'N', description: `Users listed in affected_users and user_batches (default ${DEFAULT_MAX_USERS}; counts stay exact)` },
    'max-summaries': { type: 'string', valueHint: 'N', description: `One-line summaries listed (default ${DEFAULT_MAX_SUMMARIES}; counts stay exact)` },
    'max-errors-per-user': { type: 'string', valueHint: 'N', description: `Errors listed in each user batch (default ${DEFAULT_MAX_ERRORS_PER_USER})` },
    ...jobsArg,
    ...filterArgs,
    ...commonArgs,
  },
  examples: [
    { text: 'The summary of a run, as a table on a terminal', command: 'process events.ndjson | analyze --format table' },
    { text: 'One summary per category, errors only since 08:00 UTC', command: 'analyze --by category --type error --since 2026-11-20T08:00 ev.ndjson' },
    { text: 'Partial states per shard, merged into the summary of one pass', command: 'analyze --partial a.ndjson > a.part; analyze --partial b.ndjson > b.part; cat a.part b.part | analyze --merge' },
  ],
  seeAlso: 'The summary fields: docs/analyze.md in the package.',
  csvHint: 'turn it into events with process --from csv first',
  // A report drawn on stdout is for a person; JSON (also beside -o FILE) is a stage of a pipeline.
  writesRecords: (args) => {
    const output = args.output ?? null;
    const byExtension = output !== null && /\.html?$/i.test(output) ? 'html' : undefined;
    const format = args.format ?? byExtension ?? (process.stdout.isTTY && !args.partial && output === null ? 'table' : 'json');
    return format === 'json' || output !== null;
  },
  async run(ctx) {
    const mode: AnalyzeMode = ctx.args.merge ? (ctx.args.partial ? 'merge-partial' : 'merge') : ctx.args.partial ? 'partial' : 'summary';
    const output = ctx.args.output ?? null;
    const byExtension = output !== null && /\.html?$/i.test(output) ? 'html' : undefined;
    // Partials are for machines: JSON even on a terminal.
    const format = ctx.args.format ?? byExtension ?? (process.stdout.isTTY && !ctx.args.partial && output === null ? 'table' : 'json');
    if (format !== 'json' && ctx.args.partial) throw invalidOption('format', 'must be json with --partial', format);
    if (output !== null && format === 'json') throw invalidOption('output', 'writes a report: give --format html or table (the summary records go to stdout)', output);
    if (ctx.args.compare !== undefined && format !== 'html') throw invalidOption('compare', 'needs --format html', ctx.args.compare);
    const previous = ctx.args.compare !== undefined ? await readPreviousSummaries(ctx.args.compare) : null;
    const rendered = format !== 'json';
    // -o: the report goes to the file, and stdout carries what json would (the pipeline goes on).
    const toStdout = rendered && output === null;
    const built: Summary[] = [];
    const seen: Summary[] = [];
    const by = parseBy(ctx.args.by);
    const caps = { maxUsers: ctx.int('max-users'), maxSummaries: ctx.int('max-summaries'), maxErrorsPerUser: ctx.int('max-errors-per-user') };
    // Worker threads summarize events, not partials (a merge's input is small): docs/parallel.md.
    const jobs = jobsOption(ctx.args.jobs);
    const stage = createAnalyzeStage({
      mode,
      by,
      job: ctx.args.job ?? null,
      ...caps,
      filter: ctx.filter,
      badLines: () => ctx.policy.count,
      onInvalid: (item, reason) => ctx.policy.add({ file: item.file, line: item.line, error: reason, raw: stringifyExact(item.value) }),
      onWarning: (text) => ctx.log.warn(text),
      drain: () => ctx.out.flush(),
    });
    // Rendered: the summaries are kept; on stdout only the rendering is shown (no JSON).
    const keep = (list: Summary[], emit: Emit | null) => (rec: JsonObject) => {
      if (rec.kind === 'summary') list.push(rec as unknown as Summary);
      emit?.(rec);
    };
    const sink: Stage = rendered
      ? {
          push: (item, emit) => stage.push(item, keep(seen, toStdout ? null : emit)),
          end: (emit) => stage.end(keep(built, toStdout ? null : emit)),
        }
      : stage;
    if (jobs > 1 && (mode === 'summary' || mode === 'partial')) {
      const config: AnalyzeTaskConfig = {
        by,
        job: ctx.args.job ?? null,
        limits: {
          max_users: caps.maxUsers ?? DEFAULT_MAX_USERS,
          max_summaries: caps.maxSummaries ?? DEFAULT_MAX_SUMMARIES,
          max_errors_per_user: caps.maxErrorsPerUser ?? DEFAULT_MAX_ERRORS_PER_USER,
        },
        filter: ctx.filterSpec,
      };
      await runWithWorkers(ctx, sink, stage, jobs, config);
    } else await runStage(ctx, sink);
    if (rendered && !ctx.stop.stopped && !ctx.out.closed) {
      // A summary read in (analyze --format html < summary.json) is rendered as it is, when there were no events.
      const list = seen.length && built.every((s) => s.total_events === 0 && s.input.filtered_out === 0) ? seen : built;
      // Loaded here: the renderers (and the table's string-width) are not needed by a JSON run's start-up.
      const text =
        format === 'html'
          ? (await import('../summary/report-html.js')).renderHtmlReport(list as unknown as JsonObject[], { previous, previousLabel: ctx.args.compare })
          : await renderTables(list);
      if (output !== null) {
        const file = await openAtomic(output);
        try {
          await file.write(text);
          await file.commit();
        } catch (err) {
          await file.abort();
          throw err;
        }
        ctx.log.info(`${output}: ${format} report of ${list.length} ${list.length === 1 ? 'summary' : 'summaries'} written`);
      } else {
        await ctx.out.flush(true);
        // The progress line ends before the report, so it is drawn once and stays clean.
        ctx.progress.done();
        if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
      }
    }
    if (ctx.args['fail-on-errors'] && stage.errorCount > 0) return EXIT_ERRORS_PRESENT;
  },
});
