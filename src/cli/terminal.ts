// Where the CLI's story goes: stderr, with every registered secret masked and, on a terminal, a
// live progress line kept below the log.
import { logLine } from '../escape.ts';
import type { Log } from '../log.ts';
import { SecretMask } from '../shell/secrets.ts';

export class Terminal {
  readonly log: Log;
  private readonly secrets = new SecretMask();
  private readonly tty = process.stderr.isTTY === true;
  private progress = '';

  constructor(debug: boolean) {
    this.log = { info: (m) => this.print(m), warning: (m) => this.print(`warning: ${m}`), debug: (m) => debug && this.print(`debug: ${m}`) };
  }

  readonly addSecret = (value: string): void => this.secrets.add(value);

  mask(text: string): string {
    return this.secrets.mask(text);
  }

  print(line: string): void {
    if (this.tty && this.progress) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${logLine(this.mask(line))}\n`);
    if (this.tty && this.progress) process.stderr.write(this.progress);
  }

  /** On a terminal, redraws `line()` every second; returns the stop function (which clears it). */
  showProgress(line: () => string | undefined): () => void {
    if (!this.tty) return () => {};
    const ticker = setInterval(() => {
      this.progress = line() ?? '';
      process.stderr.write(`\r\x1b[2K${this.progress}`);
    }, 1000);
    return () => {
      clearInterval(ticker);
      process.stderr.write('\r\x1b[2K');
    };
  }
}
