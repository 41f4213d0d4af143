import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_FOLDER_MODE } from '../private-files.js';
import { beamWorkDir, sessionDir } from './home.js';
import type { SessionManifest } from './manifest.js';

/**
 * What a beam installed, kept beside session-state (never inside a session): the offer it came
 * from, the checkout its paths point to, and the installed folder's fingerprint. When the same
 * sender offers the same session at the same point again and nothing here has touched the copy
 * since, receiving it is a no-op instead of a "replace it?" question.
 */
interface Receipt {
  readonly format: 1;
  /** How receiving transformed the session: a receiver that transforms differently reinstalls. */
  readonly transform: number;
  readonly offer: string;
  readonly checkout: string | null;
  readonly installed: string;
  readonly receivedAt: string;
}

/**
 * Bumped whenever what the receiver does to a session changes (the transform, the layout it
 * keeps): a copy made by an older receiver is then replaced, not kept as "already here".
 */
export const TRANSFORM_REVISION = 1;

/**
 * The same offer: the whole validated manifest (files, hashes, source), in a canonical order. Not
 * whether a file travelled compressed: that is how its bytes came, not what was installed, and
 * which files do changes with the sender's version (binaries that compress do since issue 16).
 */
export function offerDigest(manifest: SessionManifest): string {
  const files = manifest.files.map((file) => [file.path, file.size, file.mode, file.sha256]).sort(byFirst);
  const directories = [...manifest.directories].sort();
  const { sessionName, updatedAt, source, secrets } = manifest;
  return createHash('sha256').update(JSON.stringify([manifest.sessionId, directories, files, sessionName ?? null, updatedAt ?? null, source, secrets ?? null])).digest('hex');
}

export interface AlreadyHere {
  /** When the copy here was received. */
  readonly receivedAt: string;
}

/**
 * The installed copy of this session came from exactly this offer, mapped to the same checkout,
 * and has not changed since (Copilot resuming it here appends to its history, which changes it).
 */
export async function alreadyHere(home: string, manifest: SessionManifest, checkout: string | undefined): Promise<AlreadyHere | undefined> {
  const receipt = await readReceipt(home, manifest.sessionId);
  if (!receipt || receipt.transform !== TRANSFORM_REVISION || receipt.offer !== offerDigest(manifest) || receipt.checkout !== (checkout ?? null)) return undefined;
  const installed = await folderFingerprint(sessionDir(home, manifest.sessionId)).catch(() => undefined);
  return installed === receipt.installed ? { receivedAt: receipt.receivedAt } : undefined;
}

/** Written after the install; losing it only costs a question the next time, so failures are ignored. */
export async function recordReceipt(home: string, manifest: SessionManifest, checkout: string | undefined): Promise<void> {
  try {
    const receipt: Receipt = {
      format: 1,
      transform: TRANSFORM_REVISION,
      offer: offerDigest(manifest),
      checkout: checkout ?? null,
      installed: await folderFingerprint(sessionDir(home, manifest.sessionId)),
      receivedAt: new Date().toISOString(),
    };
    const folder = receiptsDir(home);
    await mkdir(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    const path = receiptPath(home, manifest.sessionId);
    const partial = `${path}.${process.pid}.partial`;
    await writeFile(partial, JSON.stringify(receipt), { mode: 0o600 });
    await rename(partial, path);
  } catch {
    // no receipt: the next beam of this session asks before replacing it
  }
}

function receiptsDir(home: string): string {
  return join(beamWorkDir(home), 'received');
}

function receiptPath(home: string, sessionId: string): string {
  return join(receiptsDir(home), `${sessionId}.json`);
}

async function readReceipt(home: string, sessionId: string): Promise<Receipt | undefined> {
  try {
    const parsed = JSON.parse(await readFile(receiptPath(home, sessionId), 'utf8')) as Partial<Receipt>;
    const valid =
      parsed.format === 1 &&
      typeof parsed.transform === 'number' &&
      typeof parsed.offer === 'string' &&
      typeof parsed.installed === 'string' &&
      typeof parsed.receivedAt === 'string' &&
      (parsed.checkout === null || typeof parsed.checkout === 'string');
    return valid ? (parsed as Receipt) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every entry's path, type, size, mode, modification and change time and inode: any write
 * Copilot or a person makes to the copy changes it (a restore that keeps sizes and modification
 * times still changes the change time), and it costs one stat per file, not reading gigabytes.
 */
async function folderFingerprint(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(join(root, relative))).sort();
    for (const name of names) {
      const path = relative ? `${relative}/${name}` : name;
      const info = await lstat(join(root, path));
      const type = info.isDirectory() ? 'd' : info.isFile() ? 'f' : 'o';
      hash.update(JSON.stringify([path, type, info.size, info.mtimeMs, info.ctimeMs, info.ino, info.mode]));
      if (info.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return hash.digest('hex');
}

function byFirst(a: readonly unknown[], b: readonly unknown[]): number {
  return String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0;
}
