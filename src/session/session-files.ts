import { listFolder, scanFolder, type ListedFolder, type ListOptions, type ScannedFolder } from '../bundle/pack.js';
import { isSessionFile, isSessionFolder } from './layout.js';

/**
 * Lock and in-use markers belong to the process that made them on the source machine; copied,
 * they would make the receiver's Copilot believe the session is open elsewhere.
 */
export function isMachineLocalFile(name: string): boolean {
  return name.endsWith('.lock') || /^inuse\.\d+\.hold$/.test(name);
}

/** Locks stay on this machine; what is not part of a session's layout never travels. */
const SESSION_ENTRIES: ListOptions = {
  leaveOut: (path, name, isFolder) => isMachineLocalFile(name) || !(isFolder ? isSessionFolder(path) : isSessionFile(path)),
};

/** The files of a session folder that travel, not yet hashed; the rest is listed as skipped. */
export function listSessionFolder(dir: string): Promise<ListedFolder> {
  return listFolder(dir, SESSION_ENTRIES);
}

/** The files of a session folder that travel, hashed; the rest is listed as skipped. */
export function scanSessionFolder(dir: string): Promise<ScannedFolder> {
  return scanFolder(dir, SESSION_ENTRIES);
}
