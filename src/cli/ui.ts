import { createInterface } from 'node:readline/promises';
import { BeamError } from '../errors.js';
import { formatBytes } from '../format.js';
import { stripTerminalControls } from '../terminal-text.js';

export interface UiOptions {
  readonly json: boolean;
  /** Colour is used only on a terminal, and never with NO_COLOR or --no-color. */
  readonly color?: boolean;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
}

export type JsonFields = Record<string, unknown>;

const PROGRESS_INTERVAL_MS = 250;
/** Below this much elapsed time no rate or time left is shown. */
const MIN_RATE_SECONDS = 0.5;

/**
 * One place decides what a person or a script sees. Human mode: results on stdout, status and
 * progress on stderr. JSON mode: one object per line on stdout, nothing else.
 */
export class Ui {
  private lastProgressAt = 0;
  private held: string[] | undefined;
  private heldUntil: string | undefined;
  private progressShown = false;
  private progressStartedAt = 0;

  constructor(private readonly options: UiOptions) {}

  get json(): boolean {
    return this.options.json;
  }

  /** Whether a question can be put to a person (standard input is a terminal). */
  get canAsk(): boolean {
    return Boolean(this.options.stdin.isTTY);
  }

  get interactive(): boolean {
    return !this.options.json && Boolean(this.options.stdout.isTTY);
  }

  emit(event: string, fields: JsonFields = {}): void {
    if (!this.options.json) return;
    const line = `${JSON.stringify({ event, ...fields })}\n`;
    if (this.held && event !== this.heldUntil && event !== 'error') {
      this.held.push(line);
      return;
    }
    // The awaited event goes first; an error goes last, after what led to it.
    const earlier = this.held ?? [];
    this.held = undefined;
    const ordered = event === 'error' ? [...earlier, line] : [line, ...earlier];
    for (const text of ordered) this.options.stdout.write(text);
  }

  /**
   * JSON mode: keeps every event back until `event` is emitted, so that it is the first line
   * (scripts read the code from `send`'s first line). An error releases them too.
   */
  holdUntil(event: string): void {
    if (!this.options.json) return;
    this.heldUntil = event;
    this.held = [];
  }

  status(phase: string, message: string, fields: JsonFields = {}): void {
    if (this.options.json) this.emit('status', { phase, message, ...fields });
    else this.line(this.options.stderr, message);
  }

  warn(message: string, fields: JsonFields = {}): void {
    if (this.options.json) this.emit('warning', { message, ...fields });
    else this.line(this.options.stderr, `warning: ${message}`);
  }

  result(event: string, fields: JsonFields, humanLines: readonly string[]): void {
    if (this.options.json) this.emit(event, fields);
    else for (const text of humanLines) this.line(this.options.stdout, text);
  }

  error(error: BeamError): void {
    if (this.options.json) {
      this.emit('error', { kind: error.kind, exitCode: error.exitCode, message: error.message });
    } else {
      this.line(this.options.stderr, `copilot-beam: ${error.message}`);
    }
  }

  progress(phase: 'sending' | 'receiving', done: number, total: number): void {
    const now = Date.now();
    if (this.progressStartedAt === 0) this.progressStartedAt = now;
    const complete = done >= total;
    if (!complete && now - this.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    this.lastProgressAt = now;
    const seconds = (now - this.progressStartedAt) / 1000;
    // A rate from the first few milliseconds says nothing (one message in 1 ms is not "46 KB/s").
    const rate = seconds >= MIN_RATE_SECONDS || complete ? done / Math.max(seconds, 0.001) : undefined;
    if (this.options.json) {
      this.emit('progress', { phase, bytes: done, total, ...(rate === undefined ? {} : { bytesPerSecond: Math.round(rate) }) });
      return;
    }
    if (!this.options.stderr.isTTY) return;
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    const speed = rate === undefined ? '' : ` ${formatBytes(rate)}/s, ${rate > 0 ? Math.ceil((total - done) / rate) : 0} s left`;
    const verb = phase === 'sending' ? 'Sending' : 'Receiving';
    this.options.stderr.write(`\r${verb} ${formatBytes(done)} / ${formatBytes(total)} (${percent}%)${speed}   `);
    this.progressShown = true;
  }

  /**
   * Asks a yes/no question. Without a terminal, --yes is required, except for questions only a
   * person can answer (the phrase check), which then read one line from standard input.
   */
  async confirm(question: string, options: { assumeYes?: boolean; readPipe?: boolean; signal?: AbortSignal } = {}): Promise<boolean> {
    if (options.assumeYes) return true;
    if (!this.options.stdin.isTTY && !options.readPipe) throw noTerminalError();
    const answer = await this.readLine(`${question} [y/N] `, undefined, options.signal);
    return /^y(es)?$/i.test((answer ?? '').trim());
  }

  /** Reads one line: a prompt on a terminal, or the first line of piped input. */
  ask(question: string, completer?: (line: string) => [string[], string]): Promise<string | undefined> {
    return this.readLine(this.options.stdin.isTTY ? question : '', completer);
  }

  /**
   * One line from standard input after showing `prompt`; undefined when the input ends first.
   * Ctrl-C at the prompt is an interrupt, never an answer: it goes to the process's own handler
   * (exit 130, the other side told), and the question stays unanswered. A question withdrawn
   * through `signal` (the other side left) rejects.
   */
  private async readLine(prompt: string, completer?: (line: string) => [string[], string], signal?: AbortSignal): Promise<string | undefined> {
    const terminal = Boolean(this.options.stdin.isTTY);
    const reader = createInterface({ input: this.options.stdin, output: this.options.stderr, terminal, ...(terminal && completer ? { completer } : {}) });
    let interrupted = false;
    reader.on('SIGINT', () => {
      interrupted = true;
      process.kill(process.pid, 'SIGINT');
    });
    const ended = new Promise<undefined>((resolve) => reader.once('close', () => resolve(undefined)));
    const withdrawn = new Promise<never>((_resolve, reject) => {
      const withdraw = (): void => {
        this.options.stderr.write('\n');
        reject(new BeamError('declined', 'the question was withdrawn'));
      };
      if (signal?.aborted) withdraw();
      else signal?.addEventListener('abort', withdraw, { once: true });
    });
    withdrawn.catch(() => undefined);
    try {
      const answer = await Promise.race([reader.question(prompt), ended, withdrawn]);
      // The input closing because of Ctrl-C is no answer either: wait for the handler to exit.
      if (interrupted) return await new Promise<never>(() => undefined);
      return answer;
    } finally {
      reader.close();
    }
  }

  /** A warning that must stand out: red on a colour terminal. */
  alarm(message: string): void {
    const colour = Boolean(this.options.stderr.isTTY) && this.options.color !== false;
    if (this.options.json) this.emit('warning', { message, severity: 'high' });
    else if (colour) this.line(this.options.stderr, `warning: ${message}`, ['\u001b[1;31m', '\u001b[0m']);
    else this.line(this.options.stderr, `warning: ${message}`);
  }

  /**
   * Every human line passes through here, and every terminal control sequence in it is removed:
   * messages quote hostnames, paths and names that came from the peer or from a session file.
   */
  private line(stream: NodeJS.WriteStream, text: string, [before, after] = ['', '']): void {
    if (this.progressShown) {
      this.options.stderr.write('\n');
      this.progressShown = false;
    }
    // Line by line, so that an unterminated sequence cannot swallow the lines after it.
    const safe = text.split('\n').map(stripTerminalControls).join('\n');
    stream.write(`${before}${safe}${after}\n`);
  }
}

export function noTerminalError(): BeamError {
  return new BeamError('declined', 'confirmation needed but there is no terminal to ask on: pass --yes to accept');
}
