// The registry snapshot (--registry): persons parsed once, stored column by column and indexed
// in Maps (by email, by registry ID, bad claims by full name), so each entry costs a few lookups.
import { extname } from 'node:path';
import { createReadStream, statSync } from 'node:fs';
import { DataError } from '../cli/errors.js';
import { decompressed } from '../stream/gzip.js';
import { absent, optionalString, personName } from '../event/normalize.js';
import { isPlainObject, type JsonObject, type JsonValue } from '../event/event.js';
import { readNdjson, type Item, type Source } from '../stream/ndjson-reader.js';
import { BadLinePolicy } from '../stream/bad-lines.js';
import { booleanCell, emailKey, listCell, nameKey } from './entry.js';
import { readCsvRecords } from '../csv/read/located-records.js';
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

/** The original job's RegistryPerson.email_address: organizational, then official, then verified, then any. */
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

// Growable Int32 column (a typed array: 4 bytes a value, outside the GC's object graph).
class IntColumn {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

// Values that repeat across persons (email types, org identity lists, creation dates) are
// stored once and referred to by number; past MAX_INTERNED distinct values the table stops
// growing and the value is kept per person.
const MAX_INTERNED = 4096;

class Interner<T> {
  readonly values: T[] = [];
  private readonly index = new Map<string, number>();
  /** The value's number, or -1 when the table is full and the value is new. */
  id(key: string, value: T): number {
    let i = this.index.get(key);
    if (i === undefined) {
      if (this.values.length >= MAX_INTERNED) return -1;
      i = this.values.length;
      this.values.push(value);
      this.index.set(key, i);
    }
    return i;
  }
}

const CLAIMED = 1;
const VERIFIED = 1;

/**
 * The registry's emails as bits (a Bloom filter: two bits a key, 16 bits a key, ~1.5 % false
 * hits): most directory entries are not in the registry, and a miss in a Map of 100,000 emails
 * costs its cache misses (~0.3 µs, 8 % of process's time at 1M entries); a clear bit answers
 * "not there" from 256 KiB. It never says no to a key it holds, so answers do not change.
 */
class EmailFilter {
  private readonly bits: Int32Array;
  private readonly mask: number;
  private readonly shift: number;

  constructor(keys: number) {
    let log = 13;
    while (1 << log < keys * 16 && log < 30) log++;
    this.bits = new Int32Array(1 << (log - 5));
    this.mask = (1 << log) - 1;
    this.shift = 32 - log;
  }

  add(k: string): void {
    const h = keyHash(k);
    const a = h & this.mask;
    const b = mix(h) >>> this.shift;
    this.bits[a >>> 5]! |= 1 << (a & 31);
    this.bits[b >>> 5]! |= 1 << (b & 31);
  }

  mayHold(k: string): boolean {
    const h = keyHash(k);
    const a = h & this.mask;
    if ((this.bits[a >>> 5]! & (1 << (a & 31))) === 0) return false;
    const b = mix(h) >>> this.shift;
    return (this.bits[b >>> 5]! & (1 << (b & 31))) !== 0;
  }
}

// FNV-1a over the UTF-16 units, and a second, independent-enough position from its mix.
function keyHash(k: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 16777619);
  return h;
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return h ^ (h >>> 13);
}

/**
 * The snapshot kept column by column (BENCHMARKS.md: a Map of full person objects held ~800 bytes
 * per person, 76 MiB of heap at 100,000 persons): strings once each, flags and references in
 * typed arrays. A lookup builds the RegistryPerson objects the rules read, fresh each time.
 */
export class RegistryBuilder {
  private readonly ids: (string | null)[] = [];
  private readonly names: (string | null)[] = [];
  private readonly flags = new IntColumn();
  private readonly dates = new IntColumn();
  private readonly rawDates = new Map<number, string>();
  private readonly dateTable = new Interner<string>();
  private readonly orgs = new IntColumn();
  private readonly rawOrgs = new Map<number, string[]>();
  private readonly orgTable = new Interner<string[]>();
  private readonly emailStart = new IntColumn();
  private readonly mails: string[] = [];
  private readonly mailMeta = new IntColumn();
  private readonly rawTypes = new Map<number, string>();
  private readonly typeTable = new Interner<string>();
  // Lower-cased email → person number, or -(k + 1) for several persons (multi[k]).
  private readonly byEmail = new Map<string, number>();
  /** Made by build() from byEmail's keys; kept up to date by index() after that. */
  private filter: EmailFilter | null = null;
  private readonly multi: number[][] = [];
  private readonly byId = new Map<string, number>();
  private readonly bad = new Map<string, number[]>();

  add(p: RegistryPerson): void {
    const n = this.ids.length;
    this.ids.push(p.registry_id);
    this.names.push(p.name);
    this.flags.push(p.claimed ? CLAIMED : 0);
    if (p.creation_date === null) this.dates.push(-1);
    else {
      const d = this.dateTable.id(p.creation_date, p.creation_date);
      if (d < 0) this.rawDates.set(n, p.creation_date);
      this.dates.push(d < 0 ? -2 : d);
    }
    const o = this.orgTable.id(p.org_identities.join('\u0000'), [...p.org_identities]);
    if (o < 0) this.rawOrgs.set(n, [...p.org_identities]);
    this.orgs.push(o);
    this.emailStart.push(this.mails.length);
    for (const e of p.emails) {
      const k = emailKey(e.mail);
      // The lower-cased key doubles as the stored address when they are the same text.
      this.mails.push(k !== null && k === e.mail ? k : e.mail);
      let t = -1;
      if (e.type !== null) {
        t = this.typeTable.id(e.type, e.type);
        if (t < 0) this.rawTypes.set(this.mails.length - 1, e.type);
      }
      this.mailMeta.push((e.verified ? VERIFIED : 0) | ((t + 2) << 1));
      if (k) this.index(k, n);
    }
    if (p.registry_id !== null && !this.byId.has(p.registry_id)) this.byId.set(p.registry_id, n);
    if (p.claimed && p.emails.length === 0) {
      const k = nameKey(p.name);
      if (k) {
        const list = this.bad.get(k);
        if (list) list.push(n);
        else this.bad.set(k, [n]);
      }
    }
  }

  private index(k: string, n: number): void {
    this.filter?.add(k);
    const prev = this.byEmail.get(k);
    if (prev === undefined) this.byEmail.set(k, n);
    else if (prev >= 0) {
      if (prev !== n) {
        this.byEmail.set(k, -(this.multi.length + 1));
        this.multi.push([prev, n]);
      }
    } else {
      const list = this.multi[-prev - 1]!;
      if (!list.includes(n)) list.push(n);
    }
  }

  private person(n: number): RegistryPerson {
    const first = this.emailStart.data[n]!;
    const last = n + 1 < this.emailStart.length ? this.emailStart.data[n + 1]! : this.mails.length;
    const emails: RegistryEmail[] = [];
    for (let j = first; j < last; j++) {
      const meta = this.mailMeta.data[j]!;
      const t = (meta >> 1) - 2;
      emails.push({
        mail: this.mails[j]!,
        verified: (meta & VERIFIED) !== 0,
        type: t === -1 ? null : t === -2 ? (this.rawTypes.get(j) ?? null) : this.typeTable.values[t]!,
      });
    }
    const o = this.orgs.data[n]!;
    const d = this.dates.data[n]!;
    return {
      registry_id: this.ids[n]!,
      name: this.names[n]!,
      emails,
      org_identities: [...(o < 0 ? this.rawOrgs.get(n)! : this.orgTable.values[o]!)],
      claimed: (this.flags.data[n]! & CLAIMED) !== 0,
      creation_date: d === -1 ? null : d === -2 ? this.rawDates.get(n)! : this.dateTable.values[d]!,
    };
  }

  private persons(list: readonly number[]): readonly RegistryPerson[] {
    return list.map((n) => this.person(n));
  }

  build(): RegistryIndex {
    const size = this.ids.length;
    this.filter = new EmailFilter(this.byEmail.size);
    for (const k of this.byEmail.keys()) this.filter.add(k);
    // The rules of one entry ask the same question several times (the engine and two rules look up
    // the entry's registry ID; three claim rules its name, each lower-casing it): the last answer
    // of each lookup is kept, so an entry costs one key computation and one set of objects.
    let lastId: string | null = null;
    let lastPerson: RegistryPerson | undefined;
    let lastName: string | null = null;
    let lastBad: readonly RegistryPerson[] = NONE;
    return {
      loaded: true,
      size,
      byEmail: (email) => {
        const k = emailKey(email);
        const n = k === null || !this.filter!.mayHold(k) ? undefined : this.byEmail.get(k);
        if (n === undefined) return NONE;
        return n >= 0 ? [this.person(n)] : this.persons(this.multi[-n - 1]!);
      },
      byRegistryId: (id) => {
        if (id === null) return undefined;
        if (id === lastId) return lastPerson;
        const n = this.byId.get(id);
        lastId = id;
        lastPerson = n === undefined ? undefined : this.person(n);
        return lastPerson;
      },
      badClaims: (fullName) => {
        if (fullName === lastName && fullName !== null) return lastBad;
        const k = nameKey(fullName);
        const list = k === null ? undefined : this.bad.get(k);
        lastName = fullName;
        lastBad = list ? this.persons(list) : NONE;
        return lastBad;
      },
    };
  }
}

/** Indexes persons once: by each lower-cased email, by registry ID, and bad claims by name. */
export function buildRegistryIndex(persons: Iterable<RegistryPerson>): RegistryIndex {
  const b = new RegistryBuilder();
  for (const p of persons) b.add(p);
  return b.build();
}

/** The registry snapshot from an NDJSON or CSV file (by extension); bad lines go to `policy`. */
/**
 * A regular file's identity and version (device, inode, size, modification and change times in
 * ns), or null for anything else (a pipe, a FIFO, no file): equal stamps, the same bytes.
 */
export function fileStamp(path: string): string | null {
  try {
    const s = statSync(path, { bigint: true });
    return s.isFile() ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : null;
  } catch {
    return null;
  }
}

/**
 * Loads a registry snapshot (CSV when the path ends in .csv, else NDJSON; .gz either way). A
 * regular file that changes while it is read is refused (a snapshot still being written would
 * join entries against part of the registry); so is one that is no longer `expect` (fileStamp),
 * the snapshot the main thread read, when a --jobs worker reads it again.
 */
export async function loadRegistry(path: string, policy: BadLinePolicy = new BadLinePolicy(), maxLineBytes?: number, expect?: string | null): Promise<RegistryIndex> {
  const before = fileStamp(path);
  if (expect !== undefined && before !== expect) throw changed(path, 'since process first read it');
  const source: Source = { name: path, open: () => decompressed(createReadStream(path, { highWaterMark: 1024 * 1024 }), path) };
  const batches: AsyncIterable<Item[]> =
    extname(path).toLowerCase() === '.csv' ? readCsvRecords([source], { policy, maxLineBytes }) : readNdjson([source], { policy, maxLineBytes });
  // Person by person into the columns: the parsed records of a batch are garbage right after.
  const b = new RegistryBuilder();
  for await (const batch of batches) for (const item of batch) b.add(parsePerson(item.value));
  if (before !== null && fileStamp(path) !== before) throw changed(path, 'while process was reading it');
  return { ...b.build(), stamp: before };
}

function changed(path: string, when: string): DataError {
  return new DataError(`${path}: the registry snapshot changed ${when}; run again once it is completely written (or give it a copy)`);
}
