import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The npm package of the real client. */
const CLIENT_PACKAGE = '@github/copilot';

/**
 * The version of the `copilot` on PATH ("GitHub Copilot CLI 1.0.102."), or undefined. Asked of
 * the client itself, which starts all of it (0.15 s, about 1 s in a fresh home).
 */
export async function installedCopilotVersion(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  try {
    const { stdout } = await run('copilot', ['--version'], { timeout: 10_000, env });
    return /(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The copilot here, when it is older than `version` (undefined when it is not, or there is none).
 * An npm install answers most cases without starting the client: its package's version is a
 * floor, not the version that runs (its command is a loader that runs whatever newer version the
 * client updated itself to, github/copilot-cli#4402), but a floor at or above `version` settles
 * it. Otherwise the client is asked.
 */
export async function copilotOlderThan(version: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const floor = await npmPackageVersion(env);
  if (floor !== undefined && compareVersions(floor, version) >= 0) return undefined;
  const running = await installedCopilotVersion(env);
  return running !== undefined && compareVersions(running, version) < 0 ? running : undefined;
}

/** The version in the package.json of the npm install that the first `copilot` on PATH belongs to. */
async function npmPackageVersion(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    // An empty entry is the current folder to a shell; the client is then asked, as before.
    if (folder === '') return undefined;
    const command = await realpath(join(folder, 'copilot')).catch(() => undefined);
    if (command === undefined) continue;
    return packageVersionAbove(command);
  }
  return undefined;
}

/** npm links the command to a file inside the package: its package.json is a folder or two up. */
async function packageVersionAbove(file: string): Promise<string | undefined> {
  let folder = dirname(file);
  for (let depth = 0; depth < 3; depth++, folder = dirname(folder)) {
    const text = await readFile(join(folder, 'package.json'), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      const { name, version } = JSON.parse(text) as { name?: unknown; version?: unknown };
      return name === CLIENT_PACKAGE && typeof version === 'string' ? /^\d+\.\d+\.\d+/.exec(version)?.[0] : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
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
