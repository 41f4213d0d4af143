import { spawn, spawnSync, type ChildProcessByStdio, type SpawnOptionsWithStdioTuple } from 'node:child_process';
import type { Readable } from 'node:stream';
import { existsSync } from 'node:fs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochMs } from './measure.js';

/**
 * Peak RSS must come from the kernel's own accounting of the process (wait4's ru_maxrss), not
 * from sampling, which misses short peaks. Node cannot wait4 a child, so a few lines of Python
 * (on every machine of this kind) fork, exec and report it. The wrapper adds ~20 ms of start-up
 * to every measured command alike.
 */
const WAIT4_WRAPPER = [
  'import os, sys',
  'pid = os.fork()',
  'if pid == 0:',
  '    os.execvp(sys.argv[2], sys.argv[2:])',
  '_, status, usage = os.wait4(pid, 0)',
  "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}')",
  'sys.exit(os.waitstatus_to_exitcode(status))',
].join('\n');

export interface MeasuredExit {
  readonly status: number;
  /** Bytes; undefined when no Python could measure it. */
  readonly peakRss: number | undefined;
  /** User plus system CPU time in milliseconds; undefined like peakRss. */
  readonly cpuMs: number | undefined;
  readonly endedAt: number;
}

export interface MeasuredProcess {
  readonly exited: Promise<MeasuredExit>;
  output(): string;
  kill(): void;
}

export type LineHandler = (stream: 'stdout' | 'stderr', line: string, at: number) => void;

let python: string | null | undefined;
/** Process groups still running, for stopMeasured() when the bench is interrupted. */
const running = new Set<number>();

function findPython(): string | null {
  if (python !== undefined) return python;
  // The system interpreter starts in ~20 ms; a pyenv shim costs far more.
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    if (candidate.startsWith('/') && !existsSync(candidate)) continue;
    if (spawnSync(candidate, ['-c', 'import os; os.wait4; os.waitstatus_to_exitcode'], { stdio: 'ignore' }).status === 0) {
      return (python = candidate);
    }
  }
  return (python = null);
}

export function canMeasureRss(): boolean {
  return findPython() !== null;
}

/** Spawns a command, hands every output line to `onLine` with its arrival time, and reports exit and peak RSS. */
export function spawnMeasured(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; onLine?: LineHandler },
): MeasuredProcess {
  const interpreter = findPython();
  const scratch = interpreter ? mkdtempSync(join(tmpdir(), 'copilot-beam-rss-')) : undefined;
  const rssFile = scratch ? join(scratch, 'maxrss') : undefined;
  // Its own process group, so a failed run can stop the wrapper and the command together.
  const spawnOptions: SpawnOptionsWithStdioTuple<'ignore', 'pipe', 'pipe'> = {
    env: options.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  };
  const child: ChildProcessByStdio<null, Readable, Readable> = interpreter
    ? spawn(interpreter, ['-c', WAIT4_WRAPPER, rssFile!, command, ...args], spawnOptions)
    : spawn(command, args, spawnOptions);
  let output = '';
  for (const name of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[name].setEncoding('utf8');
    child[name].on('data', (text: string) => {
      const at = epochMs();
      output += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onLine?.(name, line, at);
    });
  }
  if (child.pid !== undefined) running.add(child.pid);
  const exited = new Promise<MeasuredExit>((resolve) => {
    child.on('close', (code, signal) => {
      if (child.pid !== undefined) running.delete(child.pid);
      const endedAt = epochMs();
      let peakRss: number | undefined;
      let cpuMs: number | undefined;
      if (rssFile) {
        try {
          const [maxRssKiB, cpuSeconds] = readFileSync(rssFile, 'utf8').split(' ').map(Number);
          peakRss = maxRssKiB! * 1024; // ru_maxrss is in KiB on Linux
          cpuMs = cpuSeconds! * 1000;
        } catch {
          peakRss = undefined;
        }
        rmSync(scratch!, { recursive: true, force: true });
      }
      resolve({ status: code ?? (signal ? 128 : 1), peakRss, cpuMs, endedAt });
    });
  });
  return { exited, output: () => output, kill: () => killGroup(child.pid) };
}

/** Where each side of a transfer runs: a command prefix such as `ip netns exec <namespace>`, or here. */
export interface Placement {
  readonly sender?: readonly string[];
  readonly receiver?: readonly string[];
}

/**
 * spawnMeasured behind a prefix that execs the command (`ip netns exec` does: it enters the
 * namespace and execs, so wait4 still sees the command's own peak RSS and CPU).
 */
export function spawnPlaced(
  prefix: readonly string[] | undefined,
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; onLine?: LineHandler },
): MeasuredProcess {
  if (!prefix || prefix.length === 0) return spawnMeasured(command, args, options);
  return spawnMeasured(prefix[0]!, [...prefix.slice(1), command, ...args], options);
}

/**
 * Kills every measured command still running. They run in process groups of their own (so a
 * failed run can stop a wrapper and its command together), which also keeps Ctrl-C from reaching them.
 */
export function stopMeasured(): void {
  for (const pid of running) killGroup(pid);
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
