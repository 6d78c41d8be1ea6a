// Progress on stderr, for a person at a terminal. Drawn without being asked only when stderr is
// a TTY, the run passes 2 s, and the input is regular files (so their size is known: a
// percentage and an ETA). In a pipeline that is the first stage, the one reading the file: the
// stages after it read a pipe and stay quiet, so they never draw over one another on the same
// line. --progress forces it (one line per report when stderr is not a TTY); --no-progress
// turns it off. On a terminal the line is erased before anything else is written to it.
let active: Progress | null = null;

/** Erases the progress line (if one is drawn) before other text goes to the terminal. */
export function clearProgressLine(): void {
  active?.clear();
}

/** --progress: a count and rate on stderr, redrawn on a terminal at most every few hundred ms, one line per report otherwise; never on stdout. */
export class Progress {
  private readonly started = Date.now();
  private last = 0;
  private shown = false;
  private drawn = false;
  private finished = false;
  records = 0;
  private bytesRead = 0;
  /** Bytes in the input when every source is a regular file; null when unknown (a pipe). */
  total: number | null = null;

  constructor(private readonly tool: string, private readonly mode: boolean | undefined, private readonly isTty = !!process.stderr.isTTY) {
    active = this;
  }

  private get enabled(): boolean {
    if (this.finished || this.mode === false) return false;
    if (this.mode === true) return true;
    return this.isTty && this.total !== null && Date.now() - this.started > 2000;
  }

  bytes(n: number): void {
    this.bytesRead += n;
  }

  tick(n: number): void {
    this.records += n;
    const now = Date.now();
    if (now - this.last < 1000 || !this.enabled) return;
    this.last = now;
    this.shown = true;
    this.write(now, false);
  }

  clear(): void {
    if (!this.drawn) return;
    this.drawn = false;
    process.stderr.write('\r\x1b[K');
  }

  /** The closing line with the run's total, whenever progress was shown or asked for (once). */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.shown && this.mode !== true) return;
    this.write(Date.now(), true);
  }

  private write(now: number, final: boolean): void {
    const secs = (now - this.started) / 1000;
    const rate = Math.round(this.records / Math.max(secs, 0.001));
    let text = `${this.tool}: ${this.records.toLocaleString('en-US')} records, ${rate.toLocaleString('en-US')}/s, ${secs.toFixed(secs < 10 ? 1 : 0)}s`;
    if (!final && this.total !== null && this.total > 0 && this.bytesRead > 0) {
      const share = Math.min(1, this.bytesRead / this.total);
      const eta = (secs / share) * (1 - share);
      text += `, ${Math.floor(share * 100)}%, ETA ${eta < 10 ? eta.toFixed(1) : Math.round(eta)}s`;
    }
    if (!this.isTty) {
      process.stderr.write(`${text}\n`);
      return;
    }
    // Cut to the terminal's width: a wrapped line could not be erased with one \r.
    const cols = process.stderr.columns || 80;
    if (text.length > cols - 1) text = text.slice(0, cols - 1);
    process.stderr.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
    this.drawn = !final;
  }
}
