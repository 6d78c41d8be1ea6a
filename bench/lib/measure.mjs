// Runs one command and measures its wall time and peak RSS. Peak RSS comes from GNU time's %M
// (the kernel's ru_maxrss, the largest process of the tree) when /usr/bin/time exists, else
// from polling /proc/<pid>/status VmHWM of the direct child (less exact; the report says which).
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
export const RSS_METHOD = existsSync(GNU_TIME) ? 'GNU time %M (ru_maxrss)' : '/proc/<pid>/status VmHWM polling';
const scratch = mkdtempSync(join(tmpdir(), 'bench-'));

function readHwmKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * cmd: [file, ...args]. stdin: a path (default /dev/null); stdout: a path (default /dev/null).
 * Resolves { ok, code, signal, wall_s, cpu_s (user+sys of the tree, GNU time only), rss_kb, stderr } and never rejects: a failing tool is a row.
 */
export function measure(cmd, { stdin = '/dev/null', stdout = '/dev/null', cwd, env, timeoutMs = 20 * 60_000 } = {}) {
  return new Promise((resolve) => {
    const timeFile = join(scratch, `m${process.hrtime.bigint()}`);
    const useTime = existsSync(GNU_TIME);
    const argv = useTime ? [GNU_TIME, '-f', '%M %U %S', '-o', timeFile, ...cmd] : cmd;
    let inFd, outFd;
    try {
      inFd = openSync(stdin, 'r');
      outFd = openSync(stdout, 'w');
    } catch (err) {
      resolve({ ok: false, code: null, signal: null, wall_s: 0, rss_kb: 0, stderr: String(err.message) });
      return;
    }
    const started = process.hrtime.bigint();
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), { stdio: [inFd, outFd, 'pipe'], cwd, env: { ...process.env, ...env }, detached: true });
    } catch (err) {
      closeSync(inFd);
      closeSync(outFd);
      resolve({ ok: false, code: null, signal: null, wall_s: 0, rss_kb: 0, stderr: String(err.message) });
      return;
    }
    let stderr = '';
    child.stderr.on('data', (d) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    let hwm = 0;
    const poll = useTime ? null : setInterval(() => { hwm = Math.max(hwm, readHwmKb(child.pid)); }, 10);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    const finish = (code, signal, spawnError) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      closeSync(inFd);
      closeSync(outFd);
      let rss = hwm;
      let cpu = NaN;
      if (useTime) {
        try {
          // GNU time prints "Command exited with non-zero status N" before its line on failure.
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          const [m, u, sys] = lines[lines.length - 1].split(' ').map(Number);
          rss = m || 0;
          cpu = u + sys;
          rmSync(timeFile, { force: true });
        } catch { /* no file: the command did not start */ }
      }
      const ok = !spawnError && !timedOut && code === 0;
      resolve({
        ok,
        code,
        signal,
        wall_s: wall,
        cpu_s: cpu,
        rss_kb: rss,
        stderr: timedOut ? `timed out after ${timeoutMs / 1000} s` : spawnError ? spawnError.message : stderr,
      });
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('close', (code, signal) => finish(code, signal, null));
  });
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
