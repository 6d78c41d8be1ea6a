// The library API: each command's pure core, and the shared pieces they are built from.
// The binaries are thin wrappers around these; a program can run the same stages in-process.
//
//   import { processRecords, analyzeRecords, toCsv } from 'batch-events';
//   const events = processRecords(entries, { job: 'user_management' });
//   for await (const summary of analyzeRecords(events)) console.log(summary);

// The event format (v1) and its categories.
export {
  CATEGORIES,
  ERROR_CATEGORIES,
  SUCCESS_CATEGORY,
  UNKNOWN_CATEGORY,
  defaultAction,
  isEvent,
  isKnownCategory,
  stableEventId,
  toFieldName,
  type ErrorCategory,
  type Event,
  type EventSource,
  type EventType,
  type JsonObject,
  type JsonValue,
  type UserContext,
} from './event/event.js';
export { normalizeEvent, InvalidEvent, type NormalizeContext } from './event/normalize.js';

// Streams: the NDJSON reader and writer, the shared filters, and stages.
export { readNdjson, readLines, sourcesFromArgs, DEFAULT_MAX_LINE_BYTES, type Item, type TextLine, type Source, type ReadOptions } from './stream/ndjson-reader.js';
export { NdjsonWriter } from './stream/ndjson-writer.js';
export { buildFilter, parseWhere, getPath, type FilterOptions, type Predicate } from './stream/filters.js';
export { collect, type Emit, type Stage } from './stream/stage.js';
export { EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_ERRORS_PRESENT, UsageError, DataError } from './cli/errors.js';

// process: records, CSV rows and log lines to events, through rule packs.
export { createProcessStage, createLogStage, processRecords, processLogLines, looksLikeEvent, type ProcessOptions } from './commands/process.js';
export { BUILTIN_PACKS, DEFAULT_PACK, loadPacks, checkPack, listRules } from './rules/loader.js';
export { userManagementPack } from './rules/user-management.js';
export { createRuleEngine, type RuleEngine, type EngineOptions } from './rules/engine.js';
export { loadRegistry, buildRegistryIndex, RegistryBuilder, NO_REGISTRY } from './rules/registry.js';
export type {
  DirectoryEntry,
  EntryContext,
  EntryRule,
  Finding,
  LogLine,
  LogRule,
  RegistryIndex,
  RegistryPerson,
  Rule,
  RulePack,
  RuleResult,
} from './rules/types.js';

// analyze: the run's summary, groups, and exact partial/merge.
export { createAnalyzeStage, analyzeRecords, type AnalyzeOptions, type AnalyzeMode } from './commands/analyze.js';
export {
  createSummaryBuilder,
  summarizeEvents,
  DEFAULT_MAX_USERS,
  DEFAULT_MAX_SUMMARIES,
  DEFAULT_MAX_ERRORS_PER_USER,
  type Summary,
  type SummaryPartial,
  type SummaryOptions,
  type GroupBy,
  type UserBatch,
  type BatchError,
} from './summary/summary.js';
export { renderSummaryTable, type TableOptions } from './summary/table.js';
export { renderHtmlReport, compareCategories, DEFAULT_REPORT_USERS, type HtmlReportOptions } from './summary/report-html.js';
export { escapeHtml } from './summary/report-text.js';
export { Timeline, TIMELINE_UNITS, TIMELINE_MAX_BUCKETS, type ErrorsOverTime, type TimelineUnit } from './summary/timeline.js';

// export-csv and import-csv: safe CSV out, CSV back in, durable files.
export { toCsv, createRowBuilder, CsvOutput, privacyColumnRule, type ExportOptions, type ByteSink, type PrivacyExport } from './csv/write/output.js';
export { safeFileComponent } from './csv/write/file-names.js';
export {
  parsePrivacyPolicy,
  loadPrivacyPolicy,
  checkPrivacyLevel,
  decideField,
  decideColumn,
  hasRulesBelow,
  ruleFor,
  applyPrivacy,
  DEFAULT_LEVELS,
  type PrivacyPolicy,
  type PrivacyRule,
  type PrivacyAction,
  type FieldAccess,
  type FieldDecision,
} from './redact/privacy.js';
export { appendAuditRecord, exportedBy, auditArgv, type ExportedBy } from './durable/audit-log.js';
export { importCsv, CsvRowParser, type ImportOptions } from './commands/import-csv.js';
export { openAtomic, type AtomicFile } from './durable/atomic-file.js';
export { openLedger, type Ledger, type LedgerOptions, type LedgerResult } from './durable/ledger/csv-ledger.js';

// notify: one consolidated message per summary, delivered with retries, never failing the job.
export { createNotifyStage, notifyRecords } from './notify/stage.js';
export type { NotifyOptions, NotificationRecord } from './notify/options.js';
export { renderMessage, renderSubject, fingerprint, DEFAULT_SUBJECT, type RenderOptions, type RenderedMessage } from './notify/message.js';
export { withRetry, classify, type RetryPolicy } from './notify/retry.js';
export { createTransportFor, maskVia, type Transport } from './notify/transports/index.js';
