// Resolves --rules values (a built-in name, a .json pack, or a JavaScript/TypeScript module) into
// checked packs, so a broken pack is a usage error before any input is read.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CATEGORIES } from '../event/event.js';
import { invalidOption, UsageError } from '../cli/errors.js';
import { listOption } from '../cli/options.js';
import { compileJsonPack, PackError } from './json-pack.js';
import { userManagementPack } from './user-management.js';
import type { Rule, RulePack } from './types.js';

/** Packs that ship with the toolkit, by name. */
export const BUILTIN_PACKS: Readonly<Record<string, RulePack>> = { 'user-management': userManagementPack };
/** The pack process runs when --rules names none. */
export const DEFAULT_PACK = 'user-management';

const ID = /^[a-z0-9][a-z0-9._-]*$/i;

/** Checks the shape a JavaScript module pack must have; the message says what is wrong. */
export function checkPack(pack: unknown, from: string): RulePack {
  if (typeof pack !== 'object' || pack === null) throw new PackError(`${from}: exports no pack object (export default {name, description, rules})`);
  const p = pack as RulePack;
  if (typeof p.name !== 'string' || !p.name) throw new PackError(`${from}: the pack needs a "name"`);
  if (!Array.isArray(p.rules)) throw new PackError(`${from}: pack ${p.name} needs a "rules" list`);
  const known = new Set([...CATEGORIES, ...Object.keys(p.categories ?? {})]);
  if (p.success_category) known.add(p.success_category);
  for (const r of p.rules as Rule[]) {
    const at = `${from}: rule ${JSON.stringify((r as { id?: unknown })?.id)}`;
    if (typeof r?.id !== 'string' || !ID.test(r.id)) throw new PackError(`${at}: "id" must be letters, digits, ".", "_" or "-"`);
    if (typeof r.category !== 'string' || !known.has(r.category)) {
      throw new PackError(`${at}: category ${JSON.stringify(r.category)} is neither a built-in category nor declared in the pack's "categories"`);
    }
    if (typeof r.description !== 'string') throw new PackError(`${at}: needs a "description"`);
    if (r.on === 'entry') {
      if (typeof r.check !== 'function') throw new PackError(`${at}: an entry rule needs a check(entry, ctx) function`);
    } else if (r.on === 'log') {
      if (!(r.pattern instanceof RegExp)) throw new PackError(`${at}: a log rule needs a RegExp "pattern"`);
    } else throw new PackError(`${at}: "on" must be "entry" or "log"`);
  }
  return p;
}

type ModuleExports = { default?: unknown; pack?: unknown };

// Node 20 cannot import TypeScript itself; tsx (esbuild) strips the types. It is imported only
// for a .ts/.mts pack, so a run with JavaScript or JSON packs does not pay for loading it.
const TYPESCRIPT = new Set(['.ts', '.mts']);

async function importTypeScript(url: string): Promise<unknown> {
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(url, import.meta.url);
}

/** The pack a module exports; a CommonJS module (a .ts outside a "type": "module" package) nests its exports under default. */
function exportedPack(mod: ModuleExports): unknown {
  const found = mod.default ?? mod.pack;
  if (typeof found === 'object' && found !== null && !('rules' in found)) {
    const inner = found as ModuleExports;
    if (inner.default !== undefined || inner.pack !== undefined) return inner.default ?? inner.pack;
  }
  return found;
}

/** One line for the usage error; when the first line only announces the cause ("Transform failed with 1 error:"), the cause (esbuild's FILE:LINE:COL: message) follows it. */
function reason(err: unknown): string {
  const lines = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines[0] ?? String(err);
  return first.endsWith(':') && lines[1] !== undefined ? `${first} ${lines[1]}` : first;
}

async function loadOne(spec: string): Promise<RulePack> {
  const builtin = BUILTIN_PACKS[spec];
  if (builtin) return builtin;
  const path = resolve(spec);
  if (!existsSync(path)) {
    throw invalidOption('rules', `must be a built-in pack (${Object.keys(BUILTIN_PACKS).join(', ')}) or a path to a .json, .js, .mjs, .ts or .mts pack`, spec);
  }
  const ext = extname(path).toLowerCase();
  try {
    if (ext === '.json') {
      let doc: unknown;
      try {
        doc = JSON.parse(await readFile(path, 'utf8'));
      } catch (err) {
        throw new PackError(`${spec}: not valid JSON (${(err as Error).message})`);
      }
      return checkPack(compileJsonPack(doc), spec);
    }
    const url = pathToFileURL(path).href;
    const mod = (TYPESCRIPT.has(ext) ? await importTypeScript(url) : await import(url)) as ModuleExports;
    return checkPack(exportedPack(mod), spec);
  } catch (err) {
    if (err instanceof PackError) throw invalidOption('rules', err.message);
    if (err instanceof UsageError) throw err;
    throw invalidOption('rules', `${spec} could not be loaded (${reason(err)})`);
  }
}

/** All packs named by --rules (the default pack when none), checked; rule ids are unique across them. */
export async function loadPacks(specs: string[]): Promise<RulePack[]> {
  const packs: RulePack[] = [];
  for (const s of specs.length ? specs : [DEFAULT_PACK]) packs.push(await loadOne(s));
  const seen = new Map<string, string>();
  for (const p of packs) {
    for (const r of p.rules) {
      const other = seen.get(r.id);
      if (other !== undefined) throw invalidOption('rules', `rule id "${r.id}" is defined by both ${other} and ${p.name}`);
      seen.set(r.id, p.name);
    }
  }
  return packs;
}

/** --disable-rule values must name a rule of the loaded packs (a typo must not silently do nothing). */
export function checkDisabled(packs: RulePack[], ids: string[]): string[] {
  const known = new Set(packs.flatMap((p) => p.rules.map((r) => r.id)));
  const out: string[] = [];
  for (const id of listOption(ids)) {
    if (!known.has(id)) throw invalidOption('disable-rule', 'must be a rule id shown by --list-rules', id);
    out.push(id);
  }
  return out;
}

/** --list-rules: one tab-separated line per rule (pack, id, input, category, description). */
export function listRules(packs: RulePack[], disabled: Iterable<string> = []): string {
  const off = new Set(disabled);
  const lines = ['pack\tid\ton\tcategory\tdescription'];
  for (const p of packs) {
    for (const r of p.rules) lines.push([p.name, r.id + (off.has(r.id) ? ' (disabled)' : ''), r.on, r.category, r.description].join('\t'));
  }
  return lines.join('\n') + '\n';
}
