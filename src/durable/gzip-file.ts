// `-o FILE.gz`: gzip written through the atomic writer, so a compressed output is replaced as
// atomically as a plain one. (Reading .gz input is stream/gzip.ts.)
import { createGzip } from 'node:zlib';
import type { AtomicFile } from './atomic-file.js';

/** True when an output path asks for gzip. */
export function isGzipPath(path: string): boolean {
  return /\.gz$/i.test(path);
}

/** An atomic file whose content is gzip-compressed on the way (bytes and sha256 are the .gz file's). */
export function gzipAtomic(file: AtomicFile): AtomicFile {
  const gz = createGzip();
  let writes: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  gz.on('data', (c: Buffer) => {
    writes = writes.then(() => file.write(c)).catch((err) => {
      failure ??= err;
    });
  });
  const ended = new Promise<void>((resolve, reject) => {
    gz.on('end', resolve);
    gz.on('error', reject);
  });
  ended.catch(() => undefined);
  return {
    path: file.path,
    tempPath: file.tempPath,
    async write(chunk) {
      if (failure) throw failure;
      // The callback runs once zlib has taken the chunk: the caller may then reuse its buffer.
      await new Promise<void>((resolve, reject) => gz.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, (err) => (err ? reject(err) : resolve())));
    },
    async commit() {
      gz.end();
      await ended;
      await writes;
      if (failure) throw failure;
      return file.commit();
    },
    async abort() {
      gz.destroy();
      await writes.catch(() => undefined);
      await file.abort();
    },
  };
}
