// The NDJSON reader on its own: in-memory sources cut into arbitrary chunks, every record with
// its file and line, every bad line reported once with the reason, the input released early.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { readLines, readNdjson, type Source } from '../../../src/stream/ndjson-reader.js';
import { BadLinePolicy, type BadLine } from '../../../src/stream/bad-lines.js';

function source(name: string, chunks: Array<string | Buffer>): Source & { destroyed(): boolean } {
  let stream: Readable | null = null;
  return {
    name,
    open: () => (stream = Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)))),
    destroyed: () => stream?.destroyed ?? false,
  };
}

function policy(): { policy: BadLinePolicy; bad: BadLine[] } {
  const bad: BadLine[] = [];
  const p = new BadLinePolicy({ maxBad: Infinity, report: () => undefined });
  const add = p.add.bind(p);
  p.add = (b) => {
    bad.push(b);
    add(b);
  };
  return { policy: p, bad };
}

async function all<T>(gen: AsyncGenerator<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const batch of gen) out.push(...batch);
  return out;
}

/** Cuts text into pieces at the given offsets (bytes), as a stream may. */
function cut(buf: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((n) => n % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out.filter((b) => b.length);
}

describe('stream/ndjson-reader', () => {
  it('reads records with file and line across sources; blank lines skipped; CRLF and a BOM accepted', async () => {
    const { policy: p, bad } = policy();
    const items = await all(readNdjson([source('a.ndjson', ['\uFEFF{"a":1}\r\n\n{"a"', ':2}\n']), source('b.ndjson', ['{"b":3}'])], { policy: p }));
    expect(items).toEqual([
      { value: { a: 1 }, file: 'a.ndjson', line: 1 },
      { value: { a: 2 }, file: 'a.ndjson', line: 3 },
      { value: { b: 3 }, file: 'b.ndjson', line: 1 },
    ]);
    expect(bad).toEqual([]);
  });

  it('reports invalid JSON, non-objects, invalid UTF-8 and oversize lines with FILE:LINE and goes on', async () => {
    const { policy: p, bad } = policy();
    const items = await all(readNdjson([source('x', ['{"ok":1}\n{oops\n[1]\n', Buffer.from([0xff, 0x0a]), '"s"\n', `{"big":"${'x'.repeat(100)}"}\n`, '{"ok":2}\n'])], { policy: p, maxLineBytes: 50 }));
    expect(items.map((i) => [i.value.ok, i.line])).toEqual([[1, 1], [2, 7]]);
    expect(bad.map((b) => [b.line, b.error.replace(/:.*/, '')])).toEqual([
      [2, 'invalid JSON'],
      [3, 'expected a JSON object, got an array'],
      [4, 'invalid UTF-8'],
      [5, 'expected a JSON object, got a string'],
      [6, expect.stringMatching(/^line is 110 bytes, over the --max-line-bytes limit/)],
    ]);
  });

  it('any chunking gives the same records and bad lines (property)', async () => {
    const line = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.integer(), fc.string({ maxLength: 6 }))).map((o) => JSON.stringify(o)),
      fc.constantFrom('not json', '[1,2]', '', '  ', '{"é":"名"}'),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 12 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), async (lines, crlf, at) => {
        const text = Buffer.from(lines.join(crlf ? '\r\n' : '\n'));
        const whole = policy();
        const expected = await all(readNdjson([source('s', [text])], { policy: whole.policy }));
        const pieces = policy();
        const got = await all(readNdjson([source('s', cut(text, at))], { policy: pieces.policy }));
        expect(got).toEqual(expected);
        expect(pieces.bad).toEqual(whole.bad);
      }),
      { numRuns: 150 },
    );
  });

  it('stops at signal.stopped and destroys the source it was reading', async () => {
    const { policy: p } = policy();
    const signal = { stopped: false };
    const s = source('s', Array.from({ length: 50 }, (_, i) => `{"i":${i}}\n`));
    const seen: number[] = [];
    for await (const batch of readNdjson([s, source('never', ['{"n":1}\n'])], { policy: p, signal })) {
      seen.push(...batch.map((b) => b.value.i as number));
      if (seen.length >= 3) signal.stopped = true;
    }
    expect(seen.length).toBeLessThan(50);
    expect(s.destroyed()).toBe(true);
  });

  it('readLines gives text lines with their numbers (log mode)', async () => {
    const { policy: p } = policy();
    const lines = await all(readLines([source('job.log', ['first\nsec', 'ond\r\n\nlast'])], { policy: p }));
    expect(lines).toEqual([
      { text: 'first', file: 'job.log', line: 1 },
      { text: 'second', file: 'job.log', line: 2 },
      { text: '', file: 'job.log', line: 3 },
      { text: 'last', file: 'job.log', line: 4 },
    ]);
  });
});
