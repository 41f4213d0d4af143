import { type Manifest, MANIFEST_FORMAT } from '../bundle/manifest.js';
import { scanFolder } from '../bundle/pack.js';
import { assertNotInUse } from './busy.js';
import { chooseSession } from './choose.js';
import type { SessionLocation } from './find.js';
import { describeSource, readWorkspace } from './source-info.js';

export interface OutgoingSession {
  readonly location: SessionLocation;
  readonly manifest: Manifest;
  /** Entries left out of the bundle (locks, links, devices). */
  readonly skipped: readonly string[];
}

/**
 * Everything the sender needs before it shows a code: the session exists, no Copilot is
 * writing it, and every file is hashed. Nothing in the session folder is modified.
 */
export async function prepareOutgoing(home: string, query: string | undefined, currentDir: string): Promise<OutgoingSession> {
  const location = await chooseSession(home, query, currentDir);
  await assertNotInUse(location.dir, location.id);
  const workspace = await readWorkspace(location.dir);
  const [scanned, source] = await Promise.all([scanFolder(location.dir), describeSource(location.dir, workspace)]);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    sessionId: location.id,
    ...(workspace.name ? { sessionName: workspace.name } : {}),
    ...(workspace.updatedAt ? { updatedAt: workspace.updatedAt } : {}),
    source,
    directories: scanned.directories,
    files: scanned.files,
    totalBytes: scanned.files.reduce((sum, file) => sum + file.size, 0),
  };
  return { location, manifest, skipped: scanned.skipped };
}
