// NDJSON out: records are serialized into a short pending string that is encoded into an
// output Buffer every ~16K characters; the caller awaits flush() between input batches, which
// is where the Buffer is handed to the stream and back-pressure is honoured. Measured on
// 100,000 imported rows: one 256K-character string per write (Buffer.from) cost 2.1× the
// 16K-piece encoding (630 → 300 ms), the cons string's flattening and two-byte encoding.
// Output waits for 256 KB only while input keeps coming: when the input goes idle (a pipe with
// nothing ready) idle() writes what there is, so a slowly fed record comes out at once.
import type { Writable } from 'node:stream';
import { stringifyExact } from './exact-number.js';

const FLUSH_AT = 256 * 1024;
const PIECE = 16 * 1024;
// A piece of PIECE UTF-16 units is at most 3 bytes per unit in UTF-8.
const CHUNK = FLUSH_AT + 4 * PIECE * 3;

/** Records to stdout as NDJSON, encoded into reused buffers, with back-pressure and a quiet stop when the reader goes away (EPIPE). */
export class NdjsonWriter {
  private pending = '';
  private buf: Buffer = Buffer.allocUnsafe(CHUNK);
  /** buf[start, used) is encoded and not yet handed to the stream. */
  private start = 0;
  private used = 0;
  /** Set when the reader of stdout went away (EPIPE): the run ends quietly. */
  closed = false;
  private failure: Error | null = null;
  records = 0;
  /** A record's text: stringifyExact unless a command knows its records better (process: event/event-json.ts). */
  serialize: (record: unknown) => string = stringifyExact;
  /** Runs before bytes go to the stream (a progress line on the same terminal is cleared). */
  beforeWrite: (() => void) | null = null;

  constructor(private readonly stream: Writable = process.stdout) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.closed = true;
      else this.failure = err;
    });
  }

  write(record: unknown): void {
    if (this.closed) return;
    this.pending += this.serialize(record) + '\n';
    this.records++;
    if (this.pending.length > PIECE) this.settle();
  }

  /**
   * NDJSON already encoded (a worker thread's records, whole lines), written after what is
   * pending; `records` is how many lines it holds (the run record counts them). `given`: the
   * caller gives the bytes up (import-csv's workers send a buffer per block), so a large write
   * hands them to the stream as they are instead of a copy.
   */
  writeEncoded(bytes: Uint8Array, records: number, given = false): void {
    if (this.closed) return;
    this.records += records;
    this.settle();
    if (bytes.length < PIECE) {
      this.reserve(bytes.length);
      this.buf.set(bytes, this.used);
      this.used += bytes.length;
      return;
    }
    // Large: straight to the stream after what is pending, as a copy unless given (the caller
    // may reuse its buffer); the next flush() waits while the stream is full, as for any write.
    if (this.used > this.start) this.handOver();
    else this.beforeWrite?.();
    this.stream.write(given ? bytes : Buffer.from(bytes));
  }

  private settle(): void {
    const text = this.pending;
    if (text === '') return;
    this.pending = '';
    this.reserve(text.length * 3);
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  /** Room for n more bytes after what is encoded. */
  private reserve(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const keep = this.used - this.start;
    const next = Buffer.allocUnsafe(Math.max(CHUNK, keep + n));
    this.buf.copy(next, 0, this.start, this.used);
    this.buf = next;
    this.start = 0;
    this.used = keep;
  }

  /** Hands the encoded bytes to the stream; false when it asks us to wait (back-pressure). */
  private handOver(): boolean {
    this.beforeWrite?.();
    // The stream keeps the chunk until it is written: later records go after it, never over it.
    const chunk = this.buf.subarray(this.start, this.used);
    this.start = this.used;
    if (this.buf.length - this.used < CHUNK / 4) {
      this.buf = Buffer.allocUnsafe(CHUNK);
      this.start = this.used = 0;
    }
    return this.stream.write(chunk);
  }

  /** Writes what is pending and waits while the consumer is slower than we are. */
  async flush(force = false): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) {
      this.pending = '';
      this.start = this.used = 0;
      return;
    }
    if (!force && this.used - this.start + this.pending.length < FLUSH_AT) {
      // An idle() write the consumer has not taken yet: wait for it here, where waiting is allowed.
      if (this.stream.writableNeedDrain) await waitDrain(this.stream, this);
      return;
    }
    this.settle();
    if (this.used === this.start) return;
    if (!this.handOver()) await waitDrain(this.stream, this);
    if (this.failure) throw this.failure;
  }

  /**
   * The input has nothing ready: hand everything pending to the stream now, without waiting
   * (the next flush() waits if the stream is full). Called by the readers (readChunks' onIdle).
   */
  idle(): void {
    if (this.closed || this.failure) return;
    this.settle();
    if (this.used === this.start) return;
    this.handOver();
  }

  async end(): Promise<void> {
    await this.flush(true);
  }
}

function waitDrain(stream: Writable, w: NdjsonWriter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
    if (w.closed) done();
  });
}
