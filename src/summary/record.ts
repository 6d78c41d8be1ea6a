// The summary record and its mergeable partial, field by field (docs/analyze.md). What the
// capped lists hold, and why a merge of partials is exact, is told once: atop summary.ts.
import type { RunCounts } from '../stream/run-record.js';
import type { JsonObject } from '../event/event.js';
import type { ErrorsOverTime } from './timeline.js';

/** What `analyze --by` groups events by. */
export type GroupBy = 'user' | 'category' | 'center';

/** The group a summary is about (`--by`); null when ungrouped. */
export interface SummaryGroup {
  by: GroupBy;
  value: string | null;
}

/** One error as a user's batch lists it. */
export interface BatchError {
  category: string;
  message: string;
  action_needed: string | null;
  event_id: string | null;
  timestamp: string | null;
}

/** One entry per user with all (up to the cap) of that user's errors. */
export interface UserBatch {
  email: string | null;
  name: string;
  center_id: number | null;
  error_count: number;
  errors: BatchError[];
  errors_omitted: number;
}

/** The input records, by what became of them. */
export interface SummaryInput {
  records: number;
  bad_lines: number;
  filtered_out: number;
  passed_through: number;
}

/** The caps a summary was built with (a merge adopts the smallest among its partials). */
export interface SummaryLimits {
  max_users: number;
  max_summaries: number;
  max_errors_per_user: number;
}

/** The `summary` record analyze writes and notify reads. */
export interface Summary {
  kind: 'summary';
  version: 1;
  job: string | null;
  group: SummaryGroup | null;
  generated_at: string;
  first_event_at: string | null;
  last_event_at: string | null;
  total_events: number;
  error_count: number;
  success_count: number;
  events_by_category: Record<string, number>;
  errors_by_category: Record<string, number>;
  errors_by_category_field: Record<string, number>;
  /** Every distinct action_needed of each category's errors, with its count (they sum to the category's error count). */
  actions_by_category: Record<string, Record<string, number>>;
  affected_users: string[];
  affected_user_count: number;
  affected_users_omitted: number;
  user_batches: UserBatch[];
  user_batches_omitted: number;
  summaries: string[];
  summaries_omitted: number;
  /** Error counts by time bucket (src/summary/timeline.ts): exact under --merge. */
  errors_over_time: ErrorsOverTime;
  input: SummaryInput;
  exports: JsonObject[];
  /** False when a producer of the input did not finish, a stage failed, or a CSV was not written. */
  complete: boolean;
  incomplete_reasons: string[];
  /** Upstream runs that completed but skipped malformed input lines, one sentence each (absent when none). */
  skipped_lines?: string[];
  limits: SummaryLimits;
}

/**
 * The mergeable state: a summary whose affected_users list is complete (exact distinct
 * counts need every key), plus every job seen. See docs/analyze.md.
 */
export interface SummaryPartial extends Omit<Summary, 'kind'> {
  kind: 'summary_partial';
  jobs: string[];
  /**
   * Started and ended runs per tool, from older partials only: run records always travel on as
   * records (every stage passes them through), and the final merge counts them where they land;
   * counting them inside partials too would count a record twice on one path and once on another.
   */
  runs: RunCounts;
}

/** The action key of an error event that names no action_needed (counted, so the actions of a category sum to its errors). */
export const NO_ACTION = '(none)';

// The default caps: big enough for a support person to act on, small enough that the record
// stays one readable line.
/** --max-users' default. */
export const DEFAULT_MAX_USERS = 1000;
/** --max-summaries' default. */
export const DEFAULT_MAX_SUMMARIES = 1000;
/** --max-errors-per-user's default. */
export const DEFAULT_MAX_ERRORS_PER_USER = 100;
