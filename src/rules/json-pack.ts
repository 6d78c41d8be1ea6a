// Simple packs without code: log regex → category, and entry field checks written as
// --where expressions (the same syntax as the shared filters), compiled once at load time.
import { getPath, parseWhere, type Predicate } from '../stream/filters.js';
import { stringifyExact } from '../stream/exact-number.js';
import { isPlainObject, type EventType, type JsonObject, type JsonValue } from '../event/event.js';
import type { EntryRule, LogRule, Rule, RulePack } from './types.js';

/** A rule pack that cannot be loaded, with where it is wrong. */
export class PackError extends Error {}

function str(o: JsonObject, key: string, where: string, required = true): string | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new PackError(`${where}: "${key}" must be a non-empty string`);
  return v;
}

// "{email} left {center_id}": fields of the entry, or named groups of the log match.
function template(text: string, lookup: (key: string) => JsonValue | undefined): string {
  return text.replace(/\{([\w.]+)\}/g, (_, key: string) => {
    const v = lookup(key);
    return v === undefined || v === null ? '' : typeof v === 'object' ? stringifyExact(v) : String(v);
  });
}

function eventType(o: JsonObject, where: string): EventType | undefined {
  const t = o.event_type;
  if (t === undefined) return undefined;
  if (t !== 'error' && t !== 'success') throw new PackError(`${where}: "event_type" must be "error" or "success"`);
  return t;
}

function compileRule(r: JsonValue, i: number): Rule {
  const where = `rules[${i}]`;
  if (!isPlainObject(r)) throw new PackError(`${where} must be an object`);
  const id = str(r, 'id', where)!;
  const at = `rule ${id}`;
  const category = str(r, 'category', at)!;
  const description = str(r, 'description', at, false) ?? category;
  const action = r.action_needed === undefined ? undefined : str(r, 'action_needed', at);
  const message = str(r, 'message', at, false);
  const type = eventType(r, at);
  if (r.on === 'log') {
    const source = str(r, 'pattern', at)!;
    const flags = r.flags === undefined ? '' : str(r, 'flags', at)!;
    let pattern: RegExp;
    try {
      pattern = new RegExp(source, flags.replace(/[gy]/g, ''));
    } catch (err) {
      throw new PackError(`${at}: "pattern" does not compile (${(err as Error).message})`);
    }
    const rule: LogRule = { on: 'log', id, category, description, pattern, ...(action ? { action_needed: action } : {}), ...(type ? { event_type: type } : {}) };
    if (message !== undefined) {
      rule.classify = (m, line) => ({ message: template(message, (k) => (k === 'message' ? line.message : m.groups?.[k])) });
    }
    return rule;
  }
  if (r.on === 'entry') {
    const conds = r.when;
    if (!Array.isArray(conds) || conds.length === 0 || !conds.every((c) => typeof c === 'string')) {
      throw new PackError(`${at}: "when" must be a non-empty list of field=value, field!=value, field~regex, field!~regex`);
    }
    let tests: Predicate[];
    try {
      tests = (conds as string[]).map((c) => parseWhere(c));
    } catch (err) {
      throw new PackError(`${at}: ${(err as Error).message.replace(/^invalid --where: /, '"when" ')}`);
    }
    const text = message ?? description;
    const stop = r.stop === true;
    const rule: EntryRule = {
      on: 'entry',
      id,
      category,
      description,
      always: r.always === true,
      inactive: r.inactive === true,
      ...(action ? { action_needed: action } : {}),
      check: (e) => {
        for (const t of tests) if (!t(e.raw)) return null;
        return { message: template(text, (k) => getPath(e.raw, k)), stop, ...(type ? { event_type: type } : {}) };
      },
    };
    return rule;
  }
  throw new PackError(`${at}: "on" must be "entry" or "log"`);
}

/** A JSON pack ({name, description, categories?, rules: [...]}) as a RulePack. */
export function compileJsonPack(doc: unknown): RulePack {
  if (!isPlainObject(doc)) throw new PackError('a JSON pack must be an object {name, description, rules}');
  const name = str(doc, 'name', 'pack')!;
  const description = str(doc, 'description', `pack ${name}`, false) ?? name;
  if (!Array.isArray(doc.rules)) throw new PackError(`pack ${name}: "rules" must be a list`);
  const categories: Record<string, string | null> = {};
  if (doc.categories !== undefined) {
    if (!isPlainObject(doc.categories)) throw new PackError(`pack ${name}: "categories" must map a category to its default action`);
    for (const [c, a] of Object.entries(doc.categories)) {
      if (a !== null && typeof a !== 'string') throw new PackError(`pack ${name}: the action of category "${c}" must be a string or null`);
      categories[c] = a;
    }
  }
  return {
    name,
    description,
    categories,
    ...(typeof doc.success_category === 'string' ? { success_category: doc.success_category } : {}),
    rules: doc.rules.map((r, i) => compileRule(r, i)),
  };
}
