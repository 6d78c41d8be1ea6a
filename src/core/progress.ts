// Progress on stderr for long runs: on when stderr is a TTY and the run passes 2 s, or forced.
export class Progress {
  private readonly started = Date.now();
  private last = 0;
  private shown = false;
  records = 0;

  constructor(private readonly tool: string, private readonly mode: boolean | undefined, private readonly isTty = !!process.stderr.isTTY) {}

  private get enabled(): boolean {
    if (this.mode === false) return false;
    if (this.mode === true) return true;
    return this.isTty && Date.now() - this.started > 2000;
  }

  tick(n: number): void {
    this.records += n;
    const now = Date.now();
    if (now - this.last < 1000 || !this.enabled) return;
    this.last = now;
    this.shown = true;
    this.write(now);
  }

  /** The closing line with the run's total, whenever progress was shown or asked for. */
  done(): void {
    if (!this.shown && this.mode !== true) return;
    this.write(Date.now());
    if (this.isTty) process.stderr.write('\n');
  }

  private write(now: number): void {
    const secs = (now - this.started) / 1000;
    const rate = Math.round(this.records / Math.max(secs, 0.001));
    const text = `${this.tool}: ${this.records.toLocaleString('en-US')} records, ${rate.toLocaleString('en-US')}/s, ${secs.toFixed(secs < 10 ? 1 : 0)}s`;
    process.stderr.write(this.isTty ? `\r${text}\x1b[K` : `${text}\n`);
  }
}
