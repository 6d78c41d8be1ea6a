// import-csv --jobs: worker threads change nothing a user can see. Workers are forced on small
// inputs (BATCH_EVENTS_PARALLEL_START/_BLOCK) so that many blocks and both threads are exercised.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import { binPath, run, tempDir } from '../helpers/run.js';

const FORCE = { BATCH_EVENTS_PARALLEL_START: '1', BATCH_EVENTS_PARALLEL_BLOCK: '200' };

/** A cell: ordinary text, quoted cells with delimiters, quotes and line breaks, stray and unclosed quotes. */
const arbCell = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('', 'a', 'Zoë', '2026-11-21T10:15:30Z', 'error', "'=SUM(A1)", ' sp ') },
  { weight: 3, arbitrary: fc.constantFrom('"a,b"', '"say ""hi"""', '"two\nlines"', '"crlf\r\nin"', '"x;y"', '"日本\n語"') },
  { weight: 1, arbitrary: fc.constantFrom('37"N', '"a"b', 'x"', '"open') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

const arbInput = fc.record({
  rows: fc.array(fc.array(arbCell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 80 }),
  delimiter: fc.constantFrom(',', ';'),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  trailing: fc.boolean(),
  invalidUtf8: fc.boolean(),
  files: fc.constantFrom(1, 2),
  flags: fc.constantFrom(
    [],
    ['--strict-quotes'],
    ['--columns', 'x,y,z'],
    ['--unescape-formulas'],
    ['--where', 'c1=error'],
    ['--since', '2026-11-21T00:00:00Z'],
    ['--max-line-bytes', '40'],
    ['--max-bad', '1000'],
  ),
});

describe('import-csv --jobs', () => {
  it('writes the same bytes, stderr and exit code with --jobs 2 as with --jobs 1', async () => {
    const dir = tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arbInput, async ({ rows, delimiter, crlf, bom, trailing, invalidUtf8, files, flags }) => {
        const eol = crlf ? '\r\n' : '\n';
        const header = ['c0', 'c1', 'timestamp'].join(delimiter);
        const text = (bom ? '\uFEFF' : '') + header + eol + rows.map((r) => r.join(delimiter)).join(eol) + (trailing ? eol : '');
        let bytes = Buffer.from(text, 'utf8');
        if (invalidUtf8) bytes = Buffer.concat([bytes.subarray(0, 20), Buffer.from([0xc3, 0x28]), bytes.subarray(20)]);
        const paths: string[] = [];
        for (let f = 0; f < files; f++) {
          const file = join(dir, `in${n++}.csv`);
          writeFileSync(file, bytes);
          paths.push(file);
        }
        const args = ['--delimiter', delimiter, ...flags, ...paths];
        const [one, two, piped] = await Promise.all([
          run('import-csv', ['--jobs', '1', ...args]),
          run('import-csv', ['--jobs', '2', ...args], { env: FORCE }),
          files === 1 ? run('import-csv', ['--jobs', '2', ...args.slice(0, -1)], { env: FORCE, input: bytes }) : null,
        ]);
        expect(two.stdout).toBe(one.stdout);
        expect(two.stderr).toBe(one.stderr);
        expect(two.exitCode).toBe(one.exitCode);
        if (piped) {
          // stdin: the same, its name aside.
          expect(piped.stdout).toBe(one.stdout);
          expect(piped.stderr).toBe(one.stderr.split(paths[0]!).join('stdin'));
          expect(piped.exitCode).toBe(one.exitCode);
        }
      }),
      { numRuns: 60 },
    );
  }, 900_000);

  it('starts workers by default on a large input (64 MiB and more), and none on a smaller one or a small pipe', async () => {
    const dir = tempDir();
    const row = 'a@b.org,"Zoë, ""Z""",x\n';
    const big = join(dir, 'big.csv');
    writeFileSync(big, 'email,name,note\n' + row.repeat(Math.ceil((65 * 1024 * 1024) / row.length)));
    const middle = join(dir, 'middle.csv');
    const middleText = 'email,name,note\n' + row.repeat(Math.ceil((5 * 1024 * 1024) / row.length));
    writeFileSync(middle, middleText);
    const [bigRun, middleRun, piped, one, middleOne] = await Promise.all([
      run('import-csv', ['-v', big]),
      run('import-csv', ['-v', '--jobs', '2', middle]),
      run('import-csv', ['-v'], { input: middleText }),
      run('import-csv', ['-v', '--jobs', '1', big]),
      run('import-csv', ['-v', '--jobs', '1', middle]),
    ]);
    // The default is the number of cores (at most 8): one core means one thread.
    if (availableParallelism() > 1) expect(bigRun.stderr).toMatch(/--jobs \d+: worker threads from .*big\.csv:\d+ on/);
    else expect(bigRun.stderr).not.toMatch(/worker threads/);
    // 5 MiB is under import-csv's start, as a file and as a pipe.
    expect(middleRun.stderr).not.toMatch(/worker threads/);
    expect(piped.stderr).not.toMatch(/worker threads/);
    expect(one.stderr).not.toMatch(/worker threads/);
    expect(bigRun.stdout).toBe(one.stdout);
    expect(middleRun.stdout).toBe(middleOne.stdout);
    expect(piped.stdout).toBe(middleOne.stdout);
  }, 300_000);

  it('a row fed slowly comes out before the rest of the input arrives', async () => {
    const child = execa(process.execPath, [binPath('import-csv'), '--jobs', '2'], { env: FORCE, stdin: 'pipe', stdout: 'pipe', reject: false });
    const seen: string[] = [];
    child.stdout!.on('data', (d: Buffer) => seen.push(d.toString()));
    child.stdin!.write('id,note\n');
    for (let i = 0; i < 50; i++) child.stdin!.write(`${i},"slow\n${i}"\n`);
    const deadline = Date.now() + 20_000;
    while (!seen.join('').includes('slow\\n49') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen.join('')).toContain('slow\\n49');
    child.stdin!.end('50,last\n');
    const res = await child;
    expect(res.exitCode).toBe(0);
    expect(String(res.stdout).split('\n').filter(Boolean)).toHaveLength(53);
  }, 60_000);

  it('Ctrl-C while workers run: the run dies by SIGINT at once', async () => {
    const child = spawn(process.execPath, [binPath('import-csv'), '--jobs', '2'], { env: { ...process.env, ...FORCE }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    child.stdin.write('id,note\n' + '1,"a\nb"\n'.repeat(2000));
    for (let i = 0; i < 400 && !out.includes('"id":"1"'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('"id":"1"');
    child.kill('SIGINT');
    expect(await closed).toBe('SIGINT');
  }, 60_000);

  it('rejects a --jobs that is not a whole number from 1 (usage error)', async () => {
    const r = await run('import-csv', ['--jobs', '0'], { input: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^import-csv: invalid --jobs: must be a whole number from 1 to 256/);
  });
});
