import { execFileSync, spawnSync } from 'node:child_process';

/** Drives a real terminal: a program in a detached tmux session, read back with capture-pane. */
export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V']).status === 0;
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export class Terminal {
  private constructor(readonly name: string) {}

  /** Runs `argv` with `env` in a new 120x50 terminal; the pane stays after exit and shows "EXIT:<code>". */
  static start(name: string, argv: readonly string[], env: Record<string, string>): Terminal {
    const assignments = Object.entries(env).map(([key, value]) => `${key}=${quote(value)}`).join(' ');
    const command = `env ${assignments} ${argv.map(quote).join(' ')}; echo EXIT:$?; sleep 600`;
    execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', '120', '-y', '50', command]);
    return new Terminal(name);
  }

  type(...keys: string[]): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, ...keys]);
  }

  screen(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-t', this.name], { encoding: 'utf8' });
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`terminal never showed ${pattern}:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.name]);
  }
}
