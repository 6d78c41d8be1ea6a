// The ledger's file I/O helpers: positioned reads, the torn bytes kept aside, the final checksum.
import { open, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { writeFailure } from '../atomic-file.js';
import { backupStamp } from '../backup.js';

/** The file's last byte, or -1 when it is empty. */
export async function lastByte(fh: FileHandle, size: number): Promise<number> {
  if (size === 0) return -1;
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, size - 1);
  return b[0]!;
}

/** Bytes [start, end) of the file (fewer when it is shorter). */
export async function readRange(fh: FileHandle, start: number, end: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(end - start);
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
    if (!bytesRead) break;
    off += bytesRead;
  }
  return buf.subarray(0, off);
}

/** Nothing is silently lost: the cut bytes go to `<path>.torn-<stamp>` before the cut. */
export async function keepTornBytes(path: string, bytes: Buffer): Promise<string> {
  const stamp = backupStamp();
  for (let n = 0; ; n++) {
    const name = `${path}.torn-${stamp}${n ? `-${n}` : ''}`;
    try {
      const fh = await open(name, 'wx');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(path, `save its torn last row to ${name}`, err);
    }
  }
}

/** The sha256 of the file's first `size` bytes, for the export record. */
export async function sha256OfFile(fh: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let pos = 0; pos < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (!bytesRead) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash.digest('hex');
}
