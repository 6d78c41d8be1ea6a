// Shared pieces of the fault tests: a seeded random source (the seed is printed, so a failing
// kill point can be replayed), waiting on evidence with a bound, and the real binaries as children.
import { execa, type Options, type ResultPromise } from 'execa';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, nodeFlags, type Binary } from '../helpers/run.js';

/** RELIABILITY_SEED replays a run; otherwise a fresh seed each run. */
export const SEED = process.env.RELIABILITY_SEED ? Number(process.env.RELIABILITY_SEED) : Math.floor(Math.random() * 2 ** 31);

/** mulberry32, seeded per test id so one test's points do not depend on which others ran. */
export function rngFor(id: string): () => number {
  let a = (SEED ^ Number.parseInt(createHash('sha256').update(id).digest('hex').slice(0, 8), 16)) >>> 0;
  console.log(`${id}: seed ${SEED} (replay with RELIABILITY_SEED=${SEED})`);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Polls until `cond` holds; fails (rather than hangs) after `limitMs`. */
export async function until(cond: () => boolean, what: string, limitMs = 45_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

/** A real binary as a child process, the way run() starts it, but not awaited. */
export function spawnBin(name: Binary, args: string[], opts: Options = {}): ResultPromise {
  return execa(process.execPath, [...nodeFlags(name), binPath(name), ...args], { reject: false, env: { NO_COLOR: '1' }, ...opts });
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Size of the first file in `dir` whose name ends with `suffix` (0 when there is none, or it just went). */
export function sizeOf(dir: string, suffix: string): number {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(suffix)) continue;
    try {
      return statSync(join(dir, name)).size;
    } catch {
      return 0;
    }
  }
  return 0;
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/** Exit as the parent sees it: "exit N" or "signal NAME". */
export function howItEnded(r: { exitCode?: number; signal?: string }): string {
  return r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`;
}

/** A run ended by `signal` dies by it, also after its cleanup handler ran (the handler re-raises it). */
export function endedBySignal(r: { exitCode?: number; signal?: string }, signal: 'SIGKILL' | 'SIGTERM' | 'SIGINT'): boolean {
  if (signal === 'SIGKILL') return r.signal === 'SIGKILL';
  return r.signal === signal;
}

/**
 * A run as root ignores folder permissions: drop the capabilities that override them (setpriv), so
 * a read-only folder is read-only. Probed for real (a write into a chmod 555 folder must fail), so a
 * machine where that cannot be arranged skips rather than passes or fails for the wrong reason.
 */
export function unprivileged(): { prefix: string[]; available: boolean } {
  const prefix = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search,-fowner'] : [];
  const dir = mkdtempSync(join(tmpdir(), 'be-ro-probe-'));
  try {
    chmodSync(dir, 0o555);
    const [cmd, ...args] = [...prefix, 'sh', '-c', `: > "${dir}/probe" 2>/dev/null`];
    const r = spawnSync(cmd!, args, { stdio: 'ignore' });
    return { prefix, available: r.error === undefined && r.status !== null && r.status !== 0 && !existsSync(join(dir, 'probe')) };
  } finally {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
}
