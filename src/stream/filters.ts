// The shared filters (--type, --category, --since, --until, --where), parsed once up front
// into one predicate; records of another `kind` always pass so stages compose.
import { ExactNumber, stringifyExact } from './exact-number.js';
import { invalidOption } from '../cli/errors.js';
import { listOption } from '../cli/options.js';
import { dataTime } from '../cli/time.js';
import { parseTime } from '../cli/duration.js';
import type { JsonObject, JsonValue } from './json.js';

/** The shared filter flags: --type, --category, --since, --until, --where. */
export interface FilterOptions {
  type?: string;
  category?: string[];
  since?: string;
  until?: string;
  where?: string[];
  /** The moment durations ago (--since 4h) count from; worker threads get the main thread's. */
  now?: number;
}

/** A filter: true keeps the record. */
export type Predicate = (rec: JsonObject) => boolean;

/** Reads a dotted path (user_context.email); a key that itself holds a dot is tried first. */
export function getPath(rec: JsonObject, path: string): JsonValue | undefined {
  if (path in rec) return rec[path];
  let cur: JsonValue | undefined = rec;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as JsonObject)[part];
  }
  return cur;
}

function cellText(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return '';
  if (v instanceof ExactNumber) return v.text;
  if (typeof v === 'object') return stringifyExact(v);
  return String(v);
}

const WHERE = /^([^=!~]+?)\s*(!=|!~|=|~)\s*(.*)$/s;

/** One --where expression: field=value, field!=value, field~regex or field!~regex. */
export function parseWhere(expr: string): Predicate {
  const m = WHERE.exec(expr);
  if (!m) throw invalidOption('where', 'must be field=value, field!=value, field~regex or field!~regex', expr);
  const [, field, op, value] = m as unknown as [string, string, string, string];
  const path = field.trim();
  if (op === '=' ) return (r) => cellText(getPath(r, path)) === value;
  if (op === '!=') return (r) => cellText(getPath(r, path)) !== value;
  let re: RegExp;
  try {
    re = new RegExp(value);
  } catch (err) {
    throw invalidOption('where', `the regular expression does not compile (${(err as Error).message})`, expr);
  }
  return op === '~' ? (r) => re.test(cellText(getPath(r, path))) : (r) => !re.test(cellText(getPath(r, path)));
}

function isOtherKind(rec: JsonObject): boolean {
  return rec.kind !== undefined && rec.kind !== 'event';
}

/** What the filters left out for a reason the user may not expect (reported once at the end). */
export interface FilterStats {
  /** Records that --since/--until left out because they have no (parsable) timestamp. */
  noTimestamp: number;
}

/** One predicate, or null when no filter was asked for (the hot path then skips the call). */
export function buildFilter(opts: FilterOptions, stats: FilterStats = { noTimestamp: 0 }): Predicate | null {
  const tests: Predicate[] = [];
  if (opts.type !== undefined) {
    if (opts.type !== 'error' && opts.type !== 'success') throw invalidOption('type', 'must be error or success', opts.type);
    const t = opts.type;
    tests.push((r) => r.event_type === t);
  }
  const cats = listOption(opts.category ?? []);
  if (cats.length) {
    const set = new Set(cats.map((c) => c.toLowerCase()));
    tests.push((r) => typeof r.category === 'string' && set.has(r.category.toLowerCase()));
  }
  const bound = (flag: 'since' | 'until', text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const t = parseTime(text, opts.now);
    if (t === undefined) throw invalidOption(flag, 'must be a real ISO 8601 date/time (2026-11-21T10:00:00Z; UTC when no offset) or a duration ago (30s, 5m, 4h)', text);
    return t;
  };
  const since = bound('since', opts.since);
  const until = bound('until', opts.until);
  if (since !== undefined || until !== undefined) {
    // Half-open [since, until): adjacent windows split a run with no event counted twice.
    tests.push((r) => {
      const iso = dataTime(r.timestamp);
      const t = iso === null ? NaN : Date.parse(iso);
      if (Number.isNaN(t)) {
        stats.noTimestamp++;
        return false;
      }
      return (since === undefined || t >= since) && (until === undefined || t < until);
    });
  }
  for (const w of opts.where ?? []) tests.push(parseWhere(w));
  if (!tests.length) return null;
  return (rec) => {
    if (isOtherKind(rec)) return true;
    for (const t of tests) if (!t(rec)) return false;
    return true;
  };
}
