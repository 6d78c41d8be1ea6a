// Issue 8: processes killed at random points (the seed is printed; RELIABILITY_SEED replays it).
// A kill point is a byte count the output has reached (evidence, not a sleep), so the kill lands
// mid-write however loaded the machine is. Exit status documented: SIGKILL → killed by the signal;
// SIGTERM → 143 and SIGINT → 130 once a temp file is open (its handler removes it), or killed by
// the signal itself when it lands before that; 0 when the run had already finished.
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, tempDir } from '../helpers/run.js';
import { endedBySignal, fileSize, howItEnded, rngFor, sha256, sizeOf, spawnBin, until } from './helpers.js';

type Signal = 'SIGKILL' | 'SIGTERM' | 'SIGINT';

const CATEGORIES = ['Bad ORCID Claims', 'Unverified Email', 'Unclaimed Records', 'Missing Auth Email'];
function eventLine(i: number): string {
  return JSON.stringify({
    event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    timestamp: new Date(Date.UTC(2026, 10, 21, 10) + i * 1000).toISOString(),
    event_type: 'error',
    category: CATEGORIES[i % 4],
    message: i % 5 === 0 ? `line one "q" ${i}\nline two, ü` : `message ${i} — ünïcode`,
    action_needed: 'fix_it',
    user_context: { email: `u${i}@uni.org`, name: `User ${i}`, center_id: i % 50, registry_id: null, auth_email: null },
    details: {},
    source: { job: 'reliability', file: 'dir.csv', line: i + 1 },
  });
}

const nameOf = (i: number) => (i % 7 === 0 ? `Name "${i}";\nsecond line` : `name ${i}, ü`);
const ledgerInput = (from: number, count: number, status: string) =>
  Array.from({ length: count }, (_, k) => JSON.stringify({ id: String(from + k), name: nameOf(from + k), STATUS: status })).join('\n') + '\n';

const OLD = 'email,name,center_id,registry_id,auth_email,category,message,action_needed,timestamp,event_id\nold@uni.org,Old,1,,,Unverified Email,kept,fix,2026-01-01T00:00:00.000Z,old-1\n';

describe('export-csv -o killed at random points (old file or the complete new one, never a mix)', () => {
  const work = tempDir('be-kill-');
  const input = join(work, 'events.ndjson');
  let reference: Buffer;

  beforeAll(async () => {
    writeFileSync(input, Array.from({ length: 60_000 }, (_, i) => eventLine(i)).join('\n') + '\n');
    const ref = await run('export-csv', ['-o', join(work, 'reference.csv')], { inputFile: input });
    expect(ref.exitCode, ref.stderr).toBe(0);
    reference = readFileSync(join(work, 'reference.csv'));
  });

  // Four kill points: early, first half, second half (random byte counts of the temp file), and
  // once the temp file is complete (the fsync/rename window).
  async function killExportO(id: string, signal: Signal): Promise<void> {
    const rand = rngFor(id);
    const fractions = [rand() * 0.05, 0.05 + rand() * 0.45, 0.5 + rand() * 0.5, 1];
    const outcomes: string[] = [];
    for (const f of fractions) {
      const dir = tempDir('be-kill-o-');
      const path = join(dir, 'out.csv');
      writeFileSync(path, OLD);
      const threshold = Math.floor(f * reference.length);
      const child = spawnBin('export-csv', ['-o', path], { inputFile: input });
      await until(() => child.exitCode !== null || sizeOf(dir, '.tmp') >= threshold || fileSize(path) !== OLD.length, `${threshold} bytes in the temp file`);
      child.kill(signal);
      const r = await child;
      const after = readFileSync(path);
      const kept = after.equals(Buffer.from(OLD));
      const replaced = sha256(after) === sha256(reference);
      outcomes.push(`${(f * 100).toFixed(1)}% (${threshold} B) → ${kept ? 'old file' : replaced ? 'new file' : 'MIXED'}, ${howItEnded(r)}`);
      expect(kept || replaced, `after ${signal} at ${threshold} bytes the file is neither the old one nor the complete new one`).toBe(true);
      if (kept) expect(endedBySignal(r, signal), `${howItEnded(r)}: ${r.stderr}`).toBe(true);
      else expect(r.exitCode === 0 || endedBySignal(r, signal), howItEnded(r)).toBe(true);
      const others = readdirSync(dir).filter((n) => n !== 'out.csv');
      if (signal === 'SIGKILL') {
        expect(others.length).toBeLessThanOrEqual(1);
        for (const n of others) expect(n).toMatch(/^\.out\.csv\.\d+\.[0-9a-f]+\.tmp$/);
      } else {
        expect(others, `temp file left after ${signal}`).toEqual([]);
      }
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    console.log(`${id}:\n  ${outcomes.join('\n  ')}`);
    // The kill points were reached mid-write, not after the run: at least one kept the old file.
    expect(outcomes.some((o) => o.includes('old file'))).toBe(true);
  }

  it('fault: kill-export-o-sigkill — SIGKILL at random byte counts of export-csv -o', () => killExportO('kill-export-o-sigkill', 'SIGKILL'));
  it('fault: kill-export-o-sigterm — SIGTERM at random byte counts of export-csv -o', () => killExportO('kill-export-o-sigterm', 'SIGTERM'));
  it('fault: kill-export-o-sigint — SIGINT at random byte counts of export-csv -o', () => killExportO('kill-export-o-sigint', 'SIGINT'));
});

describe('export-csv --append and --upsert interrupted with SIGINT (Ctrl-C)', () => {
  it('fault: kill-append-sigint — SIGINT at a random point of --append: committed rows kept, at most one torn row, repaired by the next run', async () => {
    const rand = rngFor('kill-append-sigint');
    const dir = tempDir();
    const path = join(dir, 'results.csv');
    const args = ['--append', '--dedupe', 'id', '--columns', 'id,name,STATUS', '-o', path];
    const seeded = await run('export-csv', args, { input: ledgerInput(0, 1000, 'COMPLETED') });
    expect(seeded.exitCode, seeded.stderr).toBe(0);
    const before = readFileSync(path);
    const inputFile = join(dir, 'more.ndjson');
    writeFileSync(inputFile, ledgerInput(1000, 60_000, 'COMPLETED'));
    // ~34 bytes a row: a random point in the first 90% of what the run appends.
    const threshold = before.length + Math.floor(rand() * 0.9 * 60_000 * 34);
    const child = spawnBin('export-csv', args, { inputFile });
    await until(() => child.exitCode !== null || fileSize(path) >= threshold, `${threshold} bytes in ${path}`);
    child.kill('SIGINT');
    const r = await child;
    console.log(`kill-append-sigint: SIGINT at ${threshold} bytes → ${howItEnded(r)}, file ${fileSize(path)} bytes`);
    expect(r.exitCode === 0 || endedBySignal(r, 'SIGINT'), howItEnded(r)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['more.ndjson', 'results.csv']);
    const snapshot = readFileSync(path);
    expect(snapshot.subarray(0, before.length).equals(before), 'a committed row was lost').toBe(true);

    const next = await run('export-csv', args, { inputFile });
    expect(next.exitCode, next.stderr).toBe(0);
    const torn = readdirSync(dir).filter((n) => n.includes('.torn-'));
    expect(torn.length).toBeLessThanOrEqual(1);
    const cut = torn.length ? readFileSync(join(dir, torn[0]!)) : Buffer.alloc(0);
    if (torn.length) expect(next.stderr).toMatch(/torn/);
    const kept = snapshot.subarray(0, snapshot.length - cut.length);
    expect(Buffer.concat([kept, cut]).equals(snapshot)).toBe(true);
    const final = readFileSync(path);
    expect(final.subarray(0, kept.length).equals(kept), 'the next run changed committed bytes').toBe(true);
    const data = (parse(final) as string[][]).slice(1);
    expect(data.map((row) => row[0])).toEqual(Array.from({ length: 61_000 }, (_, i) => String(i)));
    expect(data.filter((row) => row.length !== 3 || row[1] !== nameOf(Number(row[0])) || row[2] !== 'COMPLETED'), 'rows not whole').toEqual([]);
  });

  it('fault: kill-upsert-sigint — SIGINT at a random point of --upsert: the ledger whole, a backup once it changed, no temp or lock left', async () => {
    const rand = rngFor('kill-upsert-sigint');
    const dir = tempDir();
    const ledger = join(dir, 'ledger.csv');
    const original = 'id,name,STATUS\n' + Array.from({ length: 20_000 }, (_, i) => `${i},item ${i},PENDING\n`).join('');
    writeFileSync(ledger, original);
    const inputFile = join(tempDir(), 'done.ndjson');
    writeFileSync(inputFile, Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: String(i), name: `item ${i}`, STATUS: 'COMPLETED' })).join('\n') + '\n');
    const args = ['--upsert', 'id', '--columns', 'id,name,STATUS', '-o', ledger, '--backup'];
    // A random byte count of the rewritten ledger's temp file (each batch rewrites it).
    const threshold = Math.floor(rand() * original.length);
    const child = spawnBin('export-csv', args, { inputFile });
    await until(() => child.exitCode !== null || sizeOf(dir, '.tmp') >= threshold || fileSize(ledger) !== original.length, `${threshold} bytes in the ledger's temp file`);
    child.kill('SIGINT');
    const r = await child;
    const rows = (parse(readFileSync(ledger)) as string[][]).slice(1);
    const done = rows.filter((row) => row[2] === 'COMPLETED').length;
    console.log(`kill-upsert-sigint: SIGINT at ${threshold} bytes → ${howItEnded(r)}, ${done} of 20000 rows COMPLETED`);
    expect(r.exitCode === 0 || endedBySignal(r, 'SIGINT'), howItEnded(r)).toBe(true);
    expect(rows.map((row) => row[0])).toEqual(Array.from({ length: 20_000 }, (_, i) => String(i)));
    expect(rows.filter((row) => row.length !== 3 || row[1] !== `item ${row[0]}` || !['PENDING', 'COMPLETED'].includes(row[2]!)), 'rows not whole').toEqual([]);
    expect(readdirSync(dir).filter((n) => n !== 'ledger.csv' && n !== 'backups'), 'temp or lock file left').toEqual([]);
    if (done > 0) {
      const backups = readdirSync(join(dir, 'backups')).filter((n) => !n.startsWith('.'));
      expect(backups).toHaveLength(1);
      expect(readFileSync(join(dir, 'backups', backups[0]!), 'utf8')).toBe(original);
    }
    const again = await run('export-csv', args, { inputFile });
    expect(again.exitCode, again.stderr).toBe(0);
    expect((parse(readFileSync(ledger)) as string[][]).slice(1).every((row) => row[2] === 'COMPLETED')).toBe(true);
  });
});

describe('notify --state killed at random points (the state file stays valid, the next run works)', () => {
  const T0 = '2026-11-21T12:00:00.000Z';
  const events = Array.from({ length: 3 }, (_, i) => eventLine(i)).join('\n') + '\n';
  // 20,000 earlier sends (within the kept day) make the state file big enough that a kill can land in its rewrite.
  const oldState = (() => {
    const sent: Record<string, object> = {};
    for (let i = 0; i < 20_000; i++) sent[i.toString(16).padStart(64, '0')] = { sent_at: '2026-11-21T11:00:00.000Z', job: 'old', subject: `s ${i}`, transport: 'file' };
    return JSON.stringify({ version: 1, sent }, null, 1) + '\n';
  })();

  async function killNotify(id: string, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const rand = rngFor(id);
    // One run unkilled gives the fingerprint and how long a run takes here; kill delays are spread over that.
    const probeDir = tempDir();
    writeFileSync(join(probeDir, 'state.json'), oldState);
    const started = Date.now();
    const probe = await run('notify', ['--to', 'support@uni.org', '--via', `file:${probeDir}/box`, '--state', join(probeDir, 'state.json')], { input: events, env: { NOTIFY_NOW: T0 } });
    const spanMs = Date.now() - started;
    expect(probe.exitCode, probe.stderr).toBe(0);
    const fp = probe.records[0]!.fingerprint as string;
    const outcomes: string[] = [];
    // Three kinds of kill point, twice each: a random moment of a run; once the message is in the
    // outbox (the send done, the state not yet written); once the state's temp file exists (its
    // rewrite under way), plus a random few ms.
    const kinds = ['random moment', 'message written', 'state rewrite', 'random moment', 'message written', 'state rewrite'] as const;
    for (const kind of kinds) {
      const dir = tempDir();
      const state = join(dir, 'state.json');
      writeFileSync(state, oldState);
      const args = ['--to', 'support@uni.org', '--via', `file:${dir}/box`, '--state', state];
      const child = spawnBin('notify', args, { input: events, env: { NO_COLOR: '1', NOTIFY_NOW: T0 } });
      let point: string = kind;
      if (kind === 'random moment') {
        const delay = Math.floor(rand() * spanMs);
        point += ` ${delay} ms`;
        await new Promise((res) => setTimeout(res, delay));
      } else {
        const seen = () => (kind === 'message written' ? existsSync(join(dir, 'box')) && readdirSync(join(dir, 'box')).length > 0 : readdirSync(dir).some((n) => n.endsWith('.tmp')));
        await until(() => child.exitCode !== null || seen(), kind);
        const extra = Math.floor(rand() * 15);
        point += ` +${extra} ms`;
        await new Promise((res) => setTimeout(res, extra));
      }
      child.kill(signal);
      const r = await child;
      const text = readFileSync(state, 'utf8');
      const parsed = JSON.parse(text);
      expect(parsed.version).toBe(1);
      expect(Object.keys(parsed.sent).length).toBeGreaterThanOrEqual(20_000);
      const recorded = fp in parsed.sent;
      expect(recorded || text === oldState, 'the state file changed without recording the send').toBe(true);
      const left = readdirSync(dir).filter((n) => n !== 'state.json' && n !== 'box');
      if (signal === 'SIGTERM') expect(left, 'temp or lock file left after SIGTERM').toEqual([]);
      // The outbox holds whole messages only: a message cut by the kill is a temp file (SIGKILL) or nothing.
      const box = () => (existsSync(join(dir, 'box')) ? readdirSync(join(dir, 'box')) : []);
      for (const n of box()) expect(n, 'outbox entry').toMatch(signal === 'SIGKILL' ? /\.eml$|^\..*\.eml\.\d+\.[0-9a-f]+\.tmp$/ : /\.eml$/);
      const sentBefore = box().filter((n) => n.endsWith('.eml')).length;
      const next = await run('notify', args, { input: events, env: { NOTIFY_NOW: T0 }, timeout: 30_000 });
      expect(next.exitCode, next.stderr).toBe(0);
      expect(next.records[0]).toMatchObject({ status: recorded ? 'skipped' : 'written', fingerprint: fp });
      expect(fp in JSON.parse(readFileSync(state, 'utf8')).sent).toBe(true);
      expect(box().filter((n) => n.endsWith('.eml'))).toHaveLength(sentBefore + (recorded ? 0 : 1));
      outcomes.push(`${point} → ${howItEnded(r)}, ${recorded ? 'send recorded' : 'state unchanged'}, ${sentBefore} sent; next run ${next.records[0]!.status}`);
    }
    console.log(`${id}: a run takes ~${spanMs} ms\n  ${outcomes.join('\n  ')}`);
  }

  it('fault: kill-notify-state-sigkill — SIGKILL at random moments of notify --state', () => killNotify('kill-notify-state-sigkill', 'SIGKILL'));
  it('fault: kill-notify-state-sigterm — SIGTERM at random moments of notify --state', () => killNotify('kill-notify-state-sigterm', 'SIGTERM'));
});
