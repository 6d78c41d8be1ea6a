// A block of whole lines parsed exactly as the one-thread reader parses them (it is that reader,
// fed one chunk), with line numbers moved to where the block sits in its source.
import { Readable } from 'node:stream';
import { readNdjson, type Item, type Source } from '../stream/ndjson-reader.js';
import type { BadLine, BadLinePolicy } from '../stream/bad-lines.js';
import type { Block } from './blocks.js';

export interface ParsedBlock {
  /** Records parsed. */
  records: number;
  bad: BadLine[];
  /** The source's first line looked like a CSV header. */
  csvLike: boolean;
}

// A block that does not start its source is read after an empty line (which the reader skips):
// the reader then does not take a BOM at the block's start for the source's.
const EMPTY_LINE = Buffer.from('\n');
/** The reader gets the block in pieces the size of a file read, so each batch of records dies young. */
const PIECE = 64 * 1024;

function* pieces(bytes: Buffer, atStart: boolean): Generator<Buffer> {
  if (!atStart) yield EMPTY_LINE;
  for (let i = 0; i < bytes.length; i += PIECE) yield bytes.subarray(i, Math.min(bytes.length, i + PIECE));
}

/** Hands each batch of the block's records to onBatch (its line numbers already moved). */
export async function parseBlock(block: Block, maxLineBytes: number, onBatch: (items: Item[]) => void): Promise<ParsedBlock> {
  const raw = block.bytes as Uint8Array;
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const bad: BadLine[] = [];
  let csvLike = false;
  let records = 0;
  const policy = { add: (b: BadLine) => void bad.push(b) } as unknown as BadLinePolicy;
  const source: Source = { name: block.file, open: () => Readable.from(pieces(bytes, block.atStart)) };
  const shift = block.atStart ? block.startLine - 1 : block.startLine - 2;
  const onCsvLike = block.atStart && block.startLine === 1 ? () => void (csvLike = true) : undefined;
  for await (const batch of readNdjson([source], { policy, maxLineBytes, onCsvLike })) {
    if (shift !== 0) for (const item of batch) item.line += shift;
    records += batch.length;
    onBatch(batch);
  }
  for (const b of bad) b.line += shift;
  return { records, bad, csvLike };
}
