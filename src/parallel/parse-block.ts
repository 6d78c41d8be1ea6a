// A block of whole lines parsed exactly as the one-thread reader parses them (it is that reader,
// fed one chunk), with line numbers moved to where the block sits in its source.
import { Readable } from 'node:stream';
import { readNdjson, type Item, type Source } from '../stream/ndjson-reader.js';
import type { BadLine, BadLinePolicy } from '../stream/bad-lines.js';
import type { Block } from './blocks.js';

/** A block's records parsed in a worker, with its bad lines in input order. */
export interface ParsedBlock {
  /** Records parsed. */
  records: number;
  /** Bad lines after the last batch (those before a batch went to onBatch with it). */
  bad: BadLine[];
  /** The source's first line looked like a CSV header. */
  csvLike: boolean;
}

// A block that does not start its source is read after an empty line (which the reader skips):
// the reader then does not take a BOM at the block's start for the source's.
const EMPTY_LINE = Buffer.from('\n');
/** Without the reads' ends, the reader gets the block in pieces the size of a file read, so each batch of records dies young. */
const PIECE = 64 * 1024;

/** The block as the one-thread reader got it: in the pieces each read ended its lines at. */
function* pieces(block: Block, bytes: Buffer): Generator<Buffer> {
  if (!block.atStart) yield EMPTY_LINE;
  if (block.ends) {
    let from = 0;
    for (const end of block.ends) {
      if (end > from) yield bytes.subarray(from, end);
      from = end;
    }
    if (from < bytes.length) yield bytes.subarray(from);
    return;
  }
  for (let i = 0; i < bytes.length; i += PIECE) yield bytes.subarray(i, Math.min(bytes.length, i + PIECE));
}

/**
 * Hands each batch of the block's records to onBatch (its line numbers already moved), with the
 * bad lines the reader found before it: a caller that reports those, then its own rejections of
 * the batch's records, reports in the one-thread order. `bad` is what came after the last batch.
 */
export async function parseBlock(block: Block, maxLineBytes: number, onBatch: (items: Item[], badBefore: BadLine[]) => void): Promise<ParsedBlock> {
  const raw = block.bytes as Uint8Array;
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const shift = block.atStart ? block.startLine - 1 : block.startLine - 2;
  let bad: BadLine[] = [];
  let csvLike = false;
  let records = 0;
  const policy = {
    add: (b: BadLine) => {
      b.line += shift;
      bad.push(b);
    },
  } as unknown as BadLinePolicy;
  const source: Source = { name: block.file, open: () => Readable.from(pieces(block, bytes)) };
  const onCsvLike = block.atStart && block.startLine === 1 ? () => void (csvLike = true) : undefined;
  for await (const batch of readNdjson([source], { policy, maxLineBytes, onCsvLike })) {
    if (shift !== 0) for (const item of batch) item.line += shift;
    records += batch.length;
    const before = bad;
    bad = [];
    onBatch(batch, before);
  }
  return { records, bad, csvLike };
}
