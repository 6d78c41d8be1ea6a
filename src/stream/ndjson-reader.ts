// NDJSON in: raw-byte line splitting, per-line decode and JSON.parse, batches per chunk
// (no per-record stream objects), every record tagged with its file and line.
import { createReadStream, fstatSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { LineSplitter, type LineSink } from './line-splitter.js';
import { readSources, type Source, type SourceOptions } from './source.js';
import { decompressed } from './gzip.js';
import { BadLinePolicy } from './bad-lines.js';
import type { JsonObject } from './json.js';
import { mayHoldInexactNumber, parseExact } from './exact-number.js';

// The source loop's pieces, where the readers' users have always found them.
export { readChunks, type Source } from './source.js';

/** One record read, with the file and line it came from (for bad-line reports and events). */
export interface Item {
  value: JsonObject;
  file: string;
  line: number;
}

/** A line of text with its position, for readers that are not JSON (logs). */
export interface TextLine {
  text: string;
  file: string;
  line: number;
}

/** The longest line kept by default (--max-line-bytes): 16 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** JSON.parse accepts any depth, but JSON.stringify and recursive code overflow the stack near 5,000. */
export const MAX_DEPTH = 1000;
const READ_CHUNK = 65536;

/** File arguments, or stdin when there are none; `-` is stdin, reported as `stdin`. */
export function sourcesFromArgs(files: string[], onStdin?: () => void): Source[] {
  const list = files.length ? files : ['-'];
  return list.map((f) =>
    f === '-'
      ? {
          name: 'stdin',
          open: () => {
            onStdin?.();
            return decompressed(process.stdin, 'stdin');
          },
          size: () => regularSize(() => fstatSync(0)),
        }
      : { name: f, open: () => decompressed(createReadStream(f, { highWaterMark: READ_CHUNK }), f), size: () => regularSize(() => statSync(f)) },
  );
}

function regularSize(stat: () => { isFile(): boolean; size: number }): number | null {
  try {
    const st = stat();
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

/** The bad-line policy, the line limit and the hints of an NDJSON read. */
export interface ReadOptions extends SourceOptions {
  policy: BadLinePolicy;
  maxLineBytes?: number;
  /** The first line of a source is not JSON but looks like a CSV header: say so once. */
  onCsvLike?: (file: string) => void;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** True when the (valid) JSON in buf[start, end) nests objects/arrays deeper than `limit`. */
function nestedDeeperThan(buf: Buffer, start: number, end: number, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > limit) return true;
    } else if (b === 0x7d || b === 0x5d) depth--;
  }
  return false;
}

function decode(buf: Buffer, start: number, end: number): string | null {
  const text = buf.toString('utf8', start, end);
  // Only a line holding U+FFFD can be invalid UTF-8; check those lines and no others.
  if (text.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) return null;
  return text;
}

/** Line-based sources (NDJSON, logs): the source loop with a line splitter as the parser. */
function splitSources<T>(
  sources: Source[],
  opts: ReadOptions,
  makeSink: (file: string, batch: { out: T[] }) => LineSink,
): AsyncGenerator<T[]> {
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  return readSources<T>(sources, opts, (file, batch) => {
    const splitter = new LineSplitter(makeSink(file, batch), maxLineBytes);
    return { feed: (chunk) => splitter.push(chunk), end: () => splitter.end() };
  });
}

/** A first line such as `user_id,email,status`: no JSON value, two or more separated cells. */
export function looksLikeCsvHeader(text: string): boolean {
  const t = text.trim();
  if (/^[[{"]/.test(t)) return false;
  return [',', ';', '\t'].some((d) => t.split(d).length >= 2);
}

/**
 * What the NDJSON reader does with each line of one source: a record goes into batch.out, a
 * malformed line to the policy (the one exact way to read a line, which faster readers of a line
 * fall back to: parallel/tasks/export-csv.ts).
 */
export function ndjsonSink(file: string, batch: { out: Item[] }, opts: ReadOptions): LineSink {
  const { policy } = opts;
  return {
    line(buf, start, end, lineNo) {
      if (start === end) return;
      const text = decode(buf, start, end);
      if (text === null) {
        policy.add({ file, line: lineNo, error: 'invalid UTF-8', raw: buf.toString('utf8', start, end) });
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
        // Numbers a double would change (9007199254740993, 1.0) keep their text: a rare second parse.
        if (mayHoldInexactNumber(text)) value = parseExact(text);
      } catch (err) {
        if (text.trim() === '') return;
        if (lineNo === 1 && opts.onCsvLike && looksLikeCsvHeader(text)) opts.onCsvLike(file);
        policy.add({ file, line: lineNo, error: `invalid JSON: ${(err as Error).message}`, raw: text });
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        policy.add({ file, line: lineNo, error: `expected a JSON object, got ${describeType(value)}`, raw: text });
        return;
      }
      // Nesting deeper than MAX_DEPTH needs at least 2 * MAX_DEPTH bytes: short lines skip the scan.
      if (end - start > 2 * MAX_DEPTH && nestedDeeperThan(buf, start, end, MAX_DEPTH)) {
        policy.add({ file, line: lineNo, error: `JSON nested more than ${MAX_DEPTH} levels deep`, raw: text });
        return;
      }
      batch.out.push({ value: value as JsonObject, file, line: lineNo });
    },
    oversize(head, lineNo, total) {
      policy.add({
        file,
        line: lineNo,
        error: `line is ${total} bytes, over the --max-line-bytes limit; raise the limit or fix the producer`,
        raw: head.toString('utf8'),
        truncated: true,
      });
    },
  };
}

/** Batches of records, in input order; malformed lines go to the policy and are skipped. */
export function readNdjson(sources: Source[], opts: ReadOptions): AsyncGenerator<Item[]> {
  return splitSources<Item>(sources, opts, (file, batch) => ndjsonSink(file, batch, opts));
}

/** Batches of text lines (log mode); invalid UTF-8 and oversize lines are bad lines. */
export function readLines(sources: Source[], opts: ReadOptions): AsyncGenerator<TextLine[]> {
  const { policy } = opts;
  return splitSources<TextLine>(sources, opts, (file, batch) => ({
    line(buf, start, end, lineNo) {
      const text = decode(buf, start, end);
      if (text === null) {
        policy.add({ file, line: lineNo, error: 'invalid UTF-8', raw: buf.toString('utf8', start, end) });
        return;
      }
      batch.out.push({ text, file, line: lineNo });
    },
    oversize(head, lineNo, total) {
      policy.add({ file, line: lineNo, error: `line is ${total} bytes, over the --max-line-bytes limit`, raw: head.toString('utf8'), truncated: true });
    },
  }));
}
