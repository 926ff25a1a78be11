/**
 * The live progress line of `jmqt bench`, on standard error: rewritten in
 * place once a second on a terminal, one line a second otherwise (a log).
 */
export class Progress {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly tty: boolean;

  constructor(private readonly render: () => string, private readonly stream: NodeJS.WriteStream = process.stderr, private readonly everyMs = 1000) {
    this.tty = stream.isTTY === true;
  }

  start(): void {
    this.timer = setInterval(() => this.show(), this.everyMs);
  }

  private show(): void {
    const line = this.render();
    this.stream.write(this.tty ? `\r${line}\u001b[K` : `${line}\n`);
  }

  /** Stops, and on a terminal clears the line for the summary. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.stream.write('\r\u001b[K');
  }
}
