import { chmod, lstat, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BeamError } from '../../errors.js';
import { WORK_FILES, type WorkDescription } from './description.js';
import { filtersOff, gitSucceeds, gitText, runGit, type GitOptions } from './git-runner.js';
import { whyPatchIsRefused, whyWorkPathIsUnsafe } from './patch-paths.js';

/**
 * Where carried work will land, decided before the session is received (its paths are remapped
 * to `root` as they arrive): the checkout itself when it is clean, else a new worktree.
 */
export interface WorkPlan {
  /** The receiver's checkout of the same repository (its root). */
  readonly checkout: string;
  /** The checkout itself, or the new worktree's folder. */
  readonly root: string;
  /** The new branch's name, under beam/. */
  readonly branch: string;
  readonly inPlace: boolean;
}

/**
 * What the receiver must fetch before the work can land here: the commits it builds on that this
 * repository lacks. Asked before anything is received, so a receiver that needs a fetch says so
 * before the transfer, not after.
 */
export async function missingBase(checkout: string, description: WorkDescription): Promise<string[]> {
  const git: GitOptions = { side: 'receiver' };
  const missing: string[] = [];
  for (const sha of description.base) {
    if (!(await gitSucceeds(checkout, ['cat-file', '-e', `${sha}^{commit}`], git))) missing.push(sha);
  }
  return missing;
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
  const root = inPlace ? checkout : resolve(worktree ?? (await freeSiblingFolder(checkout, branch)));
  if (!inPlace && (await stat(root).catch(() => undefined))) throw new BeamError('usage', `${root} already exists: choose a new folder for the work with --worktree`);
  return { checkout, root, branch, inPlace };
}

export interface ApplyRequest {
  readonly plan: WorkPlan;
  /** The folder holding the carried pieces (WORK_FILES), verified. */
  readonly workDir: string;
  readonly description: WorkDescription;
}

export interface AppliedWork {
  /** Where the work landed: the checkout itself, or the new worktree. */
  readonly root: string;
  /** The branch it is on (refs/heads/beam/...). */
  readonly branch: string;
  readonly inPlace: boolean;
  /** `git status --porcelain=v2` there now; equal to the source's when nothing differs. */
  readonly status: string;
  /** Puts the repository back as it was (for a session install that fails after this). */
  undo(): Promise<void>;
}

/**
 * Rebuilds the source's work in the receiver's repository: its commits on a new branch under
 * beam/, then its staged changes staged, its unstaged changes unstaged and its untracked files
 * untracked. A checkout with changes of its own is never touched: the work then goes into a new
 * worktree. Every piece is checked before anything is written, and a failure on the way puts the
 * repository back as it was (objects the bundle added stay unreachable until git collects them).
 */
export async function applyWork(request: ApplyRequest): Promise<AppliedWork> {
  const { plan, workDir, description } = request;
  const { checkout, root, branch, inPlace } = plan;
  const patches = await readPatches(workDir, description);
  for (const file of description.untracked) {
    const why = whyWorkPathIsUnsafe(file.path);
    if (why) throw new BeamError('protocol', `the carried work was refused: untracked file ${JSON.stringify(file.path)}: ${why}`);
  }
  const git: GitOptions = { side: 'receiver', config: await filtersOff(checkout) };
  const head = await bringHead(checkout, workDir, description, git);
  // The plan was made before the session arrived: what it relied on is checked again.
  if (inPlace && (await gitText(checkout, ['status', '--porcelain=v1', '--untracked-files=all'], git)) !== '') {
    throw new BeamError('install', `${checkout} changed while the session arrived: nothing was applied; receive again`);
  }
  const undo: Array<() => Promise<unknown>> = [];
  const rollBack = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    await runGit(checkout, ['update-ref', `refs/heads/${branch}`, head, '0'.repeat(40)], git);
    undo.push(() => runGit(checkout, ['update-ref', '-d', `refs/heads/${branch}`], git));
    if (inPlace) {
      const previous = await gitText(checkout, ['symbolic-ref', '--quiet', 'HEAD'], git).catch(() => undefined);
      const previousCommit = await gitText(checkout, ['rev-parse', 'HEAD'], git);
      await runGit(checkout, ['checkout', '--quiet', branch], git);
      undo.push(async () => {
        await runGit(checkout, ['reset', '--quiet', '--hard'], git);
        await cleanOurUntracked(checkout, description);
        await runGit(checkout, ['checkout', '--quiet', previous ? previous.replace(/^refs\/heads\//, '') : previousCommit], git);
      });
    } else {
      if (await stat(root).catch(() => undefined)) throw new BeamError('install', `${root} already exists: choose another folder with --worktree`);
      await runGit(checkout, ['worktree', 'add', '--quiet', root, branch], git);
      undo.push(async () => {
        await runGit(checkout, ['worktree', 'remove', '--force', root], git).catch(() => rm(root, { recursive: true, force: true }));
        await runGit(checkout, ['worktree', 'prune'], git);
      });
    }
    const gitHere: GitOptions = { side: 'receiver', config: await filtersOff(root) };
    if (patches.staged !== undefined) await applyPatch(root, patches.staged, ['--index'], 'staged', gitHere);
    if (patches.unstaged !== undefined) await applyPatch(root, patches.unstaged, [], 'unstaged', gitHere);
    await writeUntracked(root, workDir, description);
    const status = await gitText(root, ['status', '--porcelain=v2', '--ignore-submodules=all', '--untracked-files=all'], gitHere);
    return { root, branch: `refs/heads/${branch}`, inPlace, status, undo: rollBack };
  } catch (error) {
    await rollBack();
    throw error;
  }
}

async function readPatches(workDir: string, description: WorkDescription): Promise<{ staged?: string; unstaged?: string }> {
  const read = async (present: boolean, name: string): Promise<string | undefined> => {
    if (!present) return undefined;
    const patch = await readFile(join(workDir, name), 'latin1');
    const why = whyPatchIsRefused(patch);
    if (why) throw new BeamError('protocol', `the carried work was refused: ${name}: ${why}`);
    return patch;
  };
  const staged = await read(description.staged, WORK_FILES.staged);
  const unstaged = await read(description.unstaged, WORK_FILES.unstaged);
  return { ...(staged === undefined ? {} : { staged }), ...(unstaged === undefined ? {} : { unstaged }) };
}

/** The source's HEAD commit here: from the bundle, or already in the repository. */
async function bringHead(checkout: string, workDir: string, description: WorkDescription, git: GitOptions): Promise<string> {
  const head = description.head;
  if (!/^[0-9a-f]{40}$/.test(head)) throw new BeamError('protocol', 'the carried work was refused: its HEAD is not a commit id');
  if (description.commits > 0) {
    const bundle = join(workDir, WORK_FILES.bundle);
    const verified = await gitSucceeds(checkout, ['bundle', 'verify', '--quiet', bundle], git);
    if (!verified) {
      throw new BeamError(
        'install',
        `the work's ${description.commits} unpushed commit(s) build on commits this checkout lacks: run "git fetch" in ${checkout} and receive again`,
      );
    }
    const heads = (await gitText(checkout, ['bundle', 'list-heads', bundle], git)).split('\n').map((line) => line.split(' ')[0]);
    if (heads.length !== 1 || heads[0] !== head) throw new BeamError('protocol', 'the carried work was refused: its commits do not end at the HEAD it names');
    await runGit(checkout, ['bundle', 'unbundle', bundle], git);
  }
  if (!(await gitSucceeds(checkout, ['cat-file', '-e', `${head}^{commit}`], git))) {
    throw new BeamError('install', `this checkout lacks commit ${head.slice(0, 12)}, where the work starts: run "git fetch" in ${checkout} and receive again`);
  }
  return head;
}

/** `git apply --check` first: a patch that does not fit changes nothing. */
async function applyPatch(root: string, patch: string, extra: readonly string[], what: string, git: GitOptions): Promise<void> {
  // Read from standard input, so the patch is never a file in the tree git could pick up.
  const input = Buffer.from(patch, 'latin1');
  const check = await runGit(root, ['apply', '--check', ...extra, '-'], { ...git, input }).catch((error: unknown) => error);
  if (check instanceof Error) {
    throw new BeamError('install', `the ${what} changes do not apply here (${check.message.replace(/^git apply failed: /, '')}): nothing was changed`);
  }
  await runGit(root, ['apply', ...extra, '-'], { ...git, input });
}

async function writeUntracked(root: string, workDir: string, description: WorkDescription): Promise<void> {
  for (const file of description.untracked) {
    const target = join(root, file.path);
    await refuseLinkOnTheWay(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    // 'wx': an untracked file never replaces one that is there.
    await writeFile(target, await readFile(join(workDir, WORK_FILES.untracked, file.path)), { flag: 'wx', mode: 0o600 });
    await chmod(target, file.mode & 0o755);
  }
}

/** No folder on the way to `path` may be a symbolic link: writing through one could leave the tree. */
async function refuseLinkOnTheWay(root: string, path: string): Promise<void> {
  const segments = path.split('/').slice(0, -1);
  let at = root;
  for (const segment of segments) {
    at = join(at, segment);
    const info = await lstat(at).catch(() => undefined);
    if (info?.isSymbolicLink()) throw new BeamError('protocol', `the carried work was refused: ${path} would be written through a symbolic link`);
  }
}

async function cleanOurUntracked(root: string, description: WorkDescription): Promise<void> {
  for (const file of description.untracked) await rm(join(root, file.path), { force: true });
}

/** beam/<label>, or beam/<label>-2, -3... when taken. */
async function freeBranchName(checkout: string, label: string, git: GitOptions): Promise<string> {
  const slug = label.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').replace(/\.\.+/g, '.').slice(0, 60) || 'session';
  for (let suffix = 1; suffix < 100; suffix++) {
    const name = `beam/${slug}${suffix === 1 ? '' : `-${suffix}`}`;
    const valid = await gitSucceeds(checkout, ['check-ref-format', `refs/heads/${name}`], git);
    if (!valid) throw new BeamError('internal', `cannot name a branch after ${JSON.stringify(label)}`);
    if (!(await gitSucceeds(checkout, ['show-ref', '--verify', '--quiet', `refs/heads/${name}`], git))) return name;
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
