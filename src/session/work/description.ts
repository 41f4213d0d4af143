/**
 * The work in progress of a session's checkout, as it travels beside the session: what the
 * receiver needs to rebuild the same state (the same commits, the same staged and unstaged
 * changes, the same untracked files) and to check that it did.
 */
export interface WorkDescription {
  readonly format: 1;
  /** The branch the source was on; absent when its HEAD was detached. */
  readonly branch?: string;
  /** The commit the source's HEAD was at. */
  readonly head: string;
  /** Commits no remote branch contains, carried in `commits.bundle`; 0 when HEAD is on a remote. */
  readonly commits: number;
  /**
   * The commits the work builds on, which the receiver must already have: the bundle's
   * prerequisites, or HEAD itself when nothing is unpushed. Checked before anything is received.
   */
  readonly base: readonly string[];
  /** `staged.patch` (index against HEAD) travels. */
  readonly staged: boolean;
  /** `unstaged.patch` (working tree against index) travels. */
  readonly unstaged: boolean;
  /** Untracked, not ignored files, each under `untracked/` with its permission bits. */
  readonly untracked: readonly UntrackedFile[];
  /** The source's `git status --porcelain=v2` after the capture: the receiver should show the same. */
  readonly status: string;
}

export interface UntrackedFile {
  readonly path: string;
  readonly mode: number;
}

/** Names of the carried pieces inside the work folder. */
export const WORK_FILES = {
  bundle: 'commits.bundle',
  staged: 'staged.patch',
  unstaged: 'unstaged.patch',
  untracked: 'untracked',
} as const;

/** What a person is shown before deciding to carry the work. */
export interface WorkSummary {
  readonly branch?: string;
  readonly commits: number;
  /** Tracked files with staged or unstaged changes. */
  readonly changedFiles: number;
  readonly newFiles: number;
  /** Bytes of everything carried (bundle, patches, untracked files). */
  readonly bytes: number;
  /** Left behind: symbolic links, submodule changes, special files; each with why. */
  readonly leftOut: readonly string[];
}
