import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

/**
 * The folder where copilot-beam keeps what it may run again (its compile cache), and the checks
 * that keep anyone else from choosing its contents. A file there is code we execute, so on
 * POSIX systems the folder must be ours and private, and so must every file we read from it, and
 * no folder above it may let someone else swap it (OpenSSH's StrictModes, the same rule).
 */

/** The environment variable that turns the cache off ("0", "off" or "false"). */
export const COMPILE_CACHE_ENV = 'COPILOT_BEAM_COMPILE_CACHE';

/** Where the cache lives by the platform's conventions, or undefined when it is turned off or there is no home. */
export function compileCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, home: () => string = homedir): string | undefined {
  const setting = env[COMPILE_CACHE_ENV]?.trim().toLowerCase();
  if (setting === '0' || setting === 'off' || setting === 'false') return undefined;
  const base = cacheBase(env, platform, home);
  return base && isAbsolute(base) ? join(base, 'copilot-beam') : undefined;
}

function cacheBase(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: () => string): string | undefined {
  if (platform === 'win32') return env.LOCALAPPDATA;
  if (platform !== 'darwin' && env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return env.XDG_CACHE_HOME;
  try {
    return join(home(), ...(platform === 'darwin' ? ['Library', 'Caches'] : ['.cache']));
  } catch {
    return undefined; // a user with no home (no HOME, no passwd entry): no cache
  }
}

/**
 * Makes the folder if it is missing (private, and only below a folder of this user's: a root
 * process with someone else's HOME must not leave root-owned folders in it) and says whether it
 * is safe to keep code in. Never throws.
 */
export function preparePrivateFolder(dir: string): boolean {
  try {
    if (process.platform === 'win32') {
      // LOCALAPPDATA is the user's own; Windows has no mode bits to check.
      mkdirSync(dir, { recursive: true });
      return lstatSync(dir).isDirectory();
    }
    if (!exists(dir)) {
      if (!ownedByUs(lstatSync(nearestExisting(dir)))) return false;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    const stats = lstatSync(dir);
    return stats.isDirectory() && ownedByUs(stats) && (stats.mode & 0o077) === 0 && ancestorsKeepOthersOut(dirname(dir));
  } catch {
    return false; // an unwritable home, a read-only file system: no cache, nothing else changes
  }
}

/**
 * A private file of this user's, read through one descriptor opened without following a link,
 * so what was checked is what is read. Undefined for anything else, or anything larger than
 * `mostBytes`.
 */
export function readPrivateFile(path: string, mostBytes: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > mostBytes) return undefined;
    if (process.platform !== 'win32' && (!ownedByUs(stats) || (stats.mode & 0o022) !== 0 || stats.nlink !== 1)) return undefined;
    const data = readFileSync(fd);
    // Changed since it was checked (shorter or longer): not ours to trust.
    return data.length === stats.size ? data : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function ownedByUs(stats: Stats): boolean {
  return stats.uid === process.getuid?.();
}

/** Only the sticky bit lets a folder others may write keep them from renaming what is in it (/tmp). */
const STICKY = 0o1000;

/**
 * Every folder above, as named and as the links in the name resolve, is root's or ours, and none
 * lets others rename what is in it unless sticky: no one else can swap our folder for theirs
 * between our checks and our reads.
 */
function ancestorsKeepOthersOut(dir: string): boolean {
  return chainKeepsOthersOut(dir) && chainKeepsOthersOut(realpathSync(dir));
}

function chainKeepsOthersOut(dir: string): boolean {
  for (let current = dir; ; current = dirname(current)) {
    const stats = lstatSync(current);
    if (stats.uid !== 0 && !ownedByUs(stats)) return false;
    // A link's own mode means nothing; where it points is judged by the resolved chain.
    if (!stats.isSymbolicLink() && (stats.mode & 0o022) !== 0 && (stats.mode & STICKY) === 0) return false;
    if (dirname(current) === current) return true;
  }
}

function nearestExisting(dir: string): string {
  let current = dir;
  while (!exists(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
