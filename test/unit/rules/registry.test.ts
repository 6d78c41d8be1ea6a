import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryBuilder, buildRegistryIndex, fileStamp, loadRegistry, parsePerson } from '../../../src/rules/registry.js';
import { BadLinePolicy } from '../../../src/stream/bad-lines.js';
import type { JsonObject } from '../../../src/event/event.js';
import type { RegistryPerson } from '../../../src/rules/types.js';

/** byEmail's answer, computed the plain way: every person with an email equal to the key, ignoring case and outer spaces. */
function naive(persons: RegistryPerson[], email: string): (string | null)[] {
  const k = email.trim().toLowerCase();
  if (k === '') return [];
  return persons.filter((p) => p.emails.some((e) => e.mail.trim().toLowerCase() === k)).map((p) => p.registry_id);
}

const email = fc.oneof(
  fc.constantFrom('a@x.edu', 'A@X.EDU', ' b@y.org ', 'b@y.org', 'é@ü.de', ''),
  fc.nat({ max: 5000 }).map((i) => `user${i}@uni.example.edu`),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

describe('registry: lookups by email (behind the email filter)', () => {
  it('finds exactly the persons holding the email, for keys present and absent, in any case', () => {
    fc.assert(
      fc.property(fc.array(fc.array(email, { maxLength: 3 }), { maxLength: 60 }), fc.array(email, { maxLength: 40 }), (lists, queries) => {
        const persons = lists.map((mails, i) => parsePerson({ registry_id: `R${i}`, emails: mails.map((mail) => ({ mail, verified: true })) } as JsonObject));
        const index = buildRegistryIndex(persons);
        for (const q of [...queries, ...lists.flat(), ...lists.flat().map((m) => m.toUpperCase())]) {
          expect(index.byEmail(q).map((p) => p.registry_id)).toEqual(naive(persons, q));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('100,000 emails: every one found, and persons added after build() too', () => {
    const b = new RegistryBuilder();
    const persons: RegistryPerson[] = [];
    for (let i = 0; i < 100_000; i++) {
      const p = parsePerson({ registry_id: `R-${i}`, emails: [{ mail: `User${i}@Uni.example.edu`, verified: true }] } as JsonObject);
      persons.push(p);
      b.add(p);
    }
    const index = b.build();
    b.add(parsePerson({ registry_id: 'late', emails: ['late@x.org'] } as JsonObject));
    let missing = 0;
    for (let i = 0; i < 100_000; i++) if (index.byEmail(`user${i}@uni.example.edu`)[0]?.registry_id !== `R-${i}`) missing++;
    expect(missing).toBe(0);
    expect(index.byEmail('LATE@x.org').map((p) => p.registry_id)).toEqual(['late']);
    let found = 0;
    for (let i = 100_000; i < 200_000; i++) found += index.byEmail(`user${i}@uni.example.edu`).length;
    expect(found).toBe(0);
  });
});

describe('registry: a snapshot that changes while it is read', () => {
  it('is refused, not joined against in part; an unchanged one loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'be-reg-'));
    const path = join(dir, 'registry.ndjson');
    const person = JSON.stringify({ registry_id: 'R-1', name: 'Ann Lee', emails: ['a@x.org'] });
    writeFileSync(path, `${person}\nnot json\n${person.replace('R-1', 'R-2')}\n`);
    const quiet = new BadLinePolicy({ maxBad: Infinity, report: () => undefined });
    const loaded = await loadRegistry(path, quiet);
    expect(loaded.size).toBe(2);
    expect(loaded.stamp).toBe(fileStamp(path));
    // The bad line's report comes mid-read: the writer appends a person then.
    const writing = new BadLinePolicy({ maxBad: Infinity, report: () => appendFileSync(path, `${person.replace('R-1', 'R-3')}\n`) });
    await expect(loadRegistry(path, writing)).rejects.toThrow(`${path}: the registry snapshot changed while process was reading it`);
    // A worker reading it again checks it is the file the main thread read.
    await expect(loadRegistry(path, quiet, undefined, loaded.stamp)).rejects.toThrow('changed since process first read it');
    expect((await loadRegistry(path, quiet, undefined, fileStamp(path))).size).toBe(3);
  });
});
