import type { ReadProgress } from '../../lambdas/core/readers/types.ts';

const QUIET_PERIOD_MS = 1000;
const TTY_INTERVAL_MS = 200;
const LOG_INTERVAL_MS = 5000;

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function rowsText(rows: number): string {
  return rows >= 1e6
    ? `${(rows / 1e6).toFixed(2)}M rows`
    : rows >= 1e3
      ? `${(rows / 1e3).toFixed(1)}k rows`
      : `${rows} rows`;
}

/**
 * Progress on stderr for reads that take more than a moment: nothing for the first second, then a line
 * redrawn in place on a terminal, or a plain line every few seconds when stderr is a file or pipe.
 */
export class ProgressReporter {
  private readonly started = Date.now();
  private last = 0;
  private drawn = false;
  private readonly tty: boolean;
  private readonly enabled: boolean;

  constructor(enabled: boolean, stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = enabled;
    this.tty = Boolean(stream.isTTY);
  }

  update(input: string, progress: ReadProgress): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.started < QUIET_PERIOD_MS) return;
    if (now - this.last < (this.tty ? TTY_INTERVAL_MS : LOG_INTERVAL_MS)) return;
    this.last = now;
    const share = progress.totalBytes
      ? ` ${Math.min(100, (100 * progress.bytesRead) / progress.totalBytes).toFixed(0)}%`
      : '';
    const of = progress.totalBytes ? ` of ${megabytes(progress.totalBytes)}` : '';
    const line = `reading ${input}${share} (${megabytes(progress.bytesRead)}${of}, ${rowsText(progress.rows)})`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      process.stderr.write(`driftwatch: ${line}\n`);
    }
  }

  /** Clears the redrawn line so the next output starts clean. */
  done(): void {
    if (this.drawn) process.stderr.write('\r\x1b[2K');
    this.drawn = false;
  }
}
