// A block of whole lines parsed exactly as the one-thread reader parses them (it is that reader,
// fed one chunk), with line numbers moved to where the block sits in its source.
import { Readable } from 'node:stream';
import { readNdjson, type Item, type ReadOptions, type Source } from '../stream/ndjson-reader.js';
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
export function* pieces(block: Block, bytes: Buffer): Generator<Buffer> {
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

/** A block's bytes as a Buffer (a worker receives a plain Uint8Array). */
export function blockBytes(block: Block): Buffer {
  const raw = block.bytes as Uint8Array;
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** What to add to a line number the reader gives for the pieces() of a block, for its place in the source. */
export function lineShift(block: Block): number {
  return block.atStart ? block.startLine - 1 : block.startLine - 2;
}

/** The NDJSON reader's options for a block: each bad line moved to its place in the source, the CSV hint for a source's first line. */
export function blockReadOptions(block: Block, maxLineBytes: number, onBad: (b: BadLine) => void, onCsvLike: () => void): ReadOptions {
  const shift = lineShift(block);
  const policy = {
    add: (b: BadLine) => {
      b.line += shift;
      onBad(b);
    },
  } as unknown as BadLinePolicy;
  return { policy, maxLineBytes, onCsvLike: block.atStart && block.startLine === 1 ? onCsvLike : undefined };
}

/**
 * Hands each batch of the block's records to onBatch (its line numbers already moved), with the
 * bad lines the reader found before it: a caller that reports those, then its own rejections of
 * the batch's records, reports in the one-thread order. `bad` is what came after the last batch.
 */
export async function parseBlock(block: Block, maxLineBytes: number, onBatch: (items: Item[], badBefore: BadLine[]) => void): Promise<ParsedBlock> {
  const bytes = blockBytes(block);
  const shift = lineShift(block);
  let bad: BadLine[] = [];
  let csvLike = false;
  let records = 0;
  const source: Source = { name: block.file, open: () => Readable.from(pieces(block, bytes)) };
  const opts = blockReadOptions(block, maxLineBytes, (b) => void bad.push(b), () => void (csvLike = true));
  for await (const batch of readNdjson([source], opts)) {
    if (shift !== 0) for (const item of batch) item.line += shift;
    records += batch.length;
    const before = bad;
    bad = [];
    onBatch(batch, before);
  }
  return { records, bad, csvLike };
}
