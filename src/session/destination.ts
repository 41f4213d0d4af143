import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SourceEnvironment } from './manifest.js';
import { BeamError } from '../errors.js';
import { checkoutAt, repositoryIdentity } from './repository.js';

/** Where GitHub Codespaces keep their checkouts. */
export const CODESPACES_WORKSPACES = '/workspaces';

export interface Destination {
  /** The source root (git root, else cwd) and what it maps to here; absent when paths stay. */
  readonly mapping?: { readonly from: string; readonly to: string };
  /** Why this destination was chosen (or why none was), for the user. */
  readonly reason: string;
}

export interface DestinationOptions {
  readonly cwdOption?: string;
  readonly currentDir: string;
  readonly workspacesDir?: string;
}

/** The folder given with --cwd, resolved; refused when it is not a folder on this machine. */
export async function checkoutFolder(given: string): Promise<string> {
  const folder = resolve(given);
  if (!(await stat(folder).catch(() => undefined))?.isDirectory()) {
    throw new BeamError('usage', `--cwd ${given} is not a folder on this machine`);
  }
  return folder;
}

/**
 * Picks the checkout the session's paths should point to here: --cwd if given; else the current
 * checkout when its origin is the same repository; else a checkout of it under /workspaces;
 * else none, and the paths stay as they were.
 */
export async function chooseDestination(source: SourceEnvironment, options: DestinationOptions): Promise<Destination> {
  const from = source.gitRoot ?? source.cwd;
  if (options.cwdOption !== undefined) {
    const to = await checkoutFolder(options.cwdOption);
    if (!from) return { reason: 'the sender did not record where the session ran, so there is nothing to remap' };
    return { mapping: { from, to }, reason: 'given with --cwd' };
  }
  if (!from) return { reason: 'the sender did not record where the session ran, so there is nothing to remap' };
  const wanted = source.git?.remote ? repositoryIdentity(source.git.remote) : undefined;
  if (!wanted) {
    return { reason: `the session's folder ${from} has no known git remote: pass --cwd to map it to a folder here` };
  }
  const current = await checkoutAt(options.currentDir);
  if (current?.identity === wanted) return { mapping: { from, to: current.root }, reason: `this checkout is ${wanted}` };
  const workspaces = options.workspacesDir ?? CODESPACES_WORKSPACES;
  for (const name of (await readdir(workspaces).catch(() => [] as string[])).sort()) {
    const candidate = await checkoutAt(join(workspaces, name));
    if (candidate?.identity === wanted) return { mapping: { from, to: candidate.root }, reason: `found ${wanted} in ${workspaces}` };
  }
  return { reason: `no checkout of ${wanted} found here (current folder, ${workspaces}): paths stay as they were; pass --cwd to map them` };
}
