import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real command-line entry, so demos and tests run exactly what a user runs. */
export const BEAM_BIN = fileURLToPath(new URL('../../bin/copilot-beam', import.meta.url));

export interface BeamProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or 128 + signal number) once the process has exited. */
  readonly exited: Promise<number>;
  stdout: string;
  stderr: string;
}

export function spawnBeam(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void,
  cwd?: string,
  /** A command that runs the rest, e.g. ["ip", "netns", "exec", "<namespace>"]. */
  wrapper: readonly string[] = [],
): BeamProcess {
  const argv = [...wrapper, process.execPath, BEAM_BIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  const beam: BeamProcess = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    }),
  };
  for (const name of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[name]!.setEncoding('utf8');
    child[name]!.on('data', (text: string) => {
      beam[name] += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine?.(name, line);
    });
  }
  return beam;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : signal === 'SIGINT' ? 2 : 0;
}
