// Sanity checks on the warm-up run's output: a fast tool that prints the wrong thing must not
// win the table. Each returns null when the output is plausible, else a short reason.
import { openSync, readSync, closeSync, readFileSync, statSync } from 'node:fs';

export const SEED000_COLUMNS = ['email', 'name', 'center_id', 'registry_id', 'auth_email', 'category', 'message', 'action_needed', 'timestamp', 'event_id'];

/** CSV rows (quoted newlines are inside a row), counted on raw bytes; plus the header line. */
export function scanCsv(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let rows = 0, inQuotes = false, header = '', headerDone = false, last = 10;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    for (let i = 0; i < n; i++) {
      const c = buf[i];
      if (c === 34) inQuotes = !inQuotes;
      else if (c === 10 && !inQuotes) {
        rows++;
        headerDone = true;
      }
      last = c;
    }
    if (!headerDone) header += buf.toString('utf8', 0, Math.min(n, 4096));
    else if (!header) header = buf.toString('utf8', 0, buf.indexOf(10));
  }
  closeSync(fd);
  if (last !== 10) rows++;
  return { rows, header: header.split('\n')[0].replace(/^\uFEFF/, '').replace(/\r$/, '') };
}

export function checkCsv(path, expectedRecords, { headerNames = null } = {}) {
  const { rows, header } = scanCsv(path);
  const names = header.split(',').map((h) => h.replace(/^"|"$/g, ''));
  if (headerNames && names.join(',') !== headerNames.join(',')) return `unexpected header: ${header.slice(0, 120)}`;
  if (rows !== expectedRecords + 1) return `${rows - 1} data rows, expected ${expectedRecords}`;
  return null;
}

/** NDJSON lines with a JSON object each; counts them. */
export function checkNdjsonCount(path, expectedRecords) {
  const size = statSync(path).size;
  if (size === 0) return 'no output';
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0, last = 10;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    for (let i = buf.indexOf(10, 0); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) lines++;
    last = buf[n - 1];
  }
  closeSync(fd);
  if (last !== 10) lines++;
  return lines === expectedRecords ? null : `${lines} records, expected ${expectedRecords}`;
}

function* walk(v, depth = 0) {
  if (depth > 6 || v === null || typeof v !== 'object') return;
  yield v;
  for (const k of Object.keys(v)) yield* walk(v[k], depth + 1);
}

/** Finds, anywhere in the summary, the counts by category and the number of distinct users. */
export function checkCounts(value, meta) {
  const want = meta.by_category;
  const names = Object.keys(want);
  let categoriesOk = false, usersOk = false;
  for (const o of walk(value)) {
    if (!Array.isArray(o) && names.every((n) => o[n] === want[n] || o[n]?.count === want[n])) categoriesOk = true;
    // All distinct users, or (analyze's affected users) the distinct users with an error.
    const users = [meta.distinct_users, meta.distinct_error_users];
    if (Array.isArray(o) && users.includes(o.length)) usersOk = true;
    if (!Array.isArray(o)) for (const x of Object.values(o)) if (users.includes(x)) usersOk = true;
  }
  if (categoriesOk && usersOk) return null;
  return `${categoriesOk ? '' : 'counts by category not found'}${!categoriesOk && !usersOk ? '; ' : ''}${usersOk ? '' : `distinct users (${meta.distinct_users}) not found`}`;
}

export function checkAnalyze(path, meta) {
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const summary = lines.find((r) => r.kind === 'summary') ?? lines[0];
  if (!summary) return 'no summary record';
  return checkCounts(summary, meta);
}

/** mlr count-distinct (-u) JSON: [{field,value,count}] or [{category,count}]. */
export function checkMillerCounts(path, meta, { users }) {
  const rows = JSON.parse(readFileSync(path, 'utf8'));
  const byCategory = {};
  let userCount = 0;
  for (const r of rows) {
    if (r.field === 'category') byCategory[r.value] = r.count;
    else if (r.field === 'user_context.email') userCount++;
    else if ('category' in r) byCategory[r.category] = r.count;
  }
  const cat = checkCounts({ byCategory }, { ...meta, distinct_users: -1 });
  if (cat && cat.startsWith('counts')) return cat;
  if (users && userCount !== meta.distinct_users) return `${userCount} distinct users, expected ${meta.distinct_users}`;
  return null;
}

export function checkJqCounts(path, meta) {
  return checkCounts(JSON.parse(readFileSync(path, 'utf8')), meta);
}
