// export-csv: events (or any records) in, CSV out on stdout or to files written atomically,
// with the defaults of docs/csv.md and safe cells (formula neutralisation, redaction) unless told
// not to. The flags are read in options.ts, the outputs kept in targets.ts; this file is the run.
import { stat } from 'node:fs/promises';
import { resolve, basename } from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { defineCommand } from '../../cli/run.js';
import { ColumnCollision, type RowBuilder } from '../../csv/write/row-builder.js';
import { createRowBuilder, type ExportOptions } from '../../csv/write/output.js';
import { checkTemplatePrivacy } from '../../csv/write/file-names.js';
import { EVENT_COLUMNS } from '../../csv/write/flatten.js';
import { isEvent, type JsonObject } from '../../event/event.js';
import { describeError, UsageError, EXIT_FAILURE } from '../../cli/errors.js';
import { backupFile } from '../../durable/backup.js';
import { checkPrivacyLevel, loadPrivacyPolicy } from '../../redact/privacy.js';
import { appendAuditRecord, auditArgv, checkAuditLog, exportedBy } from '../../durable/audit-log.js';
import { stringifyExact, parseJson } from '../../stream/exact-number.js';
import type { Item } from '../../stream/ndjson-reader.js';
import { jobsOption } from '../../parallel/jobs.js';
import { isWorkerBatch, parallelRecords } from '../../parallel/records.js';
import type { ExportBlock, ExportTaskConfig } from '../../parallel/tasks/export-csv.js';
import { PASS_KINDS, checkNamesUpFront, exportArgs, isPassThroughKind, planExport, unknownKeys, unknownNames, type ExportContext, type ExportPlan } from './options.js';
import { ExportTargets, ledgerColumns, type FileTarget } from './targets.js';

const NO_ITEMS: Item[] = [];

/** --privacy-policy/--privacy-level: sets opts.privacy, and checks that no file name carries a field above the level. */
async function setUpPrivacy(ctx: ExportContext, plan: ExportPlan): Promise<void> {
  const { opts } = plan;
  const policyFile = ctx.args['privacy-policy'];
  const levelArg = ctx.args['privacy-level'];
  if (levelArg !== undefined && policyFile === undefined) throw new UsageError('--privacy-level needs --privacy-policy FILE');
  if (policyFile === undefined) return;
  const policy = await loadPrivacyPolicy(policyFile);
  const level = levelArg === undefined ? policy.levels[0]! : checkPrivacyLevel(policy, levelArg);
  const asked = new Set(opts.columns ?? []);
  opts.privacy = {
    policy,
    level,
    onColumn: (column, d) => {
      const why = `column ${column} is ${d.level} (${d.rule ? `"${d.rule}"` : 'the policy default'}), above --privacy-level ${level}: ${d.access === 'drop' ? 'left out' : 'redacted'}`;
      if (d.access === 'drop' && asked.has(column)) ctx.log.warn(why);
      else ctx.log.debug(why);
    },
  };
  if (plan.template) checkTemplatePrivacy(plan.output!, plan.splitBy, opts.privacy);
}

/** What the audit log records of every export beside the export record itself. */
function auditFields(ctx: ExportContext, opts: ExportOptions): JsonObject {
  // The audit names the exemptions: --keep-key patterns are a partial "off" that must leave a trace.
  const keep = opts.policy!.keepKeys ?? [];
  const policyFile = ctx.args['privacy-policy'];
  return {
    by: { ...exportedBy() },
    privacy_level: opts.privacy?.level ?? null,
    privacy_policy: policyFile !== undefined ? resolve(policyFile) : null,
    redaction: !opts.policy!.redact ? 'off' : keep.length ? keep.map((r) => r.source) : 'on',
    argv: auditArgv(ctx.tool, ctx.argv, opts.policy!.redact),
  };
}

export default defineCommand({
  meta: { name: 'export-csv', description: 'Write events (or any records) as CSV: the event columns by default, formula-safe and redacted; stdout or -o FILE (atomic)' },
  args: exportArgs,
  examples: [
    { text: 'Error events to a CSV file, written atomically', command: 'process ev.ndjson | export-csv --type error -o errors.csv' },
    { text: 'One file per category', command: "export-csv --split-by category -o 'out/{value}.csv' events.ndjson" },
    { text: 'A status ledger updated in place by event id', command: 'export-csv --upsert event_id -o ledger.csv events.ndjson' },
  ],
  seeAlso: 'Durability and ledgers: docs/durability.md; CSV options: docs/csv.md.',
  csvHint: 'it is already CSV; to read it as records use import-csv',
  // With -o, stdout carries the export record (and --pass-through's records); without, the CSV.
  writesRecords: (args) => args.output !== undefined && args.output !== '-',
  async run(ctx) {
    const plan = planExport(ctx);
    const { opts, toStdout, ledger, lockTimeoutMs } = plan;
    const fmt = opts.format!;
    const filter = ctx.filter;
    const runStartedAt = new Date().toISOString();
    await setUpPrivacy(ctx, plan);
    const audit = auditFields(ctx, opts);
    const auditLog = ctx.args['audit-log'];
    if (auditLog !== undefined) await checkAuditLog(auditLog);
    const stdoutHash: Hash | null = auditLog !== undefined && toStdout ? createHash('sha256') : null;
    let auditFailed = false;
    /** One export record: to the audit log (when asked), then to stdout (unless the CSV is there). */
    const emitExport = async (rec: JsonObject): Promise<void> => {
      const full: JsonObject = { ...rec, ...audit };
      if (auditLog !== undefined) {
        auditFailed = true;
        await appendAuditRecord(auditLog, full, { lockTimeoutMs, onWait: () => ctx.log.info(`waiting for the lock on ${auditLog}`) });
        auditFailed = false;
      }
      if (!toStdout) {
        ctx.out.write(full);
        await ctx.out.flush();
      }
    };

    const targets = new ExportTargets(plan, ctx, stdoutHash);
    const touched = new Set<FileTarget>();
    let builder: RowBuilder | null = null;
    let knownColumns: Set<string> | null = null;

    /** At the first data record: the columns, from the flags, the ledger's file or the record. */
    const chooseColumns = async (first: JsonObject): Promise<RowBuilder> => {
      if (ledger) ({ builder, known: knownColumns } = await ledgerColumns(plan, first));
      else builder = createRowBuilder(first, opts);
      checkNamesUpFront(builder!, opts);
      return builder!;
    };
    /** Adds one data record's row to its target, or reports it as a bad line. Synchronous: it runs per record. */
    const addRecord = (item: Item, builder: RowBuilder): void => {
      const rec = item.value;
      if (knownColumns && !isEvent(rec)) {
        const unknown = unknownKeys(rec, knownColumns);
        if (unknown.length) {
          const what = unknown.length === 1 ? 'is not a column' : 'are not columns';
          ctx.policy.add({ file: item.file, line: item.line, error: `${unknown.join(', ')} ${what} of ${plan.output} (columns: ${builder.columns.join(', ')})`, raw: stringifyExact(rec) });
          return;
        }
      }
      let cells: string[];
      try {
        cells = builder.build(rec);
      } catch (err) {
        if (!(err instanceof ColumnCollision)) throw err;
        ctx.policy.add({ file: item.file, line: item.line, error: err.message, raw: stringifyExact(rec) });
        return;
      }
      const t = targets.for(rec, builder);
      if (ledger?.mode === 'upsert' && !ledger.replaceRows) {
        const present = builder.present(rec);
        t.queue.push(cells.map((c, k) => (present[k] ? c : undefined)));
      } else if (ledger) t.queue.push(cells.slice());
      else if (t.failed === null) t.output.add(cells);
      const type = rec.event_type === 'error' || rec.event_type === 'success' ? rec.event_type : 'other';
      t.rowsByType[type] = (t.rowsByType[type] ?? 0) + 1;
      touched.add(t);
    };

    // --jobs: rows of one plain output (no ledger, template, pass-through or privacy policy) are
    // encoded in worker threads once the columns are fixed (docs/parallel.md).
    const jobs = jobsOption(ctx.args.jobs);
    const workerConfig = (): ExportTaskConfig | null =>
      builder?.fixed && !knownColumns
        ? { columns: opts.columns ?? [...EVENT_COLUMNS], exclude: opts.exclude, policy: opts.policy!, format: fmt, filter: ctx.filterSpec, passKinds: [...PASS_KINDS], forwardKinds: !toStdout }
        : null;
    const batches = jobs > 1 && !ledger && !plan.template && !plan.passThrough && !opts.privacy
      ? parallelRecords<ExportBlock>(ctx, { task: 'export-csv', jobs, config: workerConfig })
      : ctx.records();

    try {
      for await (const input of batches) {
        const batch = isWorkerBatch(input) ? NO_ITEMS : input;
        if (isWorkerBatch(input)) {
          const r = input.result;
          for (const text of r.forward) ctx.out.write(parseJson(text));
          ctx.filterStats.noTimestamp += r.noTimestamp;
          if (r.rows > 0) {
            const t = targets.for(null, builder!);
            if (t.failed === null) t.output.addEncoded(r.csv, r.rows);
            for (const [type, n] of Object.entries(r.rowsByType)) t.rowsByType[type] = (t.rowsByType[type] ?? 0) + n;
            touched.add(t);
          }
        }
        for (const item of batch) {
          const rec = item.value;
          if (plan.passThrough) ctx.out.write(rec);
          if (isPassThroughKind(rec)) {
            if (!toStdout && !plan.passThrough) ctx.out.write(rec);
            continue;
          }
          if (filter !== null && !filter(rec)) continue;
          addRecord(item, builder ?? (await chooseColumns(rec)));
        }
        for (const t of touched) {
          if (ledger) await targets.flushLedger(t);
          else await targets.guard(t, () => t.output.flush());
        }
        touched.clear();
        await ctx.out.flush();
        ctx.progress.tick(isWorkerBatch(input) ? input.records : batch.length);
        if (ctx.stop.stopped || ctx.out.closed) return;
      }

      if (!builder) {
        builder = createRowBuilder(null, opts);
        checkNamesUpFront(builder, opts);
      }
      if (!builder.fixed) {
        const unknown = unknownNames(builder, opts);
        if (unknown.length) ctx.log.warn(`${unknown.join(', ')}: no such field in the input (columns: ${builder.columns.join(', ')})`);
      }
      if (ledger) {
        if (!plan.template) targets.for(null, builder);
        for (const t of targets.all()) {
          await targets.flushLedger(t);
          const res = await t.ledger!.close();
          t.ledger = null;
          const counts = { appended: res.appended, updated: res.updated, skipped: res.skipped };
          await emitExport(targets.record(t, { status: 'written', rows: res.rows, bytes: res.bytes, sha256: res.sha256, mode: ledger.mode, counts }));
        }
        return;
      }
      if (!plan.template && targets.empty) {
        // Zero rows: stdout gets the header; a file is written header-only unless that would
        // replace a non-empty file (then it is kept, unless --allow-empty).
        if (!toStdout && !plan.allowEmpty) {
          const size = await stat(plan.output!).then((s) => s.size, () => 0);
          if (size > 0) {
            ctx.log.warn(`no rows to export: kept the existing ${plan.output} (--allow-empty to replace it with a header-only file)`);
            return;
          }
        }
        targets.for(null, builder);
      }
      if (plan.template && targets.empty) ctx.log.warn('no rows to export: no file written');

      let failures = 0;
      for (const t of targets.all()) {
        await targets.guard(t, () => t.output.finish());
        if (stdoutHash) {
          // A CSV on stdout has no record there (stdout is the CSV); the audit log still gets one.
          await emitExport(targets.record(t, { status: 'written', rows: t.output.rows, bytes: t.output.bytes, sha256: stdoutHash.digest('hex'), mode: 'stdout', rowsByType: t.rowsByType }));
        }
        let committed: { bytes: number; sha256: string } | null = null;
        await targets.guard(t, async () => {
          if (!t.file) return;
          if (plan.keepBackups !== undefined) await backupFile(t.path, plan.keepBackups);
          committed = await t.file.commit();
          t.file = null;
        });
        if (t.failed !== null) {
          failures++;
          ctx.fail(t.failed);
          await emitExport(targets.record(t, { status: 'failed', error: t.failed, rows: 0, mode: 'replace' }));
          continue;
        }
        if (committed === null) continue;
        const { bytes, sha256 } = committed as { bytes: number; sha256: string };
        await emitExport(targets.record(t, { status: 'written', rows: t.output.rows, bytes, sha256, mode: 'replace', rowsByType: t.rowsByType }));
      }
      if (failures > 0) return EXIT_FAILURE;
    } catch (err) {
      // A failed export is audited too (with its status and error), unless the log itself failed.
      if (auditLog !== undefined && !auditFailed && !(err instanceof UsageError)) {
        const path = toStdout ? '-' : resolve(plan.output!);
        await appendAuditRecord(auditLog, {
          kind: 'export', status: 'failed', error: describeError(err), path, file: toStdout ? '-' : basename(path),
          started_at: runStartedAt, finished_at: new Date().toISOString(), filters: plan.filters, mode: ledger?.mode ?? (toStdout ? 'stdout' : 'replace'), ...audit,
        }, { lockTimeoutMs }).catch((e) => ctx.log.warn(`could not audit the failed export: ${describeError(e)}`));
      }
      throw err;
    } finally {
      await targets.dispose();
    }
  },
});
