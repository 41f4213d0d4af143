import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A repository's identity independent of how it was cloned: `git@github.com:Owner/App.git`,
 * `https://github.com/owner/app` and `ssh://git@github.com/owner/app.git` are all
 * `github.com/owner/app`.
 */
export function repositoryIdentity(remoteUrl: string): string | undefined {
  const url = remoteUrl.trim();
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(url);
  let host: string;
  let path: string;
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    try {
      const parsed = new URL(url);
      host = parsed.hostname;
      path = parsed.pathname;
    } catch {
      return undefined;
    }
  }
  const cleanPath = path.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
  if (!host || !cleanPath) return undefined;
  return `${host}/${cleanPath}`.toLowerCase();
}

/** Runs git in `cwd`; its trimmed output, or undefined when git fails, is missing or prints nothing. */
export async function git(cwd: string, args: readonly string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', ['-C', cwd, ...args], { timeout: 3000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface Checkout {
  readonly root: string;
  readonly identity?: string;
}

/** The git checkout containing `dir`, with the identity of its origin remote, if any. */
export async function checkoutAt(dir: string): Promise<Checkout | undefined> {
  const root = await git(dir, ['rev-parse', '--show-toplevel']);
  if (!root) return undefined;
  const remote = await git(root, ['remote', 'get-url', 'origin']);
  const identity = remote ? repositoryIdentity(remote) : undefined;
  return identity ? { root, identity } : { root };
}
