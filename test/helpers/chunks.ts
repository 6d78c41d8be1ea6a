// Test input cut into reads: how a reader or cutter sees a file or pipe arrive.

/** The bytes as consecutive reads of the given sizes (cycled), as a source would hand them on. */
export function chunked(bytes: Buffer, reads: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const n = reads[i % reads.length]!;
    out.push(bytes.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}
