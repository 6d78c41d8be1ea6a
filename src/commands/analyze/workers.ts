// analyze --jobs: the stage driven by the --jobs reader (docs/parallel.md).
import { parseJson } from '../../stream/exact-number.js';
import type { ToolContext } from '../../cli/run.js';
import type { Emit, Stage } from '../../stream/stage.js';
import type { JsonObject } from '../../event/event.js';
import { isWorkerBatch, parallelRecords } from '../../parallel/records.js';
import type { AnalyzeBlock, AnalyzeFinal, AnalyzeTaskConfig } from '../../parallel/tasks/analyze.js';
import type { AnalyzeStage } from './stage.js';

/**
 * runStage with --jobs: events are summarized in worker threads (each keeps its own states,
 * merged here at the end); records of other kinds come back in input order and go through the
 * stage as in one thread; blocks parsed here (a small input, the first blocks) go through it whole.
 */
export async function runWithWorkers(ctx: ToolContext, sink: Stage, stage: AnalyzeStage, jobs: number, config: AnalyzeTaskConfig): Promise<void> {
  const batches = parallelRecords<AnalyzeBlock>(ctx, {
    task: 'analyze',
    jobs,
    config: () => config,
    onFinal: (finals) => {
      for (const f of finals) if (f) stage.mergeWorker(f as AnalyzeFinal);
    },
  });
  const emit: Emit = (rec) => ctx.out.write(rec);
  for await (const input of batches) {
    if (isWorkerBatch(input)) {
      for (const o of input.result.others) sink.push({ value: parseJson(o.text) as JsonObject, file: o.file, line: o.line }, emit);
      ctx.filterStats.noTimestamp += input.result.noTimestamp;
    } else for (let i = 0; i < input.length; i++) sink.push(input[i]!, emit);
    ctx.progress.tick(isWorkerBatch(input) ? input.records : input.length);
    await ctx.out.flush();
    if (ctx.stop.stopped || ctx.out.closed) return;
  }
  await sink.end(emit);
}
