import { copyFile, lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BeamError } from '../../errors.js';
import { WORK_FILES, type UntrackedFile, type WorkDescription, type WorkSummary } from './description.js';
import { gitSucceeds, gitText, runGit, type GitOptions } from './git-runner.js';
import { GITLINK_MODE, parseRawDiff, SYMLINK_MODE } from './raw-diff.js';

/** Context and hunk settings pinned: a person's diff.context=0 would make patches that never apply. */
const READ: GitOptions = { side: 'sender', failure: 'session', config: ['diff.context=3', 'diff.interHunkContext=0'] };

/** Options that make a patch the same whatever the person configured (prefixes, colour, external diff tools). */
const PATCH_OPTIONS = ['--binary', '--full-index', '--unified=3', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', '--ignore-submodules=all', '--src-prefix=a/', '--dst-prefix=b/'];

export interface CapturedWork {
  readonly description: WorkDescription;
  readonly summary: WorkSummary;
  /** The carried pieces, relative to the folder they were written to. */
  readonly files: readonly string[];
  /**
   * The unpushed commits as text (`git log -p`), written beside the work folder for the secret
   * scan only: the bundle itself is compressed, so a scan could not see into it.
   */
  readonly commitLog?: string;
}

/** Where the scan-only text of the unpushed commits goes, for work written to `into`. */
export function commitLogPath(into: string): string {
  return `${into}.unpushed-commits.txt`;
}

/**
 * Writes the work in progress of the checkout at `root` into `into`: commits no remote branch
 * contains (a git bundle), staged and unstaged changes (binary patches) and untracked files that
 * are not ignored. Only reads the checkout: nothing there changes, not even the index.
 */
export async function captureWork(root: string, into: string): Promise<CapturedWork> {
  const head = await gitText(root, ['rev-parse', '--verify', 'HEAD^{commit}'], READ).catch(() => {
    throw new BeamError('session', `${root} has no commit yet: there is no work to carry against`);
  });
  // The receiver matches checkouts by their origin, as it does for the session's paths.
  if (!(await gitText(root, ['remote', 'get-url', 'origin'], READ).catch(() => ''))) {
    throw new BeamError('session', `${root} has no "origin" remote: the receiver could not know it holds the same repository`);
  }
  const branch = await gitText(root, ['symbolic-ref', '--quiet', '--short', 'HEAD'], READ).catch(() => undefined);
  await mkdir(into, { recursive: true, mode: 0o700 });
  const files: string[] = [];
  const leftOut: string[] = [];

  const listed = (await gitText(root, ['rev-list', '--boundary', 'HEAD', '--not', '--remotes'], READ)).split('\n').filter(Boolean);
  const unpushed = listed.filter((line) => !line.startsWith('-'));
  const base = unpushed.length > 0 ? listed.filter((line) => line.startsWith('-')).map((line) => line.slice(1)) : [head];
  let commitLog: string | undefined;
  if (unpushed.length > 0) {
    await runGit(root, ['bundle', 'create', '--quiet', join(into, WORK_FILES.bundle), branch ? `refs/heads/${branch}` : 'HEAD', '--not', '--remotes'], READ);
    files.push(WORK_FILES.bundle);
    commitLog = commitLogPath(into);
    // --text shows binary files' bytes and first-parent diffs show merges: the scan sees all that was committed.
    const log = await runGit(
      root,
      ['log', '-p', '--root', '--text', '--diff-merges=first-parent', '--no-color', '--no-ext-diff', '--no-textconv', '--format=commit %H%n%B', 'HEAD', '--not', '--remotes'],
      READ,
    );
    await writeFile(commitLog, log, { mode: 0o600 });
  }
  await refuseWhatCannotLand(root);
  const staged = await runGit(root, ['diff', '--cached', ...PATCH_OPTIONS, 'HEAD'], READ);
  const unstaged = await runGit(root, ['diff', ...PATCH_OPTIONS], READ);
  for (const [name, patch] of [[WORK_FILES.staged, staged], [WORK_FILES.unstaged, unstaged]] as const) {
    if (patch.length === 0) continue;
    await writeFile(join(into, name), patch, { mode: 0o600 });
    files.push(name);
  }
  const leftBehind = new Set<string>();
  const untracked = await copyUntracked(root, into, leftOut, leftBehind);
  files.push(...untracked.map((file) => `${WORK_FILES.untracked}/${file.path}`));
  if (await hasSubmoduleChanges(root)) leftOut.push('changes inside submodules (never carried)');

  // What the receiver should show: the source's status, less the untracked entries left behind.
  const status = (await gitText(root, ['status', '--porcelain=v2', '--ignore-submodules=all', '--untracked-files=all'], READ))
    .split('\n')
    .filter((line) => !(line.startsWith('? ') && leftBehind.has(line.slice(2))))
    .join('\n');
  const description: WorkDescription = {
    format: 1,
    ...(branch ? { branch } : {}),
    head,
    commits: unpushed.length,
    base,
    staged: staged.length > 0,
    unstaged: unstaged.length > 0,
    untracked,
    status,
  };
  // Staged or unstaged, even when the two cancel out (a staged change undone in the working tree).
  const changed = await gitText(root, ['status', '--porcelain=v1', '--ignore-submodules=all', '--untracked-files=no'], READ);
  let bytes = 0;
  for (const file of files) bytes += (await stat(join(into, file))).size;
  const summary: WorkSummary = {
    ...(branch ? { branch } : {}),
    commits: unpushed.length,
    changedFiles: changed ? changed.split('\n').length : 0,
    newFiles: untracked.length,
    bytes,
    leftOut,
  };
  return { description, summary, files, ...(commitLog ? { commitLog } : {}) };
}

/**
 * Changes the receiver would refuse, said here before anything travels: a symbolic link changed
 * in the staged or unstaged work (commits are checked on the receiver; submodules are left out).
 */
async function refuseWhatCannotLand(root: string): Promise<void> {
  for (const args of [['diff', '--cached', '--raw', '-z', '--no-renames', '--ignore-submodules=all', 'HEAD'], ['diff', '--raw', '-z', '--no-renames', '--ignore-submodules=all']]) {
    for (const { oldMode, newMode, status, path } of parseRawDiff(await runGit(root, args, READ))) {
      const link = newMode === SYMLINK_MODE || (oldMode === SYMLINK_MODE && status !== 'D');
      if (link || oldMode === GITLINK_MODE || newMode === GITLINK_MODE) {
        throw new BeamError(
          'session',
          `--with-changes: ${path} is a ${link ? 'symbolic link' : 'submodule'} change, which copilot-beam does not carry uncommitted: commit it, or send without --with-changes`,
        );
      }
    }
  }
}

/** Untracked files the person's ignore rules let through; only regular files travel. */
async function copyUntracked(root: string, into: string, leftOut: string[], leftBehind: Set<string>): Promise<UntrackedFile[]> {
  const listed = (await runGit(root, ['ls-files', '--others', '--exclude-standard', '-z'], READ)).toString('utf8').split('\0').filter(Boolean);
  const copied: UntrackedFile[] = [];
  for (const path of listed.sort()) {
    const info = await lstat(join(root, path)).catch(() => undefined);
    if (!info) continue; // gone since it was listed
    if (!info.isFile()) {
      leftBehind.add(path);
      leftOut.push(`${path} (${info.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'})`);
      continue;
    }
    const target = join(into, WORK_FILES.untracked, path);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await copyFile(join(root, path), target);
    copied.push({ path, mode: info.mode & 0o777 });
  }
  return copied;
}

async function hasSubmoduleChanges(root: string): Promise<boolean> {
  const all = await gitText(root, ['status', '--porcelain=v1', '--ignore-submodules=none', '--untracked-files=no'], READ);
  const without = await gitText(root, ['status', '--porcelain=v1', '--ignore-submodules=all', '--untracked-files=no'], READ);
  return all !== without;
}

/** Whether `root` is a git checkout with a commit, so there could be work to carry. */
export async function isCheckoutWithHistory(root: string): Promise<boolean> {
  return gitSucceeds(root, ['rev-parse', '--verify', 'HEAD^{commit}'], READ);
}
