import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type ManifestFile, MANIFEST_FORMAT } from '../bundle/manifest.js';
import { WORK_FOLDER, type SessionManifest } from './manifest.js';
import { listFolder, type FileIdentity, type ListedFile, type ReadHash } from '../bundle/pack.js';
import { CompressibilityProbe } from '../bundle/compressibility.js';
import { BeamError } from '../errors.js';
import { WORK_FILES, type WorkDescription } from './work/description.js';
import { isMachineLocalFile, listSessionFolder } from './session-files.js';
import { assertNotInUse } from './busy.js';
import { chooseSession } from './choose.js';
import type { SessionLocation } from './find.js';
import { combinedSummary, scanForSecrets, type ScanResult, type SecretSummary } from './secrets/scan.js';
import { describeSource, readWorkspace } from './source-info.js';

export { startScanThreadsEarly, stopEarlyScanThreads } from './secrets/pool.js';

export interface OutgoingSession {
  readonly location: SessionLocation;
  readonly manifest: SessionManifest;
  /** Entries left out of the bundle (locks, links, devices, anything not of a session's layout). */
  readonly skipped: readonly string[];
  /** Of those, the ones a person should hear about: not this machine's locks. */
  readonly leftOut: readonly string[];
  readonly secrets: SecretSummary;
  /** The work in progress carried with it, if any. */
  readonly work?: OutgoingWork;
  /** Where to read a file from: the session folder, or its redacted copy. */
  locate(file: ManifestFile): string;
  /** The file's identity when it was hashed (not for redacted copies): see sendFiles. */
  identityOf(file: ManifestFile): FileIdentity | undefined;
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
  /**
   * Called once the session is found, with its checkout (git root) if it recorded one: the work
   * in progress to carry with it, already written to a folder, or undefined for none.
   */
  readonly work?: (gitRoot: string | undefined) => Promise<OutgoingWork | undefined>;
}

/** Work in progress captured for sending: its pieces in `dir`, and the unpushed commits as text for the scan. */
export interface OutgoingWork {
  readonly dir: string;
  readonly description: WorkDescription;
  readonly commitLog?: string;
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
  const listed = await listSessionFolder(location.dir);
  const redactDir = options.redact ? await mkdtemp(join(tmpdir(), 'copilot-beam-redacted-')) : undefined;
  const dispose = async (): Promise<void> => {
    if (redactDir) await rm(redactDir, { recursive: true, force: true });
  };
  if (redactDir) options.onTemporaryFolder?.(dispose);
  try {
    // One read of every file: this thread hashes what the scan threads then scan. It runs while
    // git describes the checkout and captures its work (a question, perhaps): neither needs it.
    const stopScan = new AbortController();
    const scanning = scanForSecrets(location.dir, listed.files, redactDir, { hash: true, signal: stopScan.signal });
    scanning.catch(() => undefined); // awaited below, or stopped and settled before the copies are removed
    const [source, work] = await Promise.all([describeSource(location.dir, workspace), options.work?.(workspace.gitRoot)]).catch(async (error: unknown) => {
      stopScan.abort();
      await scanning.catch(() => undefined);
      throw error;
    });
    const scan = await scanning;
    const hashed = hashedFiles(listed.files, scan.hashes);
    const carried = work ? await prepareWork(work, redactDir) : undefined;
    const probe = new CompressibilityProbe();
    const files = [
      ...asSent(hashed, scan, await compressibleFiles(hashed, scan, location.dir, probe), ''),
      ...(carried && work ? asSent(carried.hashed, carried.scan, await compressibleFiles(carried.hashed, carried.scan, work.dir, probe), `${WORK_FOLDER}/`) : []),
    ];
    const summary = carried
      ? combinedSummary(
          [
            { summary: scan.summary, prefix: '' },
            { summary: carried.scan.summary, prefix: `${WORK_FOLDER}/` },
            ...(carried.commits ? [{ summary: carried.commits, prefix: 'unpushed commits: ' }] : []),
          ],
          scan.summary.redacted,
        )
      : scan.summary;
    const manifest: SessionManifest = {
      format: MANIFEST_FORMAT,
      sessionId: location.id,
      ...(workspace.name ? { sessionName: workspace.name } : {}),
      ...(workspace.updatedAt ? { updatedAt: workspace.updatedAt } : {}),
      source: work ? { ...source, work: work.description } : source,
      directories: carried ? [...listed.directories, WORK_FOLDER, ...carried.directories.map((path) => `${WORK_FOLDER}/${path}`)] : listed.directories,
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
      ...(work ? { work } : {}),
      locate: (file) => {
        if (carried && file.path.startsWith(`${WORK_FOLDER}/`)) {
          const inWork = file.path.slice(WORK_FOLDER.length + 1);
          return carried.scan.replacements.get(inWork)?.path ?? join(work!.dir, inWork);
        }
        return scan.replacements.get(file.path)?.path ?? join(location.dir, file.path);
      },
      // The work's pieces are this run's own copies; only the session's files are worth the check.
      identityOf: (file) => (scan.replacements.has(file.path) ? undefined : scan.hashes.get(file.path)?.identity),
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** The listed files with what the scan's read found: their hash and the size it read. */
function hashedFiles(files: readonly ListedFile[], hashes: ReadonlyMap<string, ReadHash>): ManifestFile[] {
  return files.map((file) => {
    const hash = hashes.get(file.path);
    if (!hash) throw new BeamError('internal', `${file.path} was not hashed`);
    return { path: file.path, size: hash.size, mode: file.mode, sha256: hash.sha256 };
  });
}

/** Files as they go: redacted copies in place of originals, the compressible marked, paths under `prefix`. */
function asSent(hashed: readonly ManifestFile[], scan: ScanResult, compressible: ReadonlySet<string>, prefix: string): ManifestFile[] {
  return hashed.map((file) => {
    const copy = scan.replacements.get(file.path);
    const compressed = compressible.has(file.path) ? { compressed: true } : {};
    const sent = copy ? { ...file, size: copy.size, sha256: copy.sha256 } : file;
    return { ...sent, ...compressed, path: `${prefix}${file.path}` };
  });
}

/**
 * The files that travel compressed: all text (JSON history, Markdown, patches shrink several
 * times under zstd), and the binaries whose start shrinks (a SQLite database, mostly empty pages),
 * not those already compressed or random, where zstd would cost the sender CPU for nothing.
 */
async function compressibleFiles(hashed: readonly ManifestFile[], scan: ScanResult, dir: string, probe: CompressibilityProbe): Promise<Set<string>> {
  const compressible = new Set<string>();
  for (const file of hashed) {
    if (file.size === 0) continue;
    if (scan.textFiles.has(file.path) || (await binaryCompresses(probe, join(dir, file.path)))) compressible.add(file.path);
  }
  return compressible;
}

/** Only how the file travels depends on this: one that cannot be read now goes as it is, and sending it says what is wrong. */
function binaryCompresses(probe: CompressibilityProbe, path: string): Promise<boolean> {
  return probe.fileCompresses(path).catch(() => false);
}

interface PreparedWork {
  readonly hashed: ManifestFile[];
  readonly scan: ScanResult;
  readonly directories: readonly string[];
  /** Secrets in the unpushed commits (scanned as text; they cannot be redacted). */
  readonly commits?: SecretSummary;
}

/**
 * The work's pieces hashed and scanned like the session's files, redacted alike. Two things
 * redaction cannot do are refused rather than sent wrong: a secret inside an unpushed commit,
 * and one on a line a patch needs unchanged to apply (context or removed lines).
 */
async function prepareWork(work: OutgoingWork, redactDir: string | undefined): Promise<PreparedWork> {
  const listed = await listFolder(work.dir);
  const files: ListedFile[] = listed.files;
  const redactInto = redactDir ? join(redactDir, WORK_FOLDER) : undefined;
  // Inside the temporary folder, which the scan never makes again once it is removed.
  if (redactInto) await mkdir(redactInto, { mode: 0o700 });
  // A patch or a log may hold a stray non-UTF-8 byte: it is scanned as Latin-1 rather than skipped.
  const patches = files.filter((file) => !file.path.startsWith(`${WORK_FILES.untracked}/`) && file.path !== WORK_FILES.bundle);
  const others = files.filter((file) => !patches.includes(file));
  // One scan after the other: each may start worker threads, and two pools at once would break the memory bound.
  const patchScan = await scanForSecrets(work.dir, patches, redactInto, { lenient: 'any', diff: true, hash: true });
  // New files with a stray non-UTF-8 byte are read as Latin-1 too; a NUL still means binary.
  const otherScan = await scanForSecrets(work.dir, others, redactInto, { lenient: 'text', hash: true });
  const scan: ScanResult = {
    summary: combinedSummary([{ summary: patchScan.summary, prefix: '' }, { summary: otherScan.summary, prefix: '' }], Boolean(redactInto)),
    replacements: new Map([...patchScan.replacements, ...otherScan.replacements]),
    textFiles: new Set([...patchScan.textFiles, ...otherScan.textFiles]),
    unredactable: [...patchScan.unredactable, ...otherScan.unredactable],
    hashes: new Map([...patchScan.hashes, ...otherScan.hashes]),
  };
  const hashed = hashedFiles(files, scan.hashes);
  if (redactInto && scan.unredactable.length > 0) {
    throw new BeamError('session', `a secret in ${scan.unredactable[0]} spans lines of the change (a private key?), which --redact cannot replace inside a patch: remove it from the file first, or send without --with-changes`);
  }
  const commits = work.commitLog
    ? (await scanForSecrets(dirname(work.commitLog), [{ path: basename(work.commitLog), size: (await stat(work.commitLog)).size }], undefined, { lenient: 'any', diff: true })).summary
    : undefined;
  if (redactDir && commits && commits.found > 0) {
    throw new BeamError('session', `the unpushed commits hold ${commits.found} secret(s), which --redact cannot replace inside commits: amend them, or send without --with-changes`);
  }
  if (redactDir) {
    for (const name of [WORK_FILES.staged, WORK_FILES.unstaged]) {
      const copy = scan.replacements.get(name);
      if (copy && /^[- ].*\[redacted:/m.test(await readFile(copy.path, 'utf8'))) {
        throw new BeamError('session', `a secret in ${name} sits on a line the change needs as it is (context or removed), so a redacted patch would not apply: remove the secret from the file first, or send without --with-changes`);
      }
    }
  }
  return { hashed, scan, directories: listed.directories, ...(commits ? { commits } : {}) };
}
