import { listFolder, scanFolder, type ListedFolder, type ScannedFolder } from '../bundle/pack.js';

/**
 * Lock and in-use markers belong to the process that made them on the source machine; copied,
 * they would make the receiver's Copilot believe the session is open elsewhere.
 */
export function isMachineLocalFile(name: string): boolean {
  return name.endsWith('.lock') || /^inuse\.\d+\.hold$/.test(name);
}

/** The files of a session folder that travel (no locks), not yet hashed. */
export function listSessionFolder(dir: string): Promise<ListedFolder> {
  return listFolder(dir, { leaveOut: isMachineLocalFile });
}

/** The files of a session folder that travel (no locks), hashed. */
export function scanSessionFolder(dir: string): Promise<ScannedFolder> {
  return scanFolder(dir, { leaveOut: isMachineLocalFile });
}
