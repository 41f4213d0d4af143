import { chmod, lstat, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BeamError } from '../../errors.js';
import { WORK_FILES, type WorkDescription } from './description.js';
import { filtersOff, gitSucceeds, gitText, runGit, type GitOptions } from './git-runner.js';
import { whyPatchIsRefused, whyWorkPathIsUnsafe } from './patch-paths.js';
import type { WorkPlan } from './plan.js';
import { readBundleHeader } from './bundle-file.js';
import { UndoJournal } from './undo-journal.js';
import { vetCommits, vetPatches } from './vet.js';

export interface ApplyRequest {
  readonly plan: WorkPlan;
  /** The folder holding the carried pieces (WORK_FILES), verified. */
  readonly workDir: string;
  readonly description: WorkDescription;
}

export interface AppliedWork {
  /** Where the work landed: the checkout itself, or the new worktree. */
  readonly root: string;
  /** The branch it is on, under beam/. */
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
 * untracked. Everything is checked first, as git reads it (the commits' trees, the patches
 * applied to a scratch index); only then is anything written. A checkout with changes of its own
 * is never touched, ignored files are never overwritten, and a failure on the way undoes every
 * step taken (objects the bundle added stay, unreachable, until git collects them).
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
  await vetCommits(checkout, description, git);
  const createdByPatches = await vetPatches(checkout, head, patches, git);
  // The plan was made before the session arrived: what it relied on is checked again.
  if (inPlace && (await gitText(checkout, ['status', '--porcelain=v1', '--untracked-files=all'], git)) !== '') {
    throw new BeamError('install', `${checkout} changed while the session arrived: nothing was applied; receive again`);
  }
  const journal = new UndoJournal();
  const undo = async (): Promise<void> => {
    const failures = await journal.undoAll();
    if (failures.length > 0) throw new BeamError('install', `the work could not be taken back out completely: ${failures.join('; ')}`);
  };
  try {
    await runGit(checkout, ['update-ref', `refs/heads/${branch}`, head, '0'.repeat(40)], git);
    journal.record(`delete branch ${branch}`, async () => {
      // Never the branch the checkout is on (its return failed): HEAD would name nothing.
      const current = await gitText(checkout, ['symbolic-ref', '--quiet', 'HEAD'], git).catch(() => '');
      if (current === `refs/heads/${branch}`) throw new Error(`${checkout} is still on ${branch}`);
      await runGit(checkout, ['update-ref', '-d', `refs/heads/${branch}`, head], git);
    });
    if (inPlace) await switchInPlace(checkout, branch, journal, git);
    else await addWorktree(plan, journal, git);
    const gitHere: GitOptions = { side: 'receiver', config: await filtersOff(root) };
    // Files the patches create that the unstaged one leaves out of the index: a return to the
    // previous branch would not remove them.
    for (const path of createdByPatches) {
      if (!(await lstat(join(root, path)).catch(() => undefined))) journal.record(`remove ${path}`, () => rm(join(root, path), { force: true }));
    }
    if (patches.staged !== undefined) await runGit(root, ['apply', '--index', '-'], { ...gitHere, input: Buffer.from(patches.staged, 'latin1') });
    if (patches.unstaged !== undefined) await runGit(root, ['apply', '-'], { ...gitHere, input: Buffer.from(patches.unstaged, 'latin1') });
    await writeUntracked(root, workDir, description, journal);
    const status = await gitText(root, ['status', '--porcelain=v2', '--ignore-submodules=all', '--untracked-files=all'], gitHere);
    return { root, branch, inPlace, status, undo };
  } catch (error) {
    const failures = await journal.undoAll();
    if (failures.length > 0) {
      throw new BeamError('install', `${error instanceof Error ? error.message : String(error)}; and undoing it failed: ${failures.join('; ')}`, { cause: error });
    }
    throw error;
  }
}

/**
 * The clean checkout moves to the new branch. Its ignored files stay as they are: git refuses
 * the switch rather than overwrite one. Undoing returns it, index and files, to where it was
 * (everything changed since is the work's: the checkout was clean).
 */
async function switchInPlace(checkout: string, branch: string, journal: UndoJournal, git: GitOptions): Promise<void> {
  const previousBranch = await gitText(checkout, ['symbolic-ref', '--quiet', 'HEAD'], git).catch(() => undefined);
  const previousCommit = await gitText(checkout, ['rev-parse', 'HEAD'], git);
  // Journaled first: a checkout that fails halfway is returned too.
  journal.record(`return ${checkout} to ${previousBranch ?? previousCommit}`, async () => {
    // By commit, then HEAD re-attached by its full name: a tag of the same name cannot get in the way.
    await runGit(checkout, ['checkout', '--quiet', '--force', '--no-overwrite-ignore', '--detach', previousCommit], git);
    if (previousBranch) await runGit(checkout, ['symbolic-ref', 'HEAD', previousBranch], git);
  });
  const switched = await runGit(checkout, ['checkout', '--quiet', '--no-overwrite-ignore', branch], git).catch((error: unknown) => error);
  if (switched instanceof Error) {
    throw new BeamError('install', `the work cannot land in ${checkout} without touching files of its own (${switched.message.replace(/^git checkout failed: /, '')}): receive again with --worktree <dir>`);
  }
}

async function addWorktree(plan: WorkPlan, journal: UndoJournal, git: GitOptions): Promise<void> {
  const { checkout, root, branch } = plan;
  if (await stat(root).catch(() => undefined)) throw new BeamError('install', `${root} already exists: choose another folder with --worktree`);
  const created = plan.createsFolder ?? root;
  journal.record(`remove ${created}`, () => rm(created, { recursive: true, force: true }));
  await runGit(checkout, ['worktree', 'add', '--quiet', root, branch], git);
  // Its own record only: other worktrees' records (a folder on an unmounted disk) stay.
  journal.record(`remove the worktree ${root}`, () => runGit(checkout, ['worktree', 'remove', '--force', root], git));
}

async function readPatches(workDir: string, description: WorkDescription): Promise<{ staged?: string; unstaged?: string }> {
  const read = async (present: boolean, name: string): Promise<string | undefined> => {
    if (!present) return undefined;
    const patch = await readFile(join(workDir, name), 'latin1');
    // A first look; what git makes of the patch is checked again in vetPatches.
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
    const header = await readBundleHeader(bundle);
    if (!header) throw new BeamError('protocol', 'the carried work was refused: its commits are not a git bundle this copilot-beam reads');
    if (header.refs.length !== 1 || header.refs[0]!.sha !== head) throw new BeamError('protocol', 'the carried work was refused: its commits do not end at the HEAD it names');
    const needs = [...header.prerequisites].sort().join(' ');
    if (needs !== [...description.base].sort().join(' ')) throw new BeamError('protocol', 'the carried work was refused: its commits build on other commits than its description says');
    // Every object checked as git fsck would (bundle unbundle checks none), then kept.
    const pack = (await readFile(bundle)).subarray(header.packOffset);
    await runGit(checkout, ['index-pack', '--stdin', '--fix-thin', '--strict'], { ...git, input: pack });
  }
  if (!(await gitSucceeds(checkout, ['cat-file', '-e', `${head}^{commit}`], git))) {
    throw new BeamError('install', `this checkout lacks commit ${head.slice(0, 12)}, where the work starts: run "git fetch" in ${checkout} and receive again`);
  }
  return head;
}

/**
 * Untracked files, each created new (never over a file that is there, ignored or not) and never
 * through a symbolic link; each one, and each folder made for it, is journaled as it is made.
 */
async function writeUntracked(root: string, workDir: string, description: WorkDescription, journal: UndoJournal): Promise<void> {
  for (const file of description.untracked) {
    const target = join(root, file.path);
    await refuseLinkOnTheWay(root, file.path);
    const madeFolder = await mkdir(dirname(target), { recursive: true }).catch((error: unknown) => {
      throw new BeamError('install', `the work's new file ${file.path} cannot be made here (${(error as NodeJS.ErrnoException).code ?? String(error)}): receive again with --worktree <dir>`);
    });
    if (madeFolder) journal.record(`remove ${madeFolder}`, () => rm(madeFolder, { recursive: true, force: true }));
    const content = await readFile(join(workDir, WORK_FILES.untracked, file.path));
    // 'wx': an untracked file never replaces one that is there.
    await writeFile(target, content, { flag: 'wx', mode: 0o600 }).catch((error: unknown) => {
      const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
      throw new BeamError('install', `the work's new file ${file.path} ${exists ? 'is there already (an ignored file?)' : 'cannot be written'}: receive again with --worktree <dir>`);
    });
    journal.record(`remove ${file.path}`, () => rm(target, { force: true }));
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
