import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The version of the `copilot` on PATH ("GitHub Copilot CLI 1.0.102."), or undefined. Asked of
 * the client itself: the npm package's own version is not what runs, since its command is a
 * loader that runs whatever version the client updated itself to (github/copilot-cli#4402).
 * `signal` stops the question (and the client) when the answer is no longer wanted.
 */
export async function installedCopilotVersion(env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const { stdout } = await run('copilot', ['--version'], { timeout: 10_000, env, ...(signal ? { signal } : {}) });
    return /(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/** Numeric comparison of dotted versions; pre-release suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (version: string): number[] => version.split(/[.+-]/).slice(0, 3).map((part) => Number.parseInt(part, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    const difference = (x[i] ?? 0) - (y[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}
