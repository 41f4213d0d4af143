import { execFile } from 'node:child_process';
import { readFile, realpath, stat } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The npm package of the real client. */
const CLIENT_PACKAGE = '@github/copilot';

/**
 * The version of the `copilot` on PATH (as in "GitHub Copilot CLI 1.0.102."), or undefined.
 * Installed from npm, its package says so: read there in a millisecond. Any other install is
 * asked with `copilot --version`, which starts the whole client (0.15 s, about 1 s in a fresh
 * home) on a CPU the beam needs.
 */
export async function installedCopilotVersion(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const executable = await onPath('copilot', env);
  if (!executable) return undefined;
  return (await versionOfNpmInstall(executable)) ?? (await versionFromClient(env));
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, name);
    const found = await stat(candidate).catch(() => undefined);
    if (found?.isFile() && (found.mode & 0o111) !== 0) return candidate;
  }
  return undefined;
}

/** npm links the command to a file inside the package: its package.json is a folder or two up. */
async function versionOfNpmInstall(executable: string): Promise<string | undefined> {
  let folder = dirname(await realpath(executable).catch(() => executable));
  for (let depth = 0; depth < 3; depth++, folder = dirname(folder)) {
    const manifest = await readFile(join(folder, 'package.json'), 'utf8').catch(() => undefined);
    if (manifest === undefined) continue;
    try {
      const { name, version } = JSON.parse(manifest) as { name?: unknown; version?: unknown };
      return name === CLIENT_PACKAGE && typeof version === 'string' ? /^(\d+\.\d+\.\d+)/.exec(version)?.[1] : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

async function versionFromClient(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const { stdout } = await run('copilot', ['--version'], { timeout: 10_000, env });
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
