// The registry snapshot (--registry): persons parsed once and indexed in Maps (by email, by
// registry ID, bad claims by full name), so each entry costs a few Map lookups.
import { extname } from 'node:path';
import { createReadStream } from 'node:fs';
import { absent, optionalString, personName } from '../core/normalize.js';
import { isPlainObject, type JsonObject, type JsonValue } from '../core/event.js';
import { readNdjson, type Item, type Source } from '../core/ndjson-reader.js';
import type { BadLinePolicy } from '../core/bad-lines.js';
import { booleanCell, emailKey, listCell, nameKey } from './entry.js';
import { readCsvRecords } from './csv-records.js';
import type { RegistryEmail, RegistryIndex, RegistryPerson } from './types.js';

const NONE: readonly RegistryPerson[] = Object.freeze([]);

function registryEmail(v: JsonValue, verifiedDefault: boolean): RegistryEmail | undefined {
  if (typeof v === 'string' && v.trim()) return { mail: v.trim(), verified: verifiedDefault, type: null };
  if (!isPlainObject(v)) return undefined;
  const mail = optionalString(v.mail ?? v.email ?? v.address);
  if (mail === null) return undefined;
  return { mail: mail.trim(), verified: booleanCell(v.verified, false) ?? false, type: optionalString(v.type) };
}

/** A person from an NDJSON record or a CSV row (lists as JSON cells or `;`-separated). */
export function parsePerson(raw: JsonObject): RegistryPerson {
  // In CSV a `;` list of plain addresses takes its verification from a `verified` column.
  const verifiedDefault = booleanCell(raw.verified, true) ?? true;
  const emails: RegistryEmail[] = [];
  for (const e of listCell(raw.emails ?? raw.email) ?? []) {
    const parsed = registryEmail(e, verifiedDefault);
    if (parsed) emails.push(parsed);
  }
  const orgs: string[] = [];
  for (const o of listCell(raw.org_identities) ?? []) {
    const n = typeof o === 'string' ? o : isPlainObject(o) ? optionalString(o.name ?? o.o) : null;
    if (n) orgs.push(n.trim());
  }
  const name = personName(raw.name);
  return {
    registry_id: optionalString(raw.registry_id),
    name: name === 'Unknown' ? null : name,
    emails,
    org_identities: orgs,
    claimed: booleanCell(raw.claimed, false) ?? false,
    creation_date: absent(raw.creation_date) ? null : optionalString(raw.creation_date),
  };
}

/** Seed 001's RegistryPerson.email_address: organizational, then official, then verified, then any. */
export function primaryEmail(p: RegistryPerson): string | null {
  const pick = p.emails.find((e) => e.type === 'organizational') ?? p.emails.find((e) => e.type === 'official') ?? p.emails.find((e) => e.verified) ?? p.emails[0];
  return pick ? pick.mail : null;
}

/** An empty index: used when no registry was given. */
export const NO_REGISTRY: RegistryIndex = {
  loaded: false,
  size: 0,
  byEmail: () => NONE,
  byRegistryId: () => undefined,
  badClaims: () => NONE,
};

function add<K>(map: Map<K, RegistryPerson[]>, key: K, p: RegistryPerson): void {
  const list = map.get(key);
  if (list) {
    if (!list.includes(p)) list.push(p);
  } else map.set(key, [p]);
}

/** Indexes persons once: by each lower-cased email, by registry ID, and bad claims by name. */
export function buildRegistryIndex(persons: Iterable<RegistryPerson>): RegistryIndex {
  const byEmail = new Map<string, RegistryPerson[]>();
  const byId = new Map<string, RegistryPerson>();
  const bad = new Map<string, RegistryPerson[]>();
  let size = 0;
  for (const p of persons) {
    size++;
    for (const e of p.emails) {
      const k = emailKey(e.mail);
      if (k) add(byEmail, k, p);
    }
    if (p.registry_id !== null && !byId.has(p.registry_id)) byId.set(p.registry_id, p);
    if (p.claimed && p.emails.length === 0) {
      const k = nameKey(p.name);
      if (k) add(bad, k, p);
    }
  }
  return {
    loaded: true,
    size,
    byEmail: (email) => {
      const k = emailKey(email);
      return (k && byEmail.get(k)) || NONE;
    },
    byRegistryId: (id) => (id === null ? undefined : byId.get(id)),
    badClaims: (fullName) => {
      const k = nameKey(fullName);
      return (k && bad.get(k)) || NONE;
    },
  };
}

/** Reads a snapshot file (CSV when its name ends in .csv, NDJSON otherwise); bad lines go to the policy. */
export async function loadRegistry(path: string, policy: BadLinePolicy): Promise<RegistryIndex> {
  const source: Source = { name: path, open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }) };
  const batches: AsyncIterable<Item[]> =
    extname(path).toLowerCase() === '.csv' ? readCsvRecords([source], { policy }) : readNdjson([source], { policy });
  const persons: RegistryPerson[] = [];
  for await (const batch of batches) for (const item of batch) persons.push(parsePerson(item.value));
  return buildRegistryIndex(persons);
}
