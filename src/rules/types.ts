// The rule-pack interface: what a pack (built-in, JavaScript module or JSON file) gives
// `process`. The built-in user-management pack is written against exactly this interface.
import type { EventType, JsonObject } from '../event/event.js';

/** A directory entry as rules see it: fields already parsed once, with the raw record beside them. */
export interface DirectoryEntry {
  /** The directory email as given (null when absent). */
  email: string | null;
  /** Lower-cased, trimmed email (null when absent or not an address): the key for comparisons and duplicate detection. */
  emailKey: string | null;
  /** "First Last", or "Unknown" when the entry has no usable name. */
  name: string;
  /** Lower-cased, whitespace-collapsed full name: the key for bad-claim lookups (null without a name). */
  nameKey: string | null;
  auth_email: string | null;
  authEmailKey: string | null;
  /** An integer; null when absent or malformed (see `problems`). */
  center_id: number | null;
  registry_id: string | null;
  /** null when absent; an empty array when the list is empty. */
  authorizations: Authorization[] | null;
  active: boolean;
  /** Why the entry is malformed (empty when it is well formed): "no email", "center_id is not an integer"… */
  problems: string[];
  raw: JsonObject;
}

/** A directory entry's permission on a study. */
export interface Authorization {
  study_id: string;
  activities: string[];
}

/** An e-mail address of a registry person, and whether it is verified. */
export interface RegistryEmail {
  mail: string;
  verified: boolean;
  type: string | null;
}

/** A person of the registry snapshot (the original job's RegistryPerson, reduced to what the checks read). */
export interface RegistryPerson {
  registry_id: string | null;
  name: string | null;
  emails: RegistryEmail[];
  /** Names of the org identities (identity providers), e.g. "ORCID". */
  org_identities: string[];
  claimed: boolean;
  creation_date: string | null;
}

/** The registry snapshot indexed once per run: every lookup is a Map get. */
export interface RegistryIndex {
  /** False when no --registry was given: registry rules then do not apply. */
  readonly loaded: boolean;
  readonly size: number;
  /** The snapshot file as it was read (fileStamp): null for no file, a pipe or a FIFO. */
  readonly stamp?: string | null;
  /** Persons having this email (any case). */
  byEmail(email: string | null): readonly RegistryPerson[];
  byRegistryId(id: string | null): RegistryPerson | undefined;
  /** Claimed persons without any email, found by full name (the original job's get_bad_claim). */
  badClaims(fullName: string | null): readonly RegistryPerson[];
}

/** What a rule reports; the engine turns it into a v1 event. */
export interface Finding {
  message: string;
  /** Defaults to the rule's category. */
  category?: string;
  /** Defaults to the rule's action_needed, then to the category's default action. */
  action_needed?: string | null;
  event_type?: EventType;
  details?: JsonObject;
  /** User fields to carry (log rules: what the message names); entries fill these themselves. */
  user?: Partial<{ email: string | null; name: string | null; center_id: number | null; registry_id: string | null; auth_email: string | null }>;
  /** Stop the following (non-`always`) entry rules of this pack, like a `return` in the original job's visit(). */
  stop?: boolean;
}

/** What a rule returns: findings, or nothing to report. */
export type RuleResult = Finding | Finding[] | null | undefined | false;

/** Per-entry context: the registry, lookups done once for this entry, and run-wide memory. */
export interface EntryContext {
  registry: RegistryIndex;
  /** Registry persons whose emails include the entry's auth_email. */
  persons: readonly RegistryPerson[];
  /** Those of `persons` that are claimed. */
  claimed: readonly RegistryPerson[];
  /** The claimed person the entry resolves to: by the entry's registry_id, else the first claimed person with one. */
  person: RegistryPerson | undefined;
  /** Remembers `key` under `namespace` for the run (an exact set kept off the JS heap, see key-memory.ts); returns where it was first seen, if it was. */
  remember(namespace: string, key: string): { file: string; line: number } | undefined;
  /** Position of the entry. */
  file: string;
  line: number;
}

/** What every rule declares: id, category and description. */
export interface RuleInfo {
  /** Stable id (kebab-case): used by --disable-rule, in event ids and in details.rule. */
  id: string;
  /** The category its events carry (display value). */
  category: string;
  description: string;
  /** Overrides the category's default action. */
  action_needed?: string;
}

/** A rule run on each directory entry. */
export interface EntryRule extends RuleInfo {
  on: 'entry';
  /** Runs even when an earlier rule stopped the flow (the original job's proactive checks 1b.x). */
  always?: boolean;
  /** Runs for inactive entries too (default: active entries only). */
  inactive?: boolean;
  check(entry: DirectoryEntry, ctx: EntryContext): RuleResult;
}

/** A parsed log line: the prefix (timestamp, level, logger) split from the message. */
export interface LogLine {
  text: string;
  message: string;
  level: string | null;
  logger: string | null;
  /** ISO time from the prefix, or null when the line has none. */
  timestamp: string | null;
}

/** What a log rule may consult. */
export interface LogRuleContext {
  registry: RegistryIndex;
}

/** A rule matched against each log line's message. */
export interface LogRule extends RuleInfo {
  on: 'log';
  /** Tested against the message (prefix removed). Named groups email, name, registry_id, auth_email, center_id fill user_context; others go to details. */
  pattern: RegExp;
  event_type?: EventType;
  /** Refines the finding from the match (e.g. a Flywheel error's text decides the category). */
  classify?(match: RegExpExecArray, line: LogLine, ctx: LogRuleContext): RuleResult;
}

/** An entry rule or a log rule. */
export type Rule = EntryRule | LogRule;

/** What an entry without errors yields: one success event. */
export interface SuccessInfo {
  message: string;
  details?: JsonObject;
}

/** A named set of rules and the categories they may use (built in, or a user's --rules file). */
export interface RulePack {
  name: string;
  description: string;
  /** Categories the pack adds beyond the built-in ones, with their default action. */
  categories?: Record<string, string | null>;
  /** Category of the one success event of an entry without errors (default "User Successfully Created"). */
  success_category?: string;
  /** Message and details of that success event. */
  success?(entry: DirectoryEntry, ctx: EntryContext): SuccessInfo;
  rules: Rule[];
}
