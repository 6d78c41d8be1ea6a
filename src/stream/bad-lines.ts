// The bad-line policy every reader shares: report FILE:LINE: reason, keep the raw line in
// --rejects, count it, and let the run finish; the exit code is decided at the end.
import { closeSync, openSync, writeSync } from 'node:fs';
import { clearProgressLine } from '../cli/progress.js';

/** One input line that could not be used: where it is, why, and its text (for --rejects). */
export interface BadLine {
  file: string;
  line: number;
  error: string;
  raw: string;
  truncated?: boolean;
}

/** --max-bad, --rejects and where reports go. */
export interface BadLinePolicyOptions {
  maxBad?: number;
  rejectsPath?: string;
  /** Where reports go; defaults to stderr. */
  report?: (text: string) => void;
  /** Reports printed before the rest are only counted (the rejects file keeps them all). */
  maxReports?: number;
}

// C0/C1 controls and line separators from the input (a JSON.parse message quotes the line) are
// shown escaped: a bad line must not move the cursor, recolour or retitle the user's terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function visible(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Reports each bad line as FILE:LINE on stderr, keeps it in --rejects, and stops the run past --max-bad. */
export class BadLinePolicy {
  count = 0;
  readonly maxBad: number;
  private rejectsFd: number | null = null;
  private readonly report: (text: string) => void;
  private readonly maxReports: number;

  constructor(private readonly opts: BadLinePolicyOptions = {}) {
    this.maxBad = opts.maxBad ?? 0;
    this.report =
      opts.report ??
      ((t) => {
        clearProgressLine();
        process.stderr.write(t + '\n');
      });
    this.maxReports = opts.maxReports ?? 100;
  }

  add(bad: BadLine): void {
    this.count++;
    if (this.count <= this.maxReports) {
      this.report(visible(`${bad.file}:${bad.line}: ${bad.error}`));
    } else if (this.count === this.maxReports + 1) {
      this.report(visible(`${bad.file}:${bad.line}: more bad lines follow; only their count is reported${this.opts.rejectsPath ? ` (all are in ${this.opts.rejectsPath})` : ''}`));
    }
    if (this.opts.rejectsPath) {
      // Rare path: synchronous appends keep every rejected line even if the run is killed next.
      if (this.rejectsFd === null) this.rejectsFd = openSync(this.opts.rejectsPath, 'a');
      writeSync(this.rejectsFd, JSON.stringify(bad) + '\n');
    }
  }

  /** True when the run must end with exit 1. */
  get exceeded(): boolean {
    return this.count > this.maxBad;
  }

  close(): void {
    if (this.rejectsFd !== null) {
      closeSync(this.rejectsFd);
      this.rejectsFd = null;
    }
  }
}
