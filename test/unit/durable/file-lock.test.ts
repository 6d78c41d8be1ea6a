import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ROOT, tempDir } from '../../helpers/run.js';
import { acquireLock, pidAlive } from '../../../src/durable/file-lock.js';

const counterScript = join(ROOT, 'test/fixtures/lock-counter.mjs');

// A pid that certainly belongs to no running process: a child that has already exited.
async function deadPid(): Promise<number> {
  const child = execa(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await child;
  return pid;
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

describe('file lock', () => {
  it('writes pid, hostname, time and a token to <path>.lock, and removes it on release', async () => {
    const path = join(tempDir(), 'out.csv');
    const lock = await acquireLock(path);
    const info = JSON.parse(readFileSync(`${path}.lock`, 'utf8'));
    expect(info).toMatchObject({ pid: process.pid, hostname: hostname(), token: lock.token });
    expect(Date.parse(info.time)).not.toBeNaN();
    await lock.release();
    await lock.release();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('a second holder in the same process waits, then times out with a clear error', async () => {
    const path = join(tempDir(), 'out.csv');
    const lock = await acquireLock(path);
    await expect(acquireLock(path, { timeoutMs: 150 })).rejects.toThrow(
      new RegExp(`still locked by pid ${process.pid} on .* after waiting \\d+s; if that process is gone, delete .*out\\.csv\\.lock, or raise --lock-timeout`),
    );
    await lock.release();
    await (await acquireLock(path, { timeoutMs: 150 })).release();
  });

  it('fault: lock-dead-holder — breaks the lock of a dead process on this host', async () => {
    const path = join(tempDir(), 'out.csv');
    const pid = await deadPid();
    expect(pidAlive(pid)).toBe(false);
    writeFileSync(`${path}.lock`, JSON.stringify({ pid, hostname: hostname(), time: new Date().toISOString(), token: 'old' }));
    const lock = await acquireLock(path, { timeoutMs: 5000 });
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8')).token).toBe(lock.token);
    await lock.release();
    expect(existsSync(`${path}.lock.break`)).toBe(false);
  });

  it('fault: lock-other-host — never breaks a lock of another host (the pid cannot be checked); it times out instead', async () => {
    const path = join(tempDir(), 'out.csv');
    const pid = await deadPid();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid, hostname: 'elsewhere.example', time: 'then', token: 'x' }));
    await expect(acquireLock(path, { timeoutMs: 100 })).rejects.toThrow(/still locked by pid \d+ on elsewhere\.example since then/);
    expect(existsSync(`${path}.lock`)).toBe(true);
  });

  it('fault: lock-empty-file — an empty lock file (creator killed before writing) is broken only once it is old', async () => {
    const path = join(tempDir(), 'out.csv');
    writeFileSync(`${path}.lock`, '');
    await expect(acquireLock(path, { timeoutMs: 100 })).rejects.toThrow(/still locked by an unknown process/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${path}.lock`, old, old);
    await (await acquireLock(path, { timeoutMs: 2000 })).release();
  });

  it('serializes async sections in one process', async () => {
    const path = join(tempDir(), 'out.csv');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        (async () => {
          const lock = await acquireLock(path);
          try {
            inside++;
            maxInside = Math.max(maxInside, inside);
            await new Promise((r) => setTimeout(r, 2));
            inside--;
          } finally {
            await lock.release();
          }
        })(),
      ),
    );
    expect(maxInside).toBe(1);
  });

  it('fault: lock-8-processes — 8 processes × 50 read-modify-writes under the lock lose no update', async () => {
    const counter = join(tempDir(), 'counter');
    writeFileSync(counter, '0');
    await Promise.all(Array.from({ length: 8 }, () => execa(process.execPath, [counterScript, counter, '50'])));
    expect(readFileSync(counter, 'utf8')).toBe('400');
    expect(existsSync(`${counter}.lock`)).toBe(false);
  });

  it('fault: lock-holder-sigkill — a holder killed with SIGKILL leaves a stale lock that the next writer breaks', async () => {
    const counter = join(tempDir(), 'counter');
    writeFileSync(counter, '0');
    const holder = execa(process.execPath, [counterScript, counter, '0', 'hold'], { reject: false });
    await until(() => existsSync(`${counter}.lock`) && readFileSync(`${counter}.lock`, 'utf8').length > 0);
    holder.kill('SIGKILL');
    await holder;
    expect(existsSync(`${counter}.lock`)).toBe(true);
    await execa(process.execPath, [counterScript, counter, '3']);
    expect(readFileSync(counter, 'utf8')).toBe('3');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`fault: lock-holder-signal — a holder ended by ${signal} removes its lock`, async () => {
      const counter = join(tempDir(), 'counter');
      const holder = execa(process.execPath, [counterScript, counter, '0', 'hold'], { reject: false });
      await until(() => existsSync(`${counter}.lock`) && readFileSync(`${counter}.lock`, 'utf8').length > 0);
      holder.kill(signal);
      await holder;
      expect(existsSync(`${counter}.lock`)).toBe(false);
    });
  }
});
