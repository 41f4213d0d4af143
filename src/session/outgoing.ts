import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type ManifestFile, MANIFEST_FORMAT } from '../bundle/manifest.js';
import type { SessionManifest } from './manifest.js';
import { hashListed } from '../bundle/pack.js';
import { isMachineLocalFile, listSessionFolder } from './session-files.js';
import { assertNotInUse } from './busy.js';
import { chooseSession } from './choose.js';
import type { SessionLocation } from './find.js';
import { scanForSecrets, type SecretSummary } from './secrets/scan.js';
import { describeSource, readWorkspace } from './source-info.js';

export interface OutgoingSession {
  readonly location: SessionLocation;
  readonly manifest: SessionManifest;
  /** Entries left out of the bundle (locks, links, devices, anything not of a session's layout). */
  readonly skipped: readonly string[];
  /** Of those, the ones a person should hear about: not this machine's locks. */
  readonly leftOut: readonly string[];
  readonly secrets: SecretSummary;
  /** Where to read a file from: the session folder, or its redacted copy. */
  locate(file: ManifestFile): string;
  /** Removes the redacted copies, if any. */
  dispose(): Promise<void>;
}

export interface OutgoingOptions {
  /** Replace each secret found with a marker in what is sent (never in the session folder). */
  readonly redact: boolean;
  /**
   * Called once the session is found and known not to be in use, before the long part (hashing
   * and scanning): the sender starts joining the DHT then, so the two overlap.
   */
  readonly onLocated?: (location: SessionLocation) => void;
  /**
   * Called as soon as the private folder for redacted copies exists, with what removes it: a
   * beam cancelled during the scan must not leave copies of session content behind.
   */
  readonly onTemporaryFolder?: (remove: () => Promise<void>) => void;
}

/**
 * Everything the sender needs before it shows a code: the session exists, no Copilot is
 * writing it, every file is hashed and every text file scanned for secrets. Nothing in the
 * session folder is modified; redacted copies go to a private temporary folder.
 */
export async function prepareOutgoing(home: string, query: string | undefined, currentDir: string, options: OutgoingOptions): Promise<OutgoingSession> {
  const location = await chooseSession(home, query, currentDir);
  await assertNotInUse(location.dir, location.id);
  options.onLocated?.(location);
  const workspace = await readWorkspace(location.dir);
  const [listed, source] = await Promise.all([listSessionFolder(location.dir), describeSource(location.dir, workspace)]);
  const redactDir = options.redact ? await mkdtemp(join(tmpdir(), 'copilot-beam-redacted-')) : undefined;
  const dispose = async (): Promise<void> => {
    if (redactDir) await rm(redactDir, { recursive: true, force: true });
  };
  if (redactDir) options.onTemporaryFolder?.(dispose);
  try {
    // Hashing (this thread) and scanning (worker threads) read the same files side by side.
    const [hashed, { summary, replacements, textFiles }] = await Promise.all([
      hashListed(location.dir, listed.files),
      scanForSecrets(location.dir, listed.files, redactDir),
    ]);
    // Text (JSON history, Markdown) shrinks several times under deflate; binaries do not.
    const files = hashed.map((file) => {
      const copy = replacements.get(file.path);
      const compressed = textFiles.has(file.path) && file.size > 0 ? { compressed: true } : {};
      return copy ? { ...file, size: copy.size, sha256: copy.sha256, ...compressed } : { ...file, ...compressed };
    });
    const manifest: SessionManifest = {
      format: MANIFEST_FORMAT,
      sessionId: location.id,
      ...(workspace.name ? { sessionName: workspace.name } : {}),
      ...(workspace.updatedAt ? { updatedAt: workspace.updatedAt } : {}),
      source,
      directories: listed.directories,
      files,
      totalBytes: files.reduce((sum, file) => sum + file.size, 0),
      secrets: { found: summary.found, redacted: summary.redacted, kinds: summary.kinds },
    };
    return {
      location,
      manifest,
      skipped: listed.skipped,
      leftOut: listed.skipped.filter((path) => !isMachineLocalFile(basename(path))),
      secrets: summary,
      locate: (file) => replacements.get(file.path)?.path ?? join(location.dir, file.path),
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
