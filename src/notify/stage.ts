// notify's pure core: summaries (or events, summarized here) in, one message per summary
// composed (compose.ts) and delivered (deliver.ts), one `notification` record per message out.
import { isEvent, type JsonObject } from '../event/event.js';
import { Completeness } from '../stream/run-record.js';
import { runStageOver, type Emit, type Stage } from '../stream/stage.js';
import { createSummaryBuilder } from '../summary/summary.js';
import { composeMessage } from './compose.js';
import { deliverMessage } from './deliver.js';
import { DEFAULT_MAX_SUMMARIES, toExportRef, type ExportRef } from './message.js';
import type { NotificationRecord, NotifyOptions } from './options.js';
import { CreatedUsers } from './success.js';

/** The notify stage with the counts --strict turns into exit 1. */
export type NotifyStage = Stage & { failed: number; missingAttachments: number; noRecipients: number; incomplete: number };

async function notifyOne(
  summary: JsonObject,
  looseExports: ExportRef[],
  ownReasons: string[],
  ownSkipped: string[],
  opts: NotifyOptions,
  announce: () => void,
): Promise<{ record: NotificationRecord; missingAttachments: number }> {
  const composed = await composeMessage(summary, looseExports, ownReasons, opts, ownSkipped);
  return { record: await deliverMessage(composed, summary, opts, announce), missingAttachments: composed.missingAttachments };
}

/** The pure core: consumes summaries, events and export records; passes other kinds through; delivers at the end. */
export function createNotifyStage(opts: NotifyOptions): NotifyStage {
  const summaries: JsonObject[] = [];
  const looseExports: ExportRef[] = [];
  const builder = createSummaryBuilder({ job: opts.job ?? null, maxSummaries: Math.max(opts.maxSummaries ?? DEFAULT_MAX_SUMMARIES, DEFAULT_MAX_SUMMARIES) });
  const filter = opts.filter ?? null;
  // notify's own check of its input: a summary's producer (analyze) killed, or a failed export beside it.
  const runs = new Completeness();
  const createdUsers = new CreatedUsers();
  const stage = {
    /** Deliveries that failed after their retries (with --strict: exit 1). */
    failed: 0,
    /** Messages skipped for want of recipients (with --strict: exit 1). */
    noRecipients: 0,
    /** Messages that said the run was incomplete (with --strict: exit 1). */
    incomplete: 0,
    /** --attach/--attach-exports paths that were missing or unreadable (with --strict: exit 1). */
    missingAttachments: 0,
    push(item: { value: JsonObject }, emit: Emit) {
      const rec = item.value;
      if (opts.successes) {
        // The success notification is made from events; other records go on.
        if (isEvent(rec)) {
          if (filter === null || filter(rec)) {
            createdUsers.add(rec);
            builder.add(rec);
          }
        } else {
          runs.observe(rec);
          emit(rec);
        }
        return;
      }
      if (rec.kind === 'summary') summaries.push(rec);
      else if (rec.kind === 'export') {
        runs.observe(rec);
        const ref = toExportRef(rec);
        if (ref) looseExports.push(ref);
        builder.addExport(rec);
      } else if (isEvent(rec)) {
        if (filter === null || filter(rec)) builder.add(rec);
        else builder.addFiltered();
      } else {
        if (runs.observe(rec)) builder.completeness.observe(rec);
        emit(rec);
      }
    },
    async end(emit: Emit) {
      if (opts.successes) {
        const stand = { job: builder.job, error_count: 0 } as JsonObject;
        const { record: rec } = await notifyOne(stand, [], [], [], { ...opts, createdUsers: createdUsers.list() }, () => opts.beforeFirstDelivery?.());
        if (rec.status === 'failed') stage.failed++;
        if (rec.status === 'skipped' && rec.reason === 'no recipients') stage.noRecipients++;
        emit(rec);
        return;
      }
      const list = summaries.length ? summaries : [builder.build() as unknown as JsonObject];
      let announced = false;
      for (const summary of list) {
        const { record: rec, missingAttachments } = await notifyOne(summary, looseExports, runs.incompleteReasons(), runs.skippedLines(), opts, () => {
          if (!announced) opts.beforeFirstDelivery?.();
          announced = true;
        });
        if (rec.status === 'failed') stage.failed++;
        if (rec.status === 'skipped' && rec.reason === 'no recipients') stage.noRecipients++;
        if (!rec.complete) stage.incomplete++;
        stage.missingAttachments += missingAttachments;
        emit(rec);
      }
    },
  };
  return stage;
}

/** Library form: records in, pass-through records and `notification` records out. */
export function notifyRecords(source: Iterable<JsonObject> | AsyncIterable<JsonObject>, opts: NotifyOptions) {
  return runStageOver(createNotifyStage(opts), source);
}
