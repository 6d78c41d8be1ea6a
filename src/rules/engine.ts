// Runs rule packs over directory entries and log lines and builds v1 events. Everything
// per run (enabled rules, category table, registry index, duplicate memory) is set up once;
// per record it is a loop over plain functions and a few Map lookups.
import { isExactNumber } from '../stream/exact-number.js';
import {
  CATEGORIES,
  defaultAction,
  eventIdOfKey,
  idKeyPart,
  setOwn,
  SUCCESS_CATEGORY,
  UNKNOWN_CATEGORY,
  type Event,
  type EventType,
  type JsonObject,
  type JsonValue,
  type UserContext,
} from '../event/event.js';
import { ENGINE_EVENT } from '../event/event-json.js';
import { centerId, optionalString } from '../event/normalize.js';
import type { Emit } from '../stream/stage.js';
import type { Item, TextLine } from '../stream/ndjson-reader.js';
import { parseEntry } from './entry.js';
import { RunKeys, type Remember } from './run-keys.js';
import { parseLogLine } from './log-line.js';
import { NO_REGISTRY, primaryEmail } from './registry.js';
import type { DirectoryEntry, EntryContext, EntryRule, Finding, LogRule, RegistryIndex, RegistryPerson, RuleResult, RulePack } from './types.js';

/** The packs to run, rules to skip, the registry and the clock. */
export interface EngineOptions {
  packs: RulePack[];
  /** Rule ids to skip (--disable-rule). */
  disabled?: Iterable<string>;
  registry?: RegistryIndex;
  job?: string | null;
  /** Timestamp of events that have no time of their own (entries, unprefixed log lines). */
  now: string;
  /** The run's duplicate memory (default: the engine's own RunKeys); process --jobs passes its own. */
  remember?: Remember;
}

/** What the engine saw: entries, log lines and findings, for the run record. */
export interface EngineStats {
  entries: number;
  logLines: number;
  /** Log lines that matched no rule and were not ERROR/CRITICAL: counted, not emitted. */
  unmatchedLines: number;
  errors: number;
  successes: number;
}

/** Id of the engine's own rules, so every event names the rule behind it. */
export const SUCCESS_RULE = 'success';
/** Id of the engine's rule for a log error no pack recognised. */
export const UNKNOWN_LOG_RULE = 'unknown-log-error';

/** Runs the packs over directory entries and log lines, emitting one event per finding. */
export interface RuleEngine {
  entry(item: Item, emit: Emit): void;
  entryValue(entry: DirectoryEntry, file: string, line: number, emit: Emit): void;
  log(line: TextLine, emit: Emit): void;
  readonly stats: EngineStats;
  readonly categories: ReadonlySet<string>;
}

interface PackPlan {
  pack: RulePack;
  entryRules: EntryRule[];
}

const NONE: readonly RegistryPerson[] = Object.freeze([]);
const USER_GROUPS = new Set(['email', 'name', 'registry_id', 'auth_email', 'center_id']);
/** The directory entry fields parseEntry reads; every other field of an entry is carried into its events' details. */
const ENTRY_FIELDS = new Set(['email', 'name', 'first_name', 'last_name', 'auth_email', 'center_id', 'adcid', 'registry_id', 'authorizations', 'active']);


/** The fields of an entry that no rule reads (null when there are none, the common case). */
function extraFields(raw: JsonObject): JsonObject | null {
  let extra: JsonObject | null = null;
  for (const k in raw) {
    if (ENTRY_FIELDS.has(k) || raw[k] === undefined) continue;
    setOwn((extra ??= {}), k, raw[k]!);
  }
  return extra;
}

// Most checks find nothing: one shared empty list instead of an array per rule per entry.
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

function findings(res: RuleResult): readonly Finding[] {
  if (!res) return NO_FINDINGS;
  return Array.isArray(res) ? res : [res];
}

/** Throws when two packs define the same rule id or a rule's category is unknown to every pack. */
export function createRuleEngine(opts: EngineOptions): RuleEngine {
  const disabled = new Set(opts.disabled ?? []);
  const registry = opts.registry ?? NO_REGISTRY;
  const job = opts.job ?? null;
  const now = opts.now;
  const actions = new Map<string, string | null>();
  for (const c of CATEGORIES) actions.set(c, defaultAction(c));
  for (const p of opts.packs) for (const [c, a] of Object.entries(p.categories ?? {})) actions.set(c, a ?? null);
  const categories = new Set(actions.keys());

  const plans: PackPlan[] = [];
  const logRules: LogRule[] = [];
  for (const pack of opts.packs) {
    const entryRules: EntryRule[] = [];
    for (const r of pack.rules) {
      if (disabled.has(r.id)) continue;
      if (r.on === 'entry') entryRules.push(r);
      else logRules.push(r);
    }
    plans.push({ pack, entryRules });
  }
  const successPack = opts.packs.find((p) => p.success_category || p.success);
  const successCategory = successPack?.success_category ?? SUCCESS_CATEGORY;
  categories.add(successCategory);

  const stats: EngineStats = { entries: 0, logLines: 0, unmatchedLines: 0, errors: 0, successes: 0 };

  // Duplicate memory: every key of the run, compactly, with where it was first seen (run-keys.ts).
  const runRemember = opts.remember ?? new RunKeys().remember;
  const remember = (namespace: string, key: string) => runRemember(namespace, key, ctx.file, ctx.line);

  // stableEventId(job, file, line, rule, n) with the job and file joined once per file.
  let idFile: string | null | undefined;
  let idPrefix = '';
  const eventId = (file: string | null, line: number | null, ruleId: string, n: number): string => {
    if (file !== idFile) {
      idFile = file;
      idPrefix = idKeyPart(job) + '\u0000' + idKeyPart(file) + '\u0000';
    }
    return eventIdOfKey(idPrefix + idKeyPart(line) + '\u0000' + idKeyPart(ruleId) + '\u0000' + n);
  };

  const ctx: EntryContext = { registry, persons: NONE, claimed: NONE, person: undefined, remember, file: '', line: 0 };

  function build(
    ruleId: string,
    n: number,
    f: Finding,
    ruleCategory: string,
    ruleAction: string | undefined,
    eventType: EventType,
    user: UserContext,
    timestamp: string,
    file: string | null,
    line: number | null,
    /** f.details is the event's own, already starting with `rule` (the success event): used as it is. */
    ownDetails = false,
    /** The entry's fields no rule reads (extraFields), or null. */
    extra: JsonObject | null = null,
  ): JsonObject {
    let category = f.category ?? ruleCategory;
    let details: JsonObject;
    if (ownDetails) details = f.details!;
    else {
      details = { rule: ruleId };
      if (f.details) for (const k in f.details) details[k] = f.details[k]!;
    }
    if (extra !== null) {
      // The user's own fields survive (numbers with their text); a rule's detail of the same name
      // wins, and the entry's value is then kept under details.entry.
      for (const k in extra) {
        if (!Object.hasOwn(details, k)) setOwn(details, k, extra[k]!);
        else setOwn((details.entry ??= {}) as JsonObject, k, extra[k]!);
      }
    }
    if (!categories.has(category)) {
      details.original_category = category;
      category = UNKNOWN_CATEGORY;
    }
    if (f.event_type === 'success' && category === UNKNOWN_CATEGORY) category = successCategory;
    const action =
      eventType === 'success' ? null : f.action_needed !== undefined ? f.action_needed : (ruleAction ?? actions.get(category) ?? null);
    // Marked, so that process's writer knows its shape (event-json.ts); the mark is never output.
    const ev: Event & { [ENGINE_EVENT]: true } = {
      event_id: eventId(file, line, ruleId, n),
      timestamp,
      event_type: eventType,
      category,
      message: f.message,
      action_needed: action,
      user_context: user,
      details,
      source: { job, file, line },
      [ENGINE_EVENT]: true,
    };
    if (eventType === 'error') stats.errors++;
    else stats.successes++;
    return ev as unknown as JsonObject;
  }

  function entryValue(entry: DirectoryEntry, file: string, line: number, emit: Emit): void {
    stats.entries++;
    const persons = registry.loaded && entry.authEmailKey !== null ? registry.byEmail(entry.authEmailKey) : NONE;
    let claimed: readonly RegistryPerson[] = NONE;
    if (persons.length) {
      const c = persons.filter((p) => p.claimed);
      if (c.length) claimed = c;
    }
    let person: RegistryPerson | undefined;
    if (entry.registry_id !== null) {
      person = registry.byRegistryId(entry.registry_id);
      if (person && !person.claimed) person = undefined;
    }
    if (!person) for (const p of claimed) if (p.registry_id !== null) { person = p; break; }
    ctx.persons = persons;
    ctx.claimed = claimed;
    ctx.person = person;
    ctx.file = file;
    ctx.line = line;

    const user: UserContext = {
      email: entry.email,
      name: entry.name,
      center_id: entry.center_id,
      registry_id: entry.registry_id ?? person?.registry_id ?? null,
      auth_email: entry.auth_email,
    };
    const extra = extraFields(entry.raw);
    let errors = 0;
    for (let pi = 0; pi < plans.length; pi++) {
      const rules = plans[pi]!.entryRules;
      let stopped = false;
      for (let ri = 0; ri < rules.length; ri++) {
        const rule = rules[ri]!;
        if (!entry.active && !rule.inactive) continue;
        if (stopped && !rule.always) continue;
        const fs = findings(rule.check(entry, ctx));
        for (let k = 0; k < fs.length; k++) {
          const f = fs[k]!;
          const type = f.event_type ?? 'error';
          if (type === 'error') errors++;
          emit(build(rule.id, k, f, rule.category, rule.action_needed, type, user, now, file, line, false, extra));
          if (f.stop) stopped = true;
        }
      }
    }
    if (errors === 0) {
      const s = successPack?.success?.(entry, ctx) ?? { message: 'Entry passed every check' };
      // The event's details built once, in their order (rule, the pack's, authorizations), not
      // copied twice: the success event is ~95 % of a directory run's output.
      const details: JsonObject = { rule: SUCCESS_RULE };
      if (s.details) for (const k in s.details) details[k] = s.details[k]!;
      // A success carries (docs/rules.md) what the entry grants (studies and their
      // activities). parseEntry built these objects for this entry alone, so they are not copied.
      if (details.authorizations === undefined && entry.authorizations !== null) {
        details.authorizations = entry.authorizations as unknown as JsonObject[];
      }
      emit(build(SUCCESS_RULE, 0, { message: s.message, details }, successCategory, undefined, 'success', user, now, file, line, true, extra));
    }
  }

  function logEvent(tl: TextLine, emit: Emit): void {
    if (tl.text.trim() === '') return;
    stats.logLines++;
    const parsed = parseLogLine(tl.text);
    const timestamp = parsed.timestamp ?? now;
    for (let i = 0; i < logRules.length; i++) {
      const rule = logRules[i]!;
      const m = rule.pattern.exec(parsed.message);
      if (!m) continue;
      const groups = m.groups ?? {};
      const fromLog: JsonObject = { log_message: parsed.message };
      if (parsed.level) fromLog.level = parsed.level;
      if (parsed.logger) fromLog.logger = parsed.logger;
      for (const k in groups) if (!USER_GROUPS.has(k) && groups[k] !== undefined) fromLog[k] = groups[k]!;
      const res = rule.classify ? findings(rule.classify(m, parsed, { registry })) : [{ message: parsed.message } as Finding];
      for (let k = 0; k < res.length; k++) {
        const f = res[k]!;
        const u = f.user ?? {};
        const name = optionalString(u.name ?? groups.name);
        const cid = u.center_id !== undefined ? u.center_id : centerId(groups.center_id);
        const user: UserContext = {
          email: optionalString(u.email ?? groups.email),
          name: name ?? 'Unknown',
          center_id: typeof cid === 'number' || isExactNumber(cid) ? (cid as number) : null,
          registry_id: optionalString(u.registry_id ?? groups.registry_id),
          auth_email: optionalString(u.auth_email ?? groups.auth_email),
        };
        if (registry.loaded && user.registry_id !== null && (user.email === null || user.name === 'Unknown')) {
          // A message naming only a registry ID: the snapshot supplies who that is.
          const p = registry.byRegistryId(user.registry_id);
          if (p) {
            user.email ??= primaryEmail(p);
            if (user.name === 'Unknown' && p.name) user.name = p.name;
          }
        }
        const merged: Finding = { ...f, details: { ...fromLog, ...(f.details ?? {}) } };
        const type = f.event_type ?? rule.event_type ?? 'error';
        emit(build(rule.id, k, merged, rule.category, rule.action_needed, type, user, timestamp, tl.file, tl.line));
      }
      return;
    }
    if (parsed.level === 'ERROR' || parsed.level === 'CRITICAL') {
      const details: { [k: string]: JsonValue } = { raw: tl.text, level: parsed.level };
      if (parsed.logger) details.logger = parsed.logger;
      const user: UserContext = { email: null, name: 'Unknown', center_id: null, registry_id: null, auth_email: null };
      emit(build(UNKNOWN_LOG_RULE, 0, { message: parsed.message, details, category: UNKNOWN_CATEGORY }, UNKNOWN_CATEGORY, undefined, 'error', user, timestamp, tl.file, tl.line));
      return;
    }
    stats.unmatchedLines++;
  }

  return {
    entry(item, emit) {
      entryValue(parseEntry(item.value), item.file, item.line, emit);
    },
    entryValue,
    log: logEvent,
    stats,
    categories,
  };
}
