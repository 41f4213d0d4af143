import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { BeamError } from '../../errors.js';
import type { WorkDescription } from './description.js';
import { runGit, type GitOptions } from './git-runner.js';
import { missingBase } from './plan.js';
import { isGitFolderName, whyWorkPathIsUnsafe } from './patch-paths.js';
import { GITLINK_MODE, parseRawDiff, SYMLINK_MODE, type RawChange } from './raw-diff.js';

/** git's id of the empty tree: what a history with no base is compared against. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';


/**
 * The commits the work brings, as git itself reads them (not as a regex reads a patch): every
 * path they add or change must be one the receiver may write, no submodule, and a symbolic link
 * only to a place inside the tree. Run after the bundle's objects are in, before any ref points
 * at them.
 */
export async function vetCommits(checkout: string, description: WorkDescription, git: GitOptions): Promise<void> {
  // Where the work starts must be the receiver's own history: reachable from its refs (not from a
  // beam/ branch an earlier beam made, nor an object an earlier, refused bundle left behind).
  const [missing] = await missingBase(checkout, description);
  if (missing) {
    throw new BeamError('install', `the work starts at commit ${missing.slice(0, 12)}, which is not on any branch of ${checkout}: run "git fetch" there and receive again`);
  }
  if (description.commits === 0) return;
  const links = await linksIn(checkout, description.head, git);
  const bases = description.base.length > 0 ? description.base : [EMPTY_TREE];
  for (const base of bases) {
    const raw = await runGit(checkout, ['diff-tree', '-r', '-z', '--raw', '--no-renames', base, description.head], git);
    for (const change of parseRawDiff(raw)) {
      const why = await whyChangeIsRefused(change, checkout, git, links);
      if (why) throw new BeamError('protocol', `the carried work was refused: its commits ${why}`);
    }
  }
}


/** Every symbolic link in a commit's tree: a new link may not lead through one. */
async function linksIn(checkout: string, commit: string, git: GitOptions): Promise<ReadonlySet<string>> {
  const fields = (await runGit(checkout, ['ls-tree', '-r', '-z', commit], git)).toString('utf8').split('\0');
  const links = new Set<string>();
  for (const entry of fields) {
    const tab = entry.indexOf('\t');
    if (tab > 0 && entry.startsWith(`${SYMLINK_MODE} `)) links.add(entry.slice(tab + 1));
  }
  return links;
}

/**
 * The staged and unstaged patches, applied by git to a scratch index on top of the work's HEAD:
 * a patch that does not fit fails here, before anything is written, and what git made of it is
 * checked path by path (a symbolic link or a submodule in a patch is refused outright). Returns
 * the files the patches create, so that undoing a landing can remove them.
 */
export async function vetPatches(checkout: string, head: string, patches: { readonly staged?: string; readonly unstaged?: string }, git: GitOptions): Promise<string[]> {
  const pieces = (['staged', 'unstaged'] as const).filter((what) => patches[what] !== undefined);
  if (pieces.length === 0) return [];
  const scratch = await mkdtemp(join(tmpdir(), 'copilot-beam-index-'));
  const inScratch: GitOptions = { ...git, env: { GIT_INDEX_FILE: join(scratch, 'index') } };
  const created: string[] = [];
  try {
    await runGit(checkout, ['read-tree', head], inScratch);
    for (const what of pieces) {
      const input = Buffer.from(patches[what]!, 'latin1');
      const applied = await runGit(checkout, ['apply', '--cached', '-'], { ...inScratch, input }).catch((error: unknown) => error);
      if (applied instanceof Error) {
        throw new BeamError('install', `the ${what} changes do not apply here (${applied.message.replace(/^git apply failed: /, '')}): nothing was changed`);
      }
      // After each patch, not only at the end: a staged link the unstaged patch deletes again
      // would otherwise sit in the index, one checkout away from the disk.
      const raw = await runGit(checkout, ['diff-index', '--cached', '--raw', '-z', '--no-renames', head], inScratch);
      for (const change of parseRawDiff(raw)) {
        const why = await whyChangeIsRefused(change, checkout, git, 'refuse links');
        if (why) throw new BeamError('protocol', `the carried work was refused: its ${what} changes ${why}`);
        if (change.status === 'A' && !created.includes(change.path)) created.push(change.path);
      }
    }
    return created;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}


async function whyChangeIsRefused(change: RawChange, checkout: string, git: GitOptions, links: ReadonlySet<string> | 'refuse links'): Promise<string | undefined> {
  const shown = JSON.stringify(change.path.slice(0, 200));
  const unsafe = whyWorkPathIsUnsafe(change.path);
  if (unsafe) return `touch ${shown}: ${unsafe}`;
  if (change.oldMode === GITLINK_MODE || change.newMode === GITLINK_MODE) return `change the submodule ${shown}`;
  if (change.status === 'D' || change.newMode !== SYMLINK_MODE) return undefined;
  if (links === 'refuse links') return `make ${shown} a symbolic link`;
  const target = (await runGit(checkout, ['cat-file', 'blob', change.newSha], git)).toString('utf8');
  return whyLinkLeaves(change.path, target, links) ? `make ${shown} a symbolic link to ${JSON.stringify(target.slice(0, 200))}, which may lead outside the tree` : undefined;
}

/**
 * A link target that is absolute, has a ".." step at all (a chain of such links climbs out one
 * step at a time), passes through another link, or points into .git.
 */
function whyLinkLeaves(path: string, target: string, links: ReadonlySet<string>): boolean {
  if (target === '' || /[\0\n\r\\]/.test(target) || target.startsWith('/') || /^[a-zA-Z]:/.test(target)) return true;
  if (target.split('/').some((segment) => segment === '..')) return true;
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  const segments = resolved.split('/');
  if (segments.some(isGitFolderName)) return true;
  for (let end = 1; end <= segments.length; end++) {
    if (links.has(segments.slice(0, end).join('/'))) return true;
  }
  return false;
}
