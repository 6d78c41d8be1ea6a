// The --jobs reader's cutting and numbering against the one-thread reader: for any bytes, any
// read sizes and any block size, blocks parsed on their own give the same records and the same
// bad lines (FILE:LINE, reason, raw) in the same order, and hand on each read's records after
// that read's bad lines, as the one-thread reader does (a command's own rejections then fall
// between the same reports in both).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { readNdjson, type Item, type Source } from '../../../src/stream/ndjson-reader.js';
import type { BadLine, BadLinePolicy } from '../../../src/stream/bad-lines.js';
import { BlockCutter, type Block, type OversizeLine } from '../../../src/parallel/blocks.js';
import { parseBlock } from '../../../src/parallel/parse-block.js';
import { stringifyExact } from '../../../src/stream/exact-number.js';
import { chunked } from '../../helpers/chunks.js';

const BOM = '\uFEFF';

/** Lines a producer may write: events, big numbers, unicode, bad JSON, non-objects, invalid UTF-8, blank, long. */
const arbLine = fc.oneof(
  fc.record({ a: fc.string(), n: fc.integer() }).map((o) => JSON.stringify(o)),
  fc.constantFrom('{"big":9007199254740993,"f":1.0}', '{"s":"é日本\\n\\"q\\""}', '{"kind":"summary","total":1}'),
  fc.constantFrom('not json', '[1,2]', '42', '{"a":', '', '   ', '{"x":"' + 'y'.repeat(300) + '"}'),
  fc.constant('\u0000bad\u00ff'),
);

interface Case {
  bytes: Buffer;
  reads: number[];
  block: number;
  maxLineBytes: number;
}

const arbCase: fc.Arbitrary<Case> = fc
  .record({
    lines: fc.array(arbLine, { maxLength: 40 }),
    crlf: fc.boolean(),
    bom: fc.boolean(),
    trailing: fc.boolean(),
    invalidUtf8: fc.boolean(),
    reads: fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
    block: fc.integer({ min: 1, max: 400 }),
    maxLineBytes: fc.constantFrom(16 * 1024 * 1024, 120, 40),
  })
  .map(({ lines, crlf, bom, trailing, invalidUtf8, reads, block, maxLineBytes }) => {
    let text = (bom ? BOM : '') + lines.join(crlf ? '\r\n' : '\n') + (trailing && lines.length ? (crlf ? '\r\n' : '\n') : '');
    let bytes = Buffer.from(text, 'utf8');
    if (invalidUtf8 && bytes.length > 2) bytes = Buffer.concat([bytes.subarray(0, 2), Buffer.from([0xff]), bytes.subarray(2)]);
    return { bytes, reads, block, maxLineBytes };
  });

const show = (items: Item[]) => items.map((i) => `${i.file}:${i.line} ${stringifyExact(i.value)}`);

/** The order a command sees: each bad line as it is reported, and each batch of records as it is handed on. */
type Trace = string[];

async function oneThread(c: Case): Promise<{ items: string[]; bad: BadLine[]; trace: Trace }> {
  const bad: BadLine[] = [];
  const trace: Trace = [];
  const policy = { add: (b: BadLine) => void (bad.push(b), trace.push(`bad ${b.line}`)) } as unknown as BadLinePolicy;
  const source: Source = { name: 'in.ndjson', open: () => Readable.from(chunked(c.bytes, c.reads)) };
  const items: Item[] = [];
  for await (const batch of readNdjson([source], { policy, maxLineBytes: c.maxLineBytes })) {
    items.push(...batch);
    trace.push(...batch.map((i) => `record ${i.line}`));
  }
  return { items: show(items), bad, trace };
}

async function inBlocks(c: Case): Promise<{ items: string[]; bad: BadLine[]; trace: Trace }> {
  const trace: Trace = [];
  const pieces: Array<Block | OversizeLine> = [];
  const cutter = new BlockCutter('in.ndjson', c.maxLineBytes, c.block, (p) => void pieces.push(p));
  for (const chunk of chunked(c.bytes, c.reads)) cutter.push(chunk);
  cutter.end();
  const items: Item[] = [];
  const bad: BadLine[] = [];
  for (const p of pieces) {
    if (!('bytes' in p)) {
      bad.push({ file: p.file, line: p.line, error: `line is ${p.totalBytes} bytes, over the --max-line-bytes limit; raise the limit or fix the producer`, raw: p.head.toString('utf8'), truncated: true });
      trace.push(`bad ${p.line}`);
      continue;
    }
    // As a worker gets it: a copy of the bytes (structured clone).
    const r = await parseBlock({ ...p, bytes: Buffer.from(p.bytes) }, c.maxLineBytes, (b, before) => {
      bad.push(...before);
      trace.push(...before.map((x) => `bad ${x.line}`));
      items.push(...b);
      trace.push(...b.map((i) => `record ${i.line}`));
    });
    bad.push(...r.bad);
    trace.push(...r.bad.map((x) => `bad ${x.line}`));
  }
  return { items: show(items), bad, trace };
}

describe('--jobs blocks', () => {
  it('give the records and bad lines of the one-thread reader, at the same lines', async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, async (c) => {
        expect(await inBlocks(c)).toEqual(await oneThread(c));
      }),
      { numRuns: 300 },
    );
  });

  it('keep a BOM split over reads out of the first record', async () => {
    const c: Case = { bytes: Buffer.from(BOM + '{"a":1}\n{"a":2}\n'), reads: [1, 1, 1, 5], block: 1, maxLineBytes: 1000 };
    const r = await inBlocks(c);
    expect(r).toEqual(await oneThread(c));
    expect(r.items).toEqual(['in.ndjson:1 {"a":1}', 'in.ndjson:2 {"a":2}']);
  });

  it('report a line longer than --max-line-bytes across reads once, with its full length', async () => {
    const c: Case = { bytes: Buffer.from('{"a":1}\n' + '{"x":"' + 'y'.repeat(500) + '"}\n{"a":3}\n'), reads: [64], block: 10, maxLineBytes: 100 };
    const r = await inBlocks(c);
    expect(r).toEqual(await oneThread(c));
    expect(r.bad.map((b) => `${b.line} ${b.error}`)).toEqual(['2 line is 508 bytes, over the --max-line-bytes limit; raise the limit or fix the producer']);
  });
});
