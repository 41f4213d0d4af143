import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Manifest, type ManifestFile, MANIFEST_FORMAT } from '../bundle/manifest.js';
import { scanFolder } from '../bundle/pack.js';
import { assertNotInUse } from './busy.js';
import { chooseSession } from './choose.js';
import type { SessionLocation } from './find.js';
import { scanForSecrets, type SecretSummary } from './secrets/scan.js';
import { describeSource, readWorkspace } from './source-info.js';

export interface OutgoingSession {
  readonly location: SessionLocation;
  readonly manifest: Manifest;
  /** Entries left out of the bundle (locks, links, devices). */
  readonly skipped: readonly string[];
  readonly secrets: SecretSummary;
  /** Where to read a file from: the session folder, or its redacted copy. */
  locate(file: ManifestFile): string;
  /** Removes the redacted copies, if any. */
  dispose(): Promise<void>;
}

export interface OutgoingOptions {
  /** Replace each secret found with a marker in what is sent (never in the session folder). */
  readonly redact: boolean;
}

/**
 * Everything the sender needs before it shows a code: the session exists, no Copilot is
 * writing it, every file is hashed and every text file scanned for secrets. Nothing in the
 * session folder is modified; redacted copies go to a private temporary folder.
 */
export async function prepareOutgoing(home: string, query: string | undefined, currentDir: string, options: OutgoingOptions): Promise<OutgoingSession> {
  const location = await chooseSession(home, query, currentDir);
  await assertNotInUse(location.dir, location.id);
  const workspace = await readWorkspace(location.dir);
  const [scanned, source] = await Promise.all([scanFolder(location.dir), describeSource(location.dir, workspace)]);
  const redactDir = options.redact ? await mkdtemp(join(tmpdir(), 'copilot-beam-redacted-')) : undefined;
  const dispose = async (): Promise<void> => {
    if (redactDir) await rm(redactDir, { recursive: true, force: true });
  };
  try {
    const { summary, replacements } = await scanForSecrets(location.dir, scanned.files, redactDir);
    const files = scanned.files.map((file) => {
      const copy = replacements.get(file.path);
      return copy ? { ...file, size: copy.size, sha256: copy.sha256 } : file;
    });
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      sessionId: location.id,
      ...(workspace.name ? { sessionName: workspace.name } : {}),
      ...(workspace.updatedAt ? { updatedAt: workspace.updatedAt } : {}),
      source,
      directories: scanned.directories,
      files,
      totalBytes: files.reduce((sum, file) => sum + file.size, 0),
      secrets: { found: summary.found, redacted: summary.redacted, kinds: summary.kinds },
    };
    return {
      location,
      manifest,
      skipped: scanned.skipped,
      secrets: summary,
      locate: (file) => replacements.get(file.path)?.path ?? join(location.dir, file.path),
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
