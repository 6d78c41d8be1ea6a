// File names of export-csv's -o templates ({category}, {job}, {source}, {value} with
// --split-by): a field's value made safe as one path component and redacted like a cell of that
// field, so neither a path nor a secret ever reaches a file name (docs/csv.md, docs/privacy.md).
import { basename, extname } from 'node:path';
import { isPlainObject, type JsonObject } from '../../event/event.js';
import { getPath } from '../../stream/filters.js';
import { invalidOption } from '../../cli/errors.js';
import { REDACTED, couldBeSecret, keyRule, redactValue } from '../../redact/redact.js';
import { decideColumn } from '../../redact/privacy.js';
import { cellText, USER_FIELDS } from './flatten.js';
import { SAFE_DEFAULT_POLICY, type PrivacyExport } from './output.js';
import type { CellPolicy } from './row-builder.js';

/** A value made safe as one file-name component: no separators, no '..', no control characters. */
export function safeFileComponent(value: string): string {
  let s = value.replace(/[\/\\\u0000-\u001f\u007f<>:"|?*]/g, '_').trim();
  s = s.replace(/\.\.+/g, '_');
  if (s.startsWith('.')) s = '_' + s.slice(1);
  if (s.length > 120) s = s.slice(0, 120);
  return s === '' ? 'unknown' : s;
}

function sourceName(rec: JsonObject): unknown {
  const file = isPlainObject(rec.source) ? rec.source.file : undefined;
  if (typeof file !== 'string' || file === '') return undefined;
  const base = basename(file.replace(/\\/g, '/'));
  return base.slice(0, base.length - extname(base).length) || base;
}

const PLACEHOLDER = /\{([A-Za-z_][\w.]*)\}/g;

/** A value for a file name, redacted like a cell of that field (a secret never becomes a file name). */
function fileNameValue(field: string, v: unknown, policy: CellPolicy): string {
  if (v === undefined || v === null) return 'unknown';
  const text = cellText(v);
  if (!policy.redact) return text;
  const rule = keyRule(field, { keys: policy.redactKeys, keep: policy.keepKeys });
  if (rule === 'keep') return text;
  if (rule === 'always' || (rule === 'name' && couldBeSecret(v))) return REDACTED;
  return couldBeSecret(v) ? redactValue(text) : text;
}

/** Compiles an -o template; null when it has no placeholders. */
export function compileTemplate(template: string, splitBy?: string, policy: CellPolicy = SAFE_DEFAULT_POLICY): ((rec: JsonObject) => string) | null {
  const names = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  if (!names.length) {
    if (splitBy) throw invalidOption('split-by', `needs -o with a {value} or {${splitBy}} placeholder`, template);
    return null;
  }
  const getters = new Map<string, (rec: JsonObject) => unknown>();
  const fields = new Map<string, string>();
  for (const name of names) {
    if (name === 'value' || name === splitBy) {
      if (!splitBy) throw invalidOption('output', '{value} needs --split-by FIELD', template);
      const field = splitBy;
      fields.set(name, field);
      getters.set(name, (r) => getPath(r, field));
    } else if (name === 'category') getters.set(name, (r) => r.category);
    else if (name === 'job') getters.set(name, (r) => (isPlainObject(r.source) ? r.source.job : undefined));
    else if (name === 'source') getters.set(name, sourceName);
    else throw invalidOption('output', `unknown placeholder {${name}} (use {category}, {job}, {source}${splitBy ? `, {value}, {${splitBy}}` : ''})`, template);
  }
  if (splitBy && !names.includes('value') && !names.includes(splitBy)) {
    throw invalidOption('split-by', `needs -o with a {value} or {${splitBy}} placeholder`, template);
  }
  return (rec) =>
    template.replace(PLACEHOLDER, (_, name: string) => {
      const v = getters.get(name)!(rec);
      return safeFileComponent(fileNameValue(fields.get(name) ?? name, v, policy));
    });
}

/** The field each -o placeholder puts into file names. */
function placeholderField(name: string, splitBy?: string): string {
  if (name === 'value' || name === splitBy) return splitBy!;
  if (name === 'job') return 'source.job';
  if (name === 'source') return 'source.file';
  return name;
}

/** File names are outputs too: a placeholder may not carry a field above the privacy level. */
export function checkTemplatePrivacy(template: string, splitBy: string | undefined, privacy: PrivacyExport): void {
  for (const m of template.matchAll(PLACEHOLDER)) {
    const field = placeholderField(m[1]!, splitBy);
    const d = decideColumn(privacy.policy, privacy.level, USER_FIELDS.has(field) ? [field, `user_context.${field}`] : [field]);
    if (d.access !== 'keep') {
      throw invalidOption(m[1] === 'value' || m[1] === splitBy ? 'split-by' : 'output', `{${m[1]}} would put ${field} (${d.level}) into file names, above --privacy-level ${privacy.level}`, m[1] === 'value' || m[1] === splitBy ? splitBy : template);
    }
  }
}
