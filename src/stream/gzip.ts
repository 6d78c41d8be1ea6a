// .gz in. Inputs are recognised by their first two bytes (1f 8b), not by their name, so
// `zcat`-free pipelines work on stdin too and a misnamed file is still read right; line numbers
// count the lines of the decompressed text. (`-o FILE.gz` is durable/gzip-file.ts.)
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataError } from '../cli/errors.js';

const toBuffer = (c: unknown): Buffer => (Buffer.isBuffer(c) ? c : Buffer.from(c as string));

/** The input as given, or decompressed when it starts with the gzip magic bytes. */
export function decompressed(input: Readable, name: string): Readable {
  // destroyOnReturn false: stdin is not ours to destroy (a file stream is destroyed by its reader).
  const it = input.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]();
  async function* rest(): AsyncGenerator<Buffer> {
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield toBuffer(n.value);
    }
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    let head: Buffer = Buffer.alloc(0);
    while (head.length < 2) {
      const n = await it.next();
      if (n.done) {
        if (head.length) yield head;
        return;
      }
      head = head.length ? Buffer.concat([head, toBuffer(n.value)]) : toBuffer(n.value);
    }
    if (head[0] !== 0x1f || head[1] !== 0x8b) {
      yield head;
      yield* rest();
      return;
    }
    const gunzip = createGunzip();
    const feed = Readable.from((async function* () {
      yield head;
      yield* rest();
    })());
    feed.on('error', (err) => gunzip.destroy(err));
    feed.pipe(gunzip);
    try {
      for await (const c of gunzip) yield c as Buffer;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code?.startsWith('Z_') || /unexpected end of file|incorrect header|invalid/i.test(e.message)) {
        throw new DataError(`gzip data is truncated or corrupt (${e.message})`, name);
      }
      throw err;
    } finally {
      feed.destroy();
    }
  }
  const out = Readable.from(chunks(), { objectMode: false, highWaterMark: 65536 });
  out.on('close', () => {
    if (input !== process.stdin) input.destroy();
  });
  return out;
}
