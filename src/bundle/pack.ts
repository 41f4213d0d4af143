import { createHash } from 'node:crypto';
import { lstat, open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BeamError } from '../errors.js';
import type { ManifestFile } from './manifest.js';

export interface ScannedFolder {
  readonly directories: string[];
  readonly files: ManifestFile[];
  /** Entries left out because they are not regular files or the caller left them out. */
  readonly skipped: string[];
}

export interface ListOptions {
  /** Entries (by path and name) that never travel: a folder left out is not walked. */
  readonly leaveOut?: (path: string, name: string, isFolder: boolean) => boolean;
}

/** A file found by listFolder, before it is hashed. */
export interface ListedFile {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
}

export interface ListedFolder {
  readonly directories: string[];
  readonly files: ListedFile[];
  readonly skipped: string[];
}

/** Walks the folder with lstat (links are never followed) and hashes every regular file. */
export async function scanFolder(root: string, options: ListOptions = {}): Promise<ScannedFolder> {
  const listed = await listFolder(root, options);
  return { ...listed, files: await hashListed(root, listed.files) };
}

/** Walks the folder with lstat (links are never followed); no file is read. */
export async function listFolder(root: string, options: ListOptions = {}): Promise<ListedFolder> {
  const result: ListedFolder = { directories: [], files: [], skipped: [] };
  await walk(root, '', result, options.leaveOut ?? (() => false));
  result.directories.sort();
  result.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return result;
}

/** Hashes listed files; the size is what was read, so a file that changed since is caught later. */
export async function hashListed(root: string, files: readonly ListedFile[]): Promise<ManifestFile[]> {
  const hashed: ManifestFile[] = [];
  for (const file of files) {
    const { sha256, size } = await hashFile(join(root, file.path));
    hashed.push({ path: file.path, size, mode: file.mode, sha256 });
  }
  return hashed;
}

async function walk(root: string, relative: string, result: ListedFolder, leaveOut: NonNullable<ListOptions['leaveOut']>): Promise<void> {
  const entries = await readdir(join(root, relative));
  for (const name of entries) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const stats = await lstat(join(root, path));
    if (stats.isDirectory() && !leaveOut(path, name, true)) {
      result.directories.push(path);
      await walk(root, path, result, leaveOut);
    } else if (stats.isFile() && !leaveOut(path, name, false)) {
      result.files.push({ path, size: stats.size, mode: stats.mode & 0o777 });
    } else {
      result.skipped.push(path);
    }
  }
}

/** One buffer, reused for every read: hashing a large session allocates nothing per chunk. */
const HASH_BUFFER_BYTES = 1024 * 1024;
let hashBuffer: Buffer | undefined;

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  let handle: FileHandle | undefined;
  // Concurrent callers would share the buffer: each borrows it, or makes its own.
  const buffer = hashBuffer ?? Buffer.allocUnsafe(HASH_BUFFER_BYTES);
  hashBuffer = undefined;
  try {
    handle = await open(path, 'r');
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
  } catch (error) {
    throw new BeamError('session', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle?.close();
    hashBuffer = buffer;
  }
  return { sha256: hash.digest('hex'), size };
}
