import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BeamError } from '../errors.js';
import type { ManifestFile } from './manifest.js';

export interface ScannedFolder {
  readonly directories: string[];
  readonly files: ManifestFile[];
  /** Entries left out because they are locks or not regular files, for the sender's summary. */
  readonly skipped: string[];
}

/**
 * Lock and in-use markers belong to the process that made them on the source machine; copied,
 * they would make the receiver's Copilot believe the session is open elsewhere.
 */
export function isMachineLocalFile(name: string): boolean {
  return name.endsWith('.lock') || /^inuse\.\d+\.hold$/.test(name);
}

/** Walks the folder with lstat (links are never followed) and hashes every regular file. */
export async function scanFolder(root: string): Promise<ScannedFolder> {
  const result: ScannedFolder = { directories: [], files: [], skipped: [] };
  await walk(root, '', result);
  result.directories.sort();
  result.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return result;
}

async function walk(root: string, relative: string, result: ScannedFolder): Promise<void> {
  const entries = await readdir(join(root, relative));
  for (const name of entries) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const stats = await lstat(join(root, path));
    if (stats.isDirectory()) {
      result.directories.push(path);
      await walk(root, path, result);
    } else if (stats.isFile() && !isMachineLocalFile(name)) {
      const { sha256, size } = await hashFile(join(root, path));
      result.files.push({ path, size, mode: stats.mode & 0o777, sha256 });
    } else {
      result.skipped.push(path);
    }
  }
}

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (error) {
    throw new BeamError('session', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return { sha256: hash.digest('hex'), size };
}
