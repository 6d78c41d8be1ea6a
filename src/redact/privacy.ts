// Field-level privacy (docs/privacy.md): a team states once, in a small JSON policy, which
// fields are public, internal, confidential or restricted, and exports at a level. Pure: text
// in, decisions out, so export-csv and the HTML report share one reading of a policy.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Node, ParseError } from 'jsonc-parser';
import { REDACTED } from './redact.js';
import { readFailureText, UsageError } from '../cli/errors.js';
import { setOwn, type JsonObject, type JsonValue } from '../event/event.js';
import { blankBom } from '../stream/bom.js';

/** The levels of a policy that names none, most open first. */
export const DEFAULT_LEVELS: readonly string[] = ['public', 'internal', 'confidential', 'restricted'];
/** The level of a field no rule of the policy names. */
export const DEFAULT_POLICY_LEVEL = 'internal';

/** What happens to a field above the requested level. */
export type PrivacyAction = 'drop' | 'redact';
/** What a field gets at the requested level: kept, dropped or redacted. */
export type FieldAccess = 'keep' | PrivacyAction;

/** One rule of a policy: a field pattern, its level and what to do above it. */
export interface PrivacyRule {
  /** The field path or pattern as written (`user_context.email`, `details.*`, `**.token`). */
  pattern: string;
  level: string;
  action: PrivacyAction;
  /** 1-based line of the entry in the policy file (for messages). */
  line: number;
  readonly segments: readonly string[];
  readonly wildcard: boolean;
}

/** A loaded --privacy-policy file (docs/privacy.md). */
export interface PrivacyPolicy {
  /** Where it came from, for messages. */
  file: string;
  /** Lowest (most open) first. */
  levels: readonly string[];
  /** The level of a field the policy does not mention. */
  defaultLevel: string;
  /** The action for a field whose entry names none, and for unmentioned fields. */
  defaultAction: PrivacyAction;
  rules: readonly PrivacyRule[];
}

/** How one field or column is exported at a level, and which entry decided it. */
export interface FieldDecision {
  access: FieldAccess;
  /** The field's level under the policy. */
  level: string;
  /** The entry that set the level, or null when the policy's default did. */
  rule: string | null;
}

// ---- reading a policy ---------------------------------------------------------------------

function lineCol(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${offset - lineStart + 1}`;
}

function lineOf(text: string, offset: number): number {
  return Number(lineCol(text, offset).split(':')[0]);
}

const PARSE_ERROR_TEXT: Record<string, string> = {
  InvalidSymbol: 'not valid JSON here',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected ',' or '}'",
  CloseBracketExpected: "expected ',' or ']'",
  EndOfFileExpected: 'unexpected text after the policy object',
  InvalidCommentToken: 'comments are not JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in a string',
};

// Loaded when a policy is read, so export-csv runs without one do not pay for it at start-up.
let jsonc: typeof import('jsonc-parser') | undefined;
function parser(): typeof import('jsonc-parser') {
  return (jsonc ??= createRequire(import.meta.url)('jsonc-parser') as typeof import('jsonc-parser'));
}

const LEVEL_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const TOP_KEYS = new Set(['levels', 'default', 'action', 'fields', 'description', '$schema']);
const ENTRY_KEYS = new Set(['level', 'action', 'description']);

/**
 * Reads a policy from its text. Every mistake is a UsageError naming FILE:LINE:COL, because a
 * policy that is half understood would export fields at the wrong level.
 */
export function parsePrivacyPolicy(text: string, file = 'policy.json'): PrivacyPolicy {
  const fail = (offset: number, why: string): never => {
    throw new UsageError(`invalid --privacy-policy: ${file}:${lineCol(text, offset)}: ${why}`);
  };
  text = blankBom(text);
  const errors: ParseError[] = [];
  const { parseTree, printParseErrorCode } = parser();
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length) {
    const e = errors[0]!;
    const code = printParseErrorCode(e.error);
    // `{"a": 1,}`: name the comma, the usual slip, rather than the brace after it.
    const before = text.slice(0, e.offset).trimEnd();
    if (before.endsWith(',') && /^[}\]]/.test(text.slice(e.offset))) fail(before.length - 1, 'trailing comma (JSON allows none before } or ])');
    fail(e.offset, PARSE_ERROR_TEXT[code] ?? code);
  }
  if (!root || root.type !== 'object') return fail(root?.offset ?? 0, 'the policy must be a JSON object with "fields"');

  const props = new Map<string, Node>();
  for (const prop of root.children ?? []) {
    const [keyNode, valueNode] = prop.children as [Node, Node];
    const key = keyNode.value as string;
    if (!TOP_KEYS.has(key)) fail(keyNode.offset, `unknown key "${key}" (expected levels, default, action, fields, description)`);
    if (props.has(key)) fail(keyNode.offset, `"${key}" appears twice`);
    props.set(key, valueNode);
  }

  let levels: string[] = [...DEFAULT_LEVELS];
  const levelsNode = props.get('levels');
  if (levelsNode) {
    if (levelsNode.type !== 'array' || !levelsNode.children?.length) fail(levelsNode.offset, '"levels" must be a non-empty array of level names, lowest first');
    levels = [];
    for (const n of levelsNode.children!) {
      if (n.type !== 'string' || !LEVEL_NAME.test(n.value as string)) fail(n.offset, 'a level name must be a word (letters, digits, _ or -)');
      if (levels.includes(n.value as string)) fail(n.offset, `level "${n.value}" is listed twice`);
      levels.push(n.value as string);
    }
  }
  const levelAt = (n: Node, what: string): string => {
    if (n.type !== 'string' || !levels.includes(n.value as string)) {
      fail(n.offset, `${what} must be one of ${levels.join(', ')}, got ${JSON.stringify(getValue(n))}`);
    }
    return n.value as string;
  };
  const actionAt = (n: Node): PrivacyAction => {
    if (n.type !== 'string' || (n.value !== 'drop' && n.value !== 'redact')) fail(n.offset, `"action" must be "drop" or "redact", got ${JSON.stringify(getValue(n))}`);
    return n.value as PrivacyAction;
  };

  const defaultNode = props.get('default');
  let defaultLevel: string;
  if (defaultNode) defaultLevel = levelAt(defaultNode, '"default"');
  else if (levels.includes(DEFAULT_POLICY_LEVEL)) defaultLevel = DEFAULT_POLICY_LEVEL;
  else return fail(levelsNode!.offset, `"levels" has no "${DEFAULT_POLICY_LEVEL}": say which level unlisted fields take with "default"`);
  const defaultAction = props.has('action') ? actionAt(props.get('action')!) : 'drop';

  const fieldsNode = props.get('fields');
  if (!fieldsNode) return fail(root.offset, 'the policy needs "fields": {"field.path": "level", …}');
  if (fieldsNode.type !== 'object') fail(fieldsNode.offset, '"fields" must be an object of field path → level');
  const rules: PrivacyRule[] = [];
  const seen = new Set<string>();
  for (const prop of fieldsNode.children ?? []) {
    const [keyNode, valueNode] = prop.children as [Node, Node];
    const pattern = keyNode.value as string;
    const why = patternProblem(pattern);
    if (why) fail(keyNode.offset, `field "${pattern}": ${why}`);
    if (seen.has(pattern)) fail(keyNode.offset, `field "${pattern}" is listed twice`);
    seen.add(pattern);
    let level: string;
    let action = defaultAction;
    if (valueNode.type === 'object') {
      const entry = new Map<string, Node>();
      for (const p of valueNode.children ?? []) {
        const [k, v] = p.children as [Node, Node];
        if (!ENTRY_KEYS.has(k.value as string)) fail(k.offset, `unknown key "${k.value}" in field "${pattern}" (expected level, action, description)`);
        entry.set(k.value as string, v);
      }
      if (!entry.has('level')) fail(valueNode.offset, `field "${pattern}" needs a "level"`);
      level = levelAt(entry.get('level')!, `the level of "${pattern}"`);
      if (entry.has('action')) action = actionAt(entry.get('action')!);
    } else {
      level = levelAt(valueNode, `the level of "${pattern}"`);
    }
    const segments = pattern.split('.');
    rules.push({ pattern, level, action, line: lineOf(text, keyNode.offset), segments, wildcard: pattern.includes('*') });
  }
  return { file, levels, defaultLevel, defaultAction, rules };
}

function getValue(n: Node): unknown {
  return n.type === 'object' || n.type === 'array' ? `(${n.type})` : n.value;
}

function patternProblem(pattern: string): string | null {
  if (pattern === '') return 'an empty path';
  for (const seg of pattern.split('.')) {
    if (seg === '') return 'an empty segment (two dots, or a dot at an end)';
    if (seg.includes('**') && seg !== '**') return '"**" must be a whole segment (a.**.b)';
  }
  return null;
}

/** Reads FILE; a missing or malformed policy is a usage error naming it. */
export async function loadPrivacyPolicy(file: string): Promise<PrivacyPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`invalid --privacy-policy: ${file}: ${readFailureText(err)}`);
  }
  return parsePrivacyPolicy(text, file);
}

/** Validates a requested level against the policy (usage error naming the choices). */
export function checkPrivacyLevel(policy: PrivacyPolicy, level: string): string {
  if (!policy.levels.includes(level)) {
    throw new UsageError(`invalid --privacy-level: must be one of ${policy.levels.join(', ')} (from ${policy.file}), got ${JSON.stringify(level)}`);
  }
  return level;
}

// ---- matching -----------------------------------------------------------------------------

function segmentMatches(pattern: string, seg: string): boolean {
  if (pattern === '*' || pattern === seg) return true;
  if (!pattern.includes('*')) return false;
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(seg);
}

/** `*` stands for one segment (or part of one: `*_email`), `**` for any number of segments. */
function matches(pat: readonly string[], path: readonly string[], i = 0, j = 0): boolean {
  if (i === pat.length) return j === path.length;
  if (pat[i] === '**') return matches(pat, path, i + 1, j) || (j < path.length && matches(pat, path, i, j + 1));
  return j < path.length && segmentMatches(pat[i]!, path[j]!) && matches(pat, path, i + 1, j + 1);
}

/** Whether the pattern can match a field nested under path (a column holding an object). */
function matchesBelow(pat: readonly string[], path: readonly string[], i = 0, j = 0): boolean {
  if (j === path.length) return i < pat.length;
  if (i === pat.length) return false;
  if (pat[i] === '**') return matchesBelow(pat, path, i + 1, j) || matchesBelow(pat, path, i, j + 1);
  return segmentMatches(pat[i]!, path[j]!) && matchesBelow(pat, path, i + 1, j + 1);
}

/**
 * The entry that governs a field: its own exact entry, else the first pattern that matches it
 * (in the order written), else the same for its parent, grandparent, …; null: the default.
 */
export function ruleFor(policy: PrivacyPolicy, path: string): PrivacyRule | null {
  const segs = path.split('.');
  for (let n = segs.length; n > 0; n--) {
    const sub = segs.slice(0, n);
    const key = sub.join('.');
    const exact = policy.rules.find((r) => !r.wildcard && r.pattern === key);
    if (exact) return exact;
    const pattern = policy.rules.find((r) => r.wildcard && matches(r.segments, sub));
    if (pattern) return pattern;
  }
  return null;
}

function rank(policy: PrivacyPolicy, level: string): number {
  return policy.levels.indexOf(level);
}

/**
 * How a column is exported at `level`. A column may be read from several paths (the event columns'
 * `email` is `user_context.email`, or a top-level `email`) and may be renamed: the entries that
 * name any of them are all considered and the highest level wins, so neither the flattening nor
 * a rename can lower a field's level. Only when no entry names any of them does the default apply.
 */
export function decideColumn(policy: PrivacyPolicy, level: string, paths: readonly string[]): FieldDecision {
  const want = rank(policy, level);
  let top: PrivacyRule | null = null;
  for (const p of paths) {
    const h = ruleFor(policy, p);
    if (!h) continue;
    const d = top ? rank(policy, h.level) - rank(policy, top.level) : 1;
    // Equal levels: drop is the stricter action.
    if (d > 0 || (d === 0 && h.action === 'drop' && top!.action === 'redact')) top = h;
  }
  if (!top) {
    const access: FieldAccess = rank(policy, policy.defaultLevel) <= want ? 'keep' : policy.defaultAction;
    return { access, level: policy.defaultLevel, rule: null };
  }
  const access: FieldAccess = rank(policy, top.level) <= want ? 'keep' : top.action;
  return { access, level: top.level, rule: top.pattern };
}

/**
 * Whether the policy names any field nested under `path`: a column holding an object there
 * (`--columns details`) must then be filtered inside (applyPrivacy) before it becomes a cell.
 */
export function hasRulesBelow(policy: PrivacyPolicy, path: string): boolean {
  const segs = path.split('.');
  return policy.rules.some((r) => matchesBelow(r.segments, segs));
}

/** How one field (a dotted path) is exported at `level`. */
export function decideField(policy: PrivacyPolicy, level: string, path: string): FieldDecision {
  return decideColumn(policy, level, [path]);
}

function isPlain(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A copy of the record as it may be shown at `level`: fields above it removed or replaced by
 * [REDACTED], leaf by leaf (arrays are leaves). For reports and other outputs than CSV columns.
 */
export function applyPrivacy(policy: PrivacyPolicy, level: string, rec: JsonObject, prefix = ''): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(rec)) {
    const v = rec[key] as JsonValue;
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isPlain(v) && Object.keys(v).length > 0) {
      setOwn(out, key, applyPrivacy(policy, level, v, path));
      continue;
    }
    const d = decideField(policy, level, path);
    if (d.access === 'keep') setOwn(out, key, v);
    else if (d.access === 'redact') setOwn(out, key, v === null || v === '' ? v : REDACTED);
  }
  return out;
}
