// Parses a directory entry once (from NDJSON or from a CSV row of strings) so that every
// rule reads typed fields, and a malformed field is a listed problem, never an exception.
import { isExactNumber, stringifyExact } from '../stream/exact-number.js';
import { absent, centerId, optionalString, personName } from '../event/normalize.js';
import { isPlainObject, type JsonObject, type JsonValue } from '../event/event.js';
import type { Authorization, DirectoryEntry } from './types.js';

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const MULTI_SPACE = /\s\s|[\t\n\r\f\v]/;

/** Lower-case, trimmed: the form every email comparison uses. */
export function emailKey(email: string | null | undefined): string | null {
  if (email == null) return null;
  const k = email.trim().toLowerCase();
  return k === '' ? null : k;
}

/** The key a full name is looked up by: case and spacing do not matter. */
export function nameKey(name: string | null | undefined): string | null {
  if (name == null) return null;
  let k = name.trim().toLowerCase();
  // Most names have single spaces: test before paying for the replace.
  if (MULTI_SPACE.test(k)) k = k.replace(/\s+/g, ' ');
  return k === '' || k === 'unknown' ? null : k;
}

/** A CSV cell holding a list: a JSON array, or items separated by `;`. */
export function listCell(v: JsonValue | undefined): JsonValue[] | null | undefined {
  if (absent(v)) return null;
  if (Array.isArray(v)) return v;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (t.startsWith('[')) {
    try {
      const parsed = JSON.parse(t) as unknown;
      return Array.isArray(parsed) ? (parsed as JsonValue[]) : undefined;
    } catch {
      return undefined;
    }
  }
  return t.split(';').map((s) => s.trim()).filter(Boolean);
}

/** true/false from a boolean or its CSV spelling; undefined when it is neither. */
export function booleanCell(v: JsonValue | undefined, fallback: boolean): boolean | undefined {
  if (absent(v)) return fallback;
  if (typeof v === 'boolean') return v;
  // 1.0 and 1e3 (kept exact) are numbers too, as 1 is.
  if (typeof v === 'number' || isExactNumber(v)) return Number(v) !== 0;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === 'yes' || t === '1' || t === 'y') return true;
    if (t === 'false' || t === 'no' || t === '0' || t === 'n') return false;
  }
  return undefined;
}

// An authorization item: {study_id, activities} or, in CSV, "study_id" or "study_id:act|act".
function authorization(v: JsonValue): Authorization | undefined {
  if (isPlainObject(v)) {
    const study = optionalString(v.study_id);
    if (study === null) return undefined;
    return { study_id: study, activities: Array.isArray(v.activities) ? strings(v.activities) : [] };
  }
  if (typeof v === 'string' && v.trim()) {
    const [study, acts = ''] = v.split(':', 2) as [string, string?];
    return { study_id: study.trim(), activities: acts.split('|').map((a) => a.trim()).filter(Boolean) };
  }
  return undefined;
}

/** The strings of a list: the list itself when it holds nothing else (the usual case: no copy per entry). */
function strings(list: JsonValue[]): string[] {
  for (let i = 0; i < list.length; i++) if (typeof list[i] !== 'string') return list.filter((a): a is string => typeof a === 'string');
  return list as string[];
}

/** The typed entry, with what is wrong with it listed in `problems`. */
export function parseEntry(raw: JsonObject): DirectoryEntry {
  const problems: string[] = [];
  const email = optionalString(raw.email);
  let validEmail = email !== null;
  if (email === null) problems.push('no email');
  else if (!EMAIL.test(email.trim())) {
    problems.push(`email is not an address: ${stringifyExact(email)}`);
    validEmail = false;
  }

  const nameSource = raw.name !== undefined ? raw.name : raw.first_name !== undefined || raw.last_name !== undefined ? { first_name: raw.first_name ?? null, last_name: raw.last_name ?? null } : undefined;
  if (nameSource !== undefined && !absent(nameSource) && typeof nameSource !== 'string' && !isPlainObject(nameSource)) {
    problems.push('name is neither text nor {first_name, last_name}');
  }
  const name = personName(nameSource);

  const cidRaw = !absent(raw.center_id) ? raw.center_id : raw.adcid;
  const cid = centerId(cidRaw);
  if (cid === null) problems.push('no center_id');
  else if (cid === undefined) problems.push(`center_id is not an integer: ${stringifyExact(cidRaw)}`);

  const authEmail = optionalString(raw.auth_email);
  const list = listCell(raw.authorizations);
  let authorizations: Authorization[] | null = null;
  if (list === undefined) problems.push('authorizations is not a list');
  else if (list !== null) {
    authorizations = [];
    for (const item of list) {
      const a = authorization(item);
      if (a) authorizations.push(a);
      else problems.push(`authorization without a study_id: ${stringifyExact(item)}`);
    }
  }

  const active = booleanCell(raw.active, true);
  if (active === undefined) problems.push(`active is not a boolean: ${stringifyExact(raw.active)}`);

  return {
    email: email === null ? null : email.trim(),
    emailKey: validEmail ? emailKey(email) : null,
    name,
    nameKey: nameKey(name),
    auth_email: authEmail === null ? null : authEmail.trim(),
    authEmailKey: emailKey(authEmail),
    center_id: typeof cid === 'number' || isExactNumber(cid) ? (cid as number) : null,
    registry_id: optionalString(raw.registry_id),
    authorizations,
    active: active ?? true,
    problems,
    raw,
  };
}
