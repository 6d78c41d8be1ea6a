// NDJSON out: records are serialized into one pending string and written in large chunks;
// the caller awaits flush() between input batches, which is where back-pressure is honoured.
import type { Writable } from 'node:stream';

const FLUSH_AT = 256 * 1024;

export class NdjsonWriter {
  private pending = '';
  /** Set when the reader of stdout went away (EPIPE): the run ends quietly. */
  closed = false;
  private failure: Error | null = null;
  records = 0;

  constructor(private readonly stream: Writable = process.stdout) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.closed = true;
      else this.failure = err;
    });
  }

  write(record: unknown): void {
    if (this.closed) return;
    this.pending += JSON.stringify(record) + '\n';
    this.records++;
  }

  /** Writes what is pending and waits while the consumer is slower than we are. */
  async flush(force = false): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) {
      this.pending = '';
      return;
    }
    if (!force && this.pending.length < FLUSH_AT) return;
    if (this.pending.length === 0) return;
    const chunk = this.pending;
    this.pending = '';
    if (!this.stream.write(chunk)) await waitDrain(this.stream, this);
    if (this.failure) throw this.failure;
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
