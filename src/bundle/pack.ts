import { createHash } from 'node:crypto';
import { lstat, open, readdir, stat, type FileHandle } from 'node:fs/promises';
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

/**
 * What the file system says of a file: while all of it stays the same, so does the content (the
 * kernel updates mtime and ctime on every write). `stat` in nanoseconds, as git and rsync use it.
 */
export interface FileIdentity {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
}

export async function fileIdentity(path: string): Promise<FileIdentity> {
  const stats = await stat(path, { bigint: true });
  return { size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs, ino: stats.ino, dev: stats.dev };
}

/**
 * A file written within the last second may be written again within the same tick of the file
 * system's clock, leaving its identity as it was: such a file is hashed again as it is sent
 * (git's "racily clean" entries, the same trap).
 */
const RACY_NS = 1_000_000_000n;

function racy(identity: FileIdentity): boolean {
  return BigInt(Date.now()) * 1_000_000n - identity.mtimeNs < RACY_NS;
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
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

/** What a HashingReader found: the hash of every byte handed to it, and the identity that held. */
export interface ReadHash {
  readonly sha256: string;
  readonly size: number;
  readonly identity: FileIdentity | undefined;
}

/**
 * Hashes a file from the bytes another reader hands it, in order (the secret scan reads every
 * file anyway: hashing what it reads spares reading the session twice before the offer), and
 * notes the file's identity when it held while the file was read and is not racy: the sender can
 * then tell that a file is as hashed without reading it twice.
 */
export class HashingReader {
  private readonly hash = createHash('sha256');
  private size = 0;

  private constructor(
    private readonly path: string,
    private readonly before: FileIdentity | undefined,
  ) {}

  /** Call before the file is opened for reading. */
  static async start(path: string): Promise<HashingReader> {
    return new HashingReader(path, await fileIdentity(path).catch(() => undefined));
  }

  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.size += bytes.length;
  }

  /** Call once the last byte was handed in. */
  async finish(): Promise<ReadHash> {
    const after = this.before ? await fileIdentity(this.path).catch(() => undefined) : undefined;
    const held = this.before && after && sameIdentity(this.before, after) && after.size === BigInt(this.size) && !racy(after);
    return { sha256: this.hash.digest('hex'), size: this.size, identity: held ? after : undefined };
  }
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
