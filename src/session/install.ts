import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFileData } from '../bundle/write-back.js';
import { BeamError } from '../errors.js';
import { PRIVATE_FOLDER_MODE } from '../private-files.js';
import { formatBytes } from '../format.js';
import { beamWorkDir, sessionDir, sessionStateDir } from './home.js';
import { isProcessAlive } from './process-alive.js';

/**
 * Incoming sessions are written to a staging folder beside session-state (never inside it, so a
 * receiver killed even with SIGKILL leaves nothing Copilot would see) and renamed into place only
 * once every byte is verified. Same filesystem, so the rename is atomic.
 */
export interface Staging {
  readonly dir: string;
}

function stagingRoot(home: string): string {
  return join(beamWorkDir(home), 'staging');
}

function backupRoot(home: string): string {
  return join(beamWorkDir(home), 'backups');
}

export async function sessionExists(home: string, sessionId: string): Promise<boolean> {
  return (await stat(sessionDir(home, sessionId)).catch(() => undefined)) !== undefined;
}

export async function createStaging(home: string): Promise<Staging> {
  await removeAbandonedStaging(home);
  const root = stagingRoot(home);
  await mkdir(root, { recursive: true, mode: PRIVATE_FOLDER_MODE });
  const dir = join(root, `${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: PRIVATE_FOLDER_MODE });
  return { dir };
}

export async function discardStaging(staging: Staging): Promise<void> {
  await rm(staging.dir, { recursive: true, force: true });
}

/** Staging folders are named after their process; those whose process is gone are debris. */
export async function removeAbandonedStaging(home: string): Promise<void> {
  const root = stagingRoot(home);
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !isProcessAlive(pid)) {
      await rm(join(root, name), { recursive: true, force: true });
    }
  }
}

export async function assertRoomFor(home: string, bytes: number): Promise<void> {
  await mkdir(home, { recursive: true, mode: PRIVATE_FOLDER_MODE });
  const fs = await statfs(home);
  const free = fs.bavail * fs.bsize;
  // Headroom for metadata and the files Copilot will add when it resumes.
  const needed = bytes + 16 * 1024 * 1024;
  if (free < needed) {
    throw new BeamError(
      'install',
      `not enough disk space in ${home}: the session needs ${formatBytes(needed)}, ${formatBytes(free)} is free`,
    );
  }
}

export function existsError(home: string, sessionId: string): BeamError {
  return new BeamError(
    'install',
    `session ${sessionId} already exists in ${sessionStateDir(home)}: pass --force to replace it (the old copy is kept as a backup)`,
    { forPeer: `the receiver already has session ${sessionId} and kept its copy` },
  );
}

export interface InstallResult {
  readonly target: string;
  readonly backup?: string;
}

/** Moves a verified staging folder into session-state/<id>; with force, the old one becomes a backup. */
export async function commitStaging(home: string, staging: Staging, sessionId: string, force: boolean): Promise<InstallResult> {
  const target = sessionDir(home, sessionId);
  await syncTree(staging.dir);
  await mkdir(sessionStateDir(home), { recursive: true, mode: PRIVATE_FOLDER_MODE });
  let backup: string | undefined;
  if (await sessionExists(home, sessionId)) {
    if (!force) throw existsError(home, sessionId);
    await mkdir(backupRoot(home), { recursive: true, mode: PRIVATE_FOLDER_MODE });
    backup = join(backupRoot(home), `${sessionId}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    await rename(target, backup);
  }
  try {
    await rename(staging.dir, target);
  } catch (error) {
    if (backup) await rename(backup, target).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EXDEV') {
      throw new BeamError('install', `${sessionStateDir(home)} is on another filesystem than ${beamWorkDir(home)}: cannot install atomically`, { cause: error });
    }
    throw error;
  }
  await syncDirectory(sessionStateDir(home));
  return backup ? { target, backup } : { target };
}

/**
 * Every file and folder of the staged session reaches the disk before the rename publishes it:
 * after a crash the session is either absent or whole, never present with empty files.
 */
async function syncTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return syncTree(path);
      if (entry.isFile()) await syncFileData(path);
    }),
  );
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
