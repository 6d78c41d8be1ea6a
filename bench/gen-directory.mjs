#!/usr/bin/env node
// Deterministic benchmark input for `process`: a directory of N entries (NDJSON on stdout or
// -o FILE) and a registry snapshot of P persons (--registry FILE). Same arguments, same bytes.
//   node bench/gen-directory.mjs --entries 1000000 --persons 100000 --registry /tmp/reg.ndjson -o /tmp/dir.ndjson
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    persons: { type: 'string', default: '100000' },
    registry: { type: 'string' },
    output: { type: 'string', short: 'o' },
    seed: { type: 'string', default: '1' },
  },
});
const ENTRIES = Number(values.entries);
const PERSONS = Number(values.persons);

// mulberry32: a tiny seeded PRNG, so the data is the same on every machine.
let state = Number(values.seed) >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Ritchie'];
const person = (i) => ({ first: FIRST[i % 10], last: `${LAST[Math.floor(i / 10) % 10]}${i}` });
const mail = (i) => `user${i}@uni.example.edu`;

async function writeLines(path, count, make) {
  const out = path ? createWriteStream(path) : process.stdout;
  let buf = '';
  for (let i = 0; i < count; i++) {
    buf += JSON.stringify(make(i)) + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    }
  }
  out.write(buf);
  if (path) await new Promise((r) => out.end(r));
}

// Registry: most persons claimed and verified; some unclaimed, undated, unverified, or bad claims.
if (values.registry) {
  await writeLines(values.registry, PERSONS, (i) => {
    const r = rand();
    const { first, last } = person(i);
    const badClaim = r < 0.01;
    return {
      registry_id: r > 0.02 && r < 0.03 ? null : `R-${i}`,
      name: `${first} ${last}`,
      emails: badClaim ? [] : [{ mail: mail(i), verified: !(r > 0.03 && r < 0.05), type: 'official' }],
      org_identities: badClaim && r < 0.005 ? [{ name: 'ORCID' }] : [{ name: 'University Login' }],
      claimed: !(r > 0.05 && r < 0.08),
      creation_date: r > 0.08 && r < 0.09 ? null : '2024-01-01T00:00:00Z',
    };
  });
}

// Directory: entry i is user i (the first P are in the registry); a few lack fields, differ
// in auth email, repeat the previous entry's email, or name a registry ID.
await writeLines(values.output, ENTRIES, (i) => {
  const r = rand();
  const { first, last } = person(i);
  const entry = {
    email: r < 0.005 ? null : mail(r > 0.06 && r < 0.062 && i > 0 ? i - 1 : i),
    name: { first_name: first, last_name: last },
    auth_email: r > 0.005 && r < 0.01 ? null : r > 0.01 && r < 0.02 ? `other${i}@mail.example.com` : mail(i),
    center_id: r > 0.02 && r < 0.022 ? 'n/a' : 1 + (i % 40),
    authorizations: r > 0.03 && r < 0.04 ? [] : [{ study_id: 'adrc', activities: ['submit-audit', 'view'] }],
    active: !(r > 0.04 && r < 0.05),
  };
  if (r > 0.05 && r < 0.06) entry.registry_id = `R-${i}`;
  return entry;
});
