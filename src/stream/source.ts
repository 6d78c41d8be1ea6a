// The one source loop every reader shares: each source opened in turn, its chunks fed to a
// parser made for it, what the parser produced handed on as one batch per chunk, the parser
// ended at the source's end, and the source released when the reader stops early (a closed
// stdout) or fails (the error then names the source: readChunks tags it with the path).
import type { Readable } from 'node:stream';

/** An input: a file, stdin, or anything that opens as a byte stream. */
export interface Source {
  name: string;
  open(): Readable;
  /** Bytes in the source when it is a regular file (progress can show a percentage), else null. */
  size?(): number | null;
}

/** What every reader of sources takes besides its own options. */
export interface SourceOptions {
  /** Stop early (a closed stdout): the reader ends and releases its input. */
  signal?: { stopped: boolean };
  /** The input has nothing ready: write out what is pending (see readChunks). */
  onIdle?: () => void;
  /** Bytes read so far, for progress. */
  onBytes?: (n: number) => void;
}


/**
 * The chunks of one source. `onIdle` runs whenever the next chunk is not ready yet (nothing
 * buffered, the stream not ended): the moment to hand pending output on, so a record fed slowly
 * (a `tail -f`, a job writing as it goes) comes out now rather than with the next 256 KB. A
 * regular file is never idle before its end (its next bytes are a disk read away), so reading
 * one keeps the large writes.
 */
export async function* readChunks(source: Source, opts: SourceOptions = {}): AsyncGenerator<Buffer> {
  const stream = source.open();
  const onIdle = opts.onIdle && source.size?.() == null ? opts.onIdle : undefined;
  const onBytes = opts.onBytes;
  let it: AsyncIterator<unknown> | null = null;
  let finished = false;
  try {
    if (!onIdle && !onBytes) {
      for await (const chunk of stream) yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      return;
    }
    it = stream[Symbol.asyncIterator]();
    for (;;) {
      if (onIdle && stream.readableLength === 0 && !stream.readableEnded) onIdle();
      const r = await it.next();
      if (r.done) {
        finished = true;
        return;
      }
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : (r.value as Buffer);
      onBytes?.(chunk.length);
      yield chunk;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code && !e.path) e.path = source.name;
    throw err;
  } finally {
    // Leaving early releases the input as a for-await over the stream would.
    if (it && !finished) await it.return?.();
    if (stream !== process.stdin) stream.destroy();
  }
}

/** A push parser for one source: it appends what it reads to the batch it was made with. */
export interface ChunkParser {
  feed(chunk: Buffer): void;
  end(): void;
}

/** Batches of T from every source in order; `makeParser(file, batch)` reads one source into batch.out. */
export async function* readSources<T>(
  sources: Source[],
  opts: SourceOptions,
  makeParser: (file: string, batch: { out: T[] }) => ChunkParser,
): AsyncGenerator<T[]> {
  for (const source of sources) {
    if (opts.signal?.stopped) return;
    // The parser fills batch.out; each chunk's records are handed on as one batch.
    const batch: { out: T[] } = { out: [] };
    const parser = makeParser(source.name, batch);
    for await (const chunk of readChunks(source, opts)) {
      parser.feed(chunk);
      if (batch.out.length) {
        const full = batch.out;
        batch.out = [];
        yield full;
      }
      if (opts.signal?.stopped) return;
    }
    parser.end();
    if (batch.out.length) yield batch.out;
  }
}
