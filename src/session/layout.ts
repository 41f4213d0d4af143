import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The files a Copilot CLI session folder holds (1.0.102): the history, the workspace, the plan,
 * the todos database, checkpoints, session artifacts and rewind snapshots. Anything else is not
 * the client's (a hook configuration, an instructions file, a repository), never travels and is
 * never installed.
 */
const TOP_FILES = new Set(['events.jsonl', 'workspace.yaml', 'plan.md', 'session.db']);
/** Folders whose whole tree belongs to the session. */
const OPEN_FOLDERS = ['checkpoints', 'files', 'research'];
const REWIND = 'rewind-file-snapshots';
const REWIND_FILES = new Set([`${REWIND}/index.json`, `${REWIND}/tracking.json`]);
/** Content-addressed backups: hex names only. */
const REWIND_BACKUP = new RegExp(`^${REWIND}/backups/[0-9a-f]{16,128}$`);

export function isSessionFile(path: string): boolean {
  return TOP_FILES.has(path) || REWIND_FILES.has(path) || REWIND_BACKUP.test(path) || OPEN_FOLDERS.some((folder) => path.startsWith(`${folder}/`));
}

export function isSessionFolder(path: string): boolean {
  return path === REWIND || path === `${REWIND}/backups` || OPEN_FOLDERS.some((folder) => path === folder || path.startsWith(`${folder}/`));
}

/**
 * Removes from a staged session every file and folder outside the layout; returns their paths
 * (a folder's own entries are not listed once the folder is).
 */
export async function removeForeignEntries(dir: string, listing: { readonly directories: readonly string[]; readonly files: ReadonlyArray<{ readonly path: string }> }): Promise<string[]> {
  const foreignFolders = listing.directories.filter((path) => !isSessionFolder(path));
  const outermost = foreignFolders.filter((path) => !foreignFolders.some((other) => path.startsWith(`${other}/`)));
  const insideRemoved = (path: string): boolean => outermost.some((folder) => path.startsWith(`${folder}/`));
  const foreignFiles = listing.files.map((file) => file.path).filter((path) => !isSessionFile(path) && !insideRemoved(path));
  const removed = [...outermost, ...foreignFiles].sort();
  for (const path of removed) await rm(join(dir, path), { recursive: true, force: true });
  return removed;
}
