import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BeamError } from '../../errors.js';
import type { WorkDescription } from './description.js';
import { filtersOff, gitSucceeds, gitText, type GitOptions } from './git-runner.js';

/**
 * Where carried work will land, decided before the session is received (its paths are remapped
 * to `root` as they arrive): the checkout itself when it is clean, else a new worktree.
 */
export interface WorkPlan {
  /** The receiver's checkout of the same repository (its root). */
  readonly checkout: string;
  /** The checkout itself, or the new worktree's folder. */
  readonly root: string;
  /** The new branch's name, under beam/ (without refs/heads/). */
  readonly branch: string;
  readonly inPlace: boolean;
  /** The outermost folder a new worktree creates (it and its parents may not exist yet). */
  readonly createsFolder?: string;
}

/**
 * What the receiver must fetch before the work can land here: the commits it starts from (its
 * base, or HEAD when nothing is unpushed) that are not on this repository's own branches. Asked
 * before anything is received, so a receiver that needs a fetch says so before the transfer,
 * and again before the work lands.
 */
export async function missingBase(checkout: string, description: WorkDescription): Promise<string[]> {
  const git: GitOptions = { side: 'receiver' };
  const starts = description.commits === 0 ? [description.head] : description.base;
  const missing: string[] = [];
  for (const sha of starts) {
    if (!(await isOwnHistory(checkout, sha, git))) missing.push(sha);
  }
  return missing;
}

/** Reachable from the repository's own refs, beam/ branches left aside. */
async function isOwnHistory(checkout: string, sha: string, git: GitOptions): Promise<boolean> {
  if (!(await gitText(checkout, ['cat-file', '-t', sha], git).then((type) => type === 'commit', () => false))) return false;
  const outside = await gitText(checkout, ['rev-list', '-n1', sha, '--not', '--exclude=refs/heads/beam/*', '--all'], git).catch(() => 'unknown');
  return outside === '';
}


/**
 * Plans the landing: a new branch beam/<label> (or -2, -3... when taken), in `checkout` when it
 * has no changes of its own and no `worktree` was asked for, else in a new worktree at `worktree`
 * or beside the checkout.
 */
export async function planWork(checkout: string, label: string, worktree?: string): Promise<WorkPlan> {
  const git: GitOptions = { side: 'receiver', config: await filtersOff(checkout) };
  const branch = await freeBranchName(checkout, label, git);
  const clean = (await gitText(checkout, ['status', '--porcelain=v1', '--untracked-files=all'], git)) === '';
  const inPlace = worktree === undefined && clean;
  if (inPlace) return { checkout, root: checkout, branch, inPlace };
  const root = resolve(worktree ?? (await freeSiblingFolder(checkout, branch)));
  if (await stat(root).catch(() => undefined)) throw new BeamError('usage', `${root} already exists: choose a new folder for the work with --worktree`);
  return { checkout, root, branch, inPlace, createsFolder: await outermostMissing(root) };
}

/** The first folder on the way to `path` that does not exist (what creating it creates). */
async function outermostMissing(path: string): Promise<string> {
  let missing = path;
  for (let parent = dirname(missing); parent !== missing && !(await stat(parent).catch(() => undefined)); parent = dirname(parent)) missing = parent;
  return missing;
}

/** A branch name part git accepts: lower case words, no ".lock" ends, no "..", at most 60 characters. */
function slugOf(label: string): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.\.+/g, '.')
    .replace(/(\.lock)+$/, '')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60)
    .replace(/[-.]+$/, '');
  return slug || 'session';
}

/** beam/<label>, or beam/<label>-2, -3... when taken. */
async function freeBranchName(checkout: string, label: string, git: GitOptions): Promise<string> {
  // A branch called "beam" leaves no room for branches under beam/.
  if (await gitSucceeds(checkout, ['show-ref', '--verify', '--quiet', 'refs/heads/beam'], git)) {
    throw new BeamError('install', `${checkout} has a branch called "beam", so the work's branch beam/... cannot be made: rename that branch`);
  }
  const slug = slugOf(label);
  for (let suffix = 1; suffix < 100; suffix++) {
    const name = `beam/${slug}${suffix === 1 ? '' : `-${suffix}`}`;
    const fallback = `beam/session${suffix === 1 ? '' : `-${suffix}`}`;
    const valid = await gitSucceeds(checkout, ['check-ref-format', `refs/heads/${name}`], git);
    const candidate = valid ? name : fallback;
    if (!(await gitSucceeds(checkout, ['show-ref', '--verify', '--quiet', `refs/heads/${candidate}`], git))) return candidate;
  }
  throw new BeamError('install', `too many beam/${slug} branches already: delete some`);
}

/** <checkout>-beam-<name> beside the checkout, or with -2, -3... when taken. */
async function freeSiblingFolder(checkout: string, branch: string): Promise<string> {
  const base = join(dirname(checkout), `${basename(checkout)}-${branch.replace(/\//g, '-')}`);
  for (let suffix = 1; suffix < 100; suffix++) {
    const candidate = suffix === 1 ? base : `${base}-${suffix}`;
    if (!(await stat(candidate).catch(() => undefined))) return candidate;
  }
  throw new BeamError('install', `no free folder beside ${checkout} for the work: choose one with --worktree`);
}
