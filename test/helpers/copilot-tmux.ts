import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { COPILOT_BIN, copilotAvailable, copilotEnv } from './copilot-cli.js';
import { tmuxAvailable } from './tmux.js';

/**
 * The real Copilot CLI in a real terminal: a detached tmux session on a private tmux server (so
 * other tests' terminals are never touched), read back with capture-pane.
 */

/** The bottom status line's mode and permission, e.g. "Interactive · Manual Approval", "Autopilot (limited) · Manual Approval". */
export const STATUS_LINE = /((?:Interactive|Plan|Autopilot)(?: \([a-z ]+\))?) · (Manual Approval|Allow All|Assisted Permissions|[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+)?)/;
export const APPROVAL_BOX = /Do you want to run this command\?/;
/** Submitting a prompt in Autopilot without Allow All; its default choice is "Enable all permissions". */
export const AUTOPILOT_DIALOG = /Enable autopilot mode/;
const FOLDER_TRUST = /Confirm folder trust/;

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function statusOf(screen: string): string | undefined {
  const lines = screen.split('\n').filter((line) => STATUS_LINE.test(line));
  const match = lines.length > 0 ? STATUS_LINE.exec(lines.at(-1)!) : null;
  return match ? `${match[1]} · ${match[2]}` : undefined;
}

export class CopilotTerminal {
  private constructor(
    readonly socket: string,
    readonly name: string,
    readonly copilotHome: string,
  ) {}

  /**
   * `copilot <args> --no-auto-update` with only the offline environment of copilotEnv() (env -i),
   * in `cwd`, in a 160x50 terminal. The pane stays after the client exits and shows "EXIT:<code>".
   */
  static start(options: { socket: string; name: string; copilotHome: string; modelUrl: string; cwd: string; args: readonly string[] }): CopilotTerminal {
    const env = { ...copilotEnv(options.copilotHome, options.modelUrl), TERM: 'xterm-256color' };
    const assignments = Object.entries(env)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => `${key}=${quote(value)}`)
      .join(' ');
    const argv = [COPILOT_BIN, ...options.args, '--no-auto-update'].map(quote).join(' ');
    const command = `env -i ${assignments} ${argv}; echo EXIT:$?; sleep 600`;
    execFileSync('tmux', ['-L', options.socket, 'new-session', '-d', '-s', options.name, '-x', '160', '-y', '50', '-c', options.cwd, command]);
    return new CopilotTerminal(options.socket, options.name, options.copilotHome);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** Types the text literally; Enter is a separate key press (keys("Enter")). */
  typeText(text: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', text);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.name);
  }

  /** Polls the screen (and anything else) until `done` returns a value; throws with the screen on timeout. */
  async until<T>(what: string, done: (screen: string) => T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      const value = done(screen);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  /**
   * Waits for a resumed session to be ready: answers "Confirm folder trust" with Enter (its
   * default, "Yes") and returns the status line once it shows. Throws if the client exits.
   */
  async ready(timeoutMs = 60_000): Promise<string> {
    let trustAnsweredAt = 0;
    return this.until(
      'the status line',
      (screen) => {
        if (/^EXIT:\d+/m.test(screen)) throw new Error(`the client exited before it was ready:\n${screen}`);
        if (FOLDER_TRUST.test(screen)) {
          if (Date.now() - trustAnsweredAt > 3_000) {
            this.keys('Enter');
            trustAnsweredAt = Date.now();
          }
          return undefined;
        }
        return statusOf(screen);
      },
      timeoutMs,
    );
  }

  /** Types a prompt, waits until the input shows it, then presses Enter. */
  async submit(prompt: string): Promise<void> {
    this.typeText(prompt);
    await this.until('the typed prompt', (screen) => (screen.includes(prompt) ? true : undefined), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    this.keys('Enter');
  }

  /**
   * Quits: Escape (refuses an open approval box), then /exit; kills the tmux session, then every
   * process still running with this COPILOT_HOME. Returns the pids that were still alive after the
   * client was asked to exit and the tmux session was gone (they were killed).
   */
  async quit(timeoutMs = 20_000): Promise<{ exitedCleanly: boolean; leftover: number[] }> {
    let exitedCleanly = false;
    try {
      if (!/^EXIT:\d+/m.test(this.screen())) {
        this.keys('Escape');
        await this.until('the input', (screen) => (statusOf(screen) || /^EXIT:\d+/m.test(screen) ? true : undefined), 10_000).catch(() => undefined);
        this.typeText('/exit');
        await new Promise((resolve) => setTimeout(resolve, 500));
        this.keys('Enter');
      }
      await this.until('the client to exit', (screen) => (/^EXIT:\d+/m.test(screen) ? true : undefined), timeoutMs);
      exitedCleanly = true;
    } catch {
      // killed below
    }
    spawnSync('tmux', ['-L', this.socket, 'kill-session', '-t', this.name]);
    const leftover = await waitForNoProcesses(this.copilotHome, 10_000);
    return { exitedCleanly, leftover };
  }
}

/** Pids of this user's processes started with COPILOT_HOME=<copilotHome> (Linux /proc). */
export function processesWithCopilotHome(copilotHome: string): number[] {
  const needle = Buffer.from(`\0COPILOT_HOME=${copilotHome}\0`);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${entry}/environ`)]);
      if (environ.includes(needle)) found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

/**
 * Waits until no process runs with that COPILOT_HOME; SIGKILLs (by pid) those left at the deadline
 * and returns them. An empty list means everything had exited by itself.
 */
export async function waitForNoProcesses(copilotHome: string, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = processesWithCopilotHome(copilotHome);
    if (pids.length === 0) return [];
    if (Date.now() > deadline) {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      return pids;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stops the private tmux server and removes its socket file (tmux leaves it behind). */
export function killTmuxServer(socket: string): void {
  spawnSync('tmux', ['-L', socket, 'kill-server']);
  rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
}

/** Why the real client cannot be driven interactively here (a test's skip reason), or false. */
export function interactiveClientUnavailable(): string | false {
  if (!tmuxAvailable()) return 'skipped: tmux is not installed';
  if (!copilotAvailable()) return 'skipped: @github/copilot is not installed (npm could not install it here)';
  if (!existsSync('/proc/self/environ')) return 'skipped: no /proc here to make sure no client process is left running';
  return false;
}
