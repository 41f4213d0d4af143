import { BeamError } from '../errors.js';
import { formatLimit, formatOverLimit } from '../format.js';
import { asRecord, optionalText, parseJsonObject, type Invalid } from './json-fields.js';
import type { BundleLimits } from './limits.js';
import { parentPaths, whyPathIsUnsafe } from './paths.js';

/** 2: files may travel compressed (the `compressed` field); 3: the work in progress; 4: compressed means zstd, not deflate. */
export const MANIFEST_FORMAT = 4;
const FILE_FIELDS = new Set(['path', 'size', 'mode', 'sha256', 'compressed']);

export interface ManifestFile {
  readonly path: string;
  /** Size and SHA-256 are of the file itself, never of its compressed form. */
  readonly size: number;
  /** Permission bits only; the receiver narrows them to the owner. */
  readonly mode: number;
  readonly sha256: string;
  /** Each DATA message of this file is one flushed zstd block of at most COMPRESSED_CHUNK_BYTES of it. */
  readonly compressed?: boolean;
}

/** What the sender's secret scan found; counts only, never values. */
export interface SecretsReport {
  readonly found: number;
  readonly redacted: boolean;
  readonly kinds: Readonly<Record<string, number>>;
}

/**
 * What travels first: every folder and file with its size and hash, and a description of where
 * it comes from whose shape the layer above defines (the bundle only carries it).
 */
export interface Manifest<Source = unknown> {
  readonly format: number;
  /** Names the receiver's folder for the bundle; the layer above says which ids are safe. */
  readonly sessionId: string;
  readonly sessionName?: string;
  readonly updatedAt?: string;
  readonly source: Source;
  readonly directories: readonly string[];
  readonly files: readonly ManifestFile[];
  readonly totalBytes: number;
  readonly secrets?: SecretsReport;
}

/** What only the layer above the bundle knows about a manifest from the peer. */
export interface ManifestRules<Source> {
  /** Why this id may not name a folder on the receiver, or null when it may. */
  readonly whyIdIsInvalid: (id: string) => string | null;
  /** Checks and copies the source description, raising `invalid` for anything wrong. */
  readonly readSource: (raw: unknown, invalid: Invalid) => Source;
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(manifest));
}

/**
 * Parses and checks a manifest from the peer as hostile input: every field's type and size,
 * every path, duplicates (also by case, for case-insensitive disks), file/folder clashes, counts
 * and the declared total. Nothing is written before this passes.
 */
export function decodeManifest<Source>(bytes: Uint8Array, limits: BundleLimits, rules: ManifestRules<Source>): Manifest<Source> {
  return validateManifest(parseJsonObject(bytes, 'the manifest', invalid), limits, rules);
}

export function validateManifest<Source>(raw: unknown, limits: BundleLimits, rules: ManifestRules<Source>): Manifest<Source> {
  const record = asRecord(raw, 'the manifest', invalid);
  if (record.format !== MANIFEST_FORMAT) {
    throw invalid(`format ${String(record.format)} is not supported (this copilot-beam reads format ${MANIFEST_FORMAT})`);
  }
  const sessionId = typeof record.sessionId === 'string' ? record.sessionId : '';
  const badId = rules.whyIdIsInvalid(sessionId) ?? (sessionId === '' ? 'the session id is missing' : null);
  if (badId !== null) throw invalid(badId);
  const directories = validateDirectories(record.directories, limits);
  const files = validateFiles(record.files, limits);
  checkNoClashes(directories, files);
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  if (record.totalBytes !== totalBytes) throw invalid('its total size does not match the sum of its files');
  if (totalBytes > limits.maxTotalBytes) {
    const size = formatOverLimit(totalBytes, limits.maxTotalBytes);
    const limit = formatLimit(limits.maxTotalBytes);
    throw new BeamError('protocol', `the session is ${size}, over this receiver's limit of ${limit}: use --max-size to allow more`, {
      forPeer: `the session (${size}) is over the receiver's size limit (${limit})`,
    });
  }
  return {
    format: MANIFEST_FORMAT,
    sessionId,
    ...optionalText(record, 'sessionName', invalid),
    ...optionalText(record, 'updatedAt', invalid),
    source: rules.readSource(record.source, invalid),
    directories,
    files,
    totalBytes,
    ...(record.secrets === undefined ? {} : { secrets: validateSecrets(record.secrets) }),
  };
}

function validateSecrets(raw: unknown): SecretsReport {
  const record = asRecord(raw, 'the secrets report', invalid);
  const count = (value: unknown): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid('the secrets report has a bad count');
    return value;
  };
  if (typeof record.redacted !== 'boolean') throw invalid('the secrets report is incomplete');
  const kinds = asRecord(record.kinds, 'the secret kinds', invalid);
  const entries = Object.entries(kinds);
  if (entries.length > 200) throw invalid('the secrets report lists too many kinds');
  return {
    found: count(record.found),
    redacted: record.redacted,
    kinds: Object.fromEntries(entries.map(([kind, value]) => [kind.slice(0, 100), count(value)])),
  };
}

function validateDirectories(raw: unknown, limits: BundleLimits): string[] {
  if (!Array.isArray(raw)) throw invalid('its folder list is missing');
  if (raw.length > limits.maxDirectories) throw invalid(`it lists ${raw.length} folders, over the limit of ${limits.maxDirectories}`);
  return raw.map((path) => checkedPath(path));
}

function validateFiles(raw: unknown, limits: BundleLimits): ManifestFile[] {
  if (!Array.isArray(raw)) throw invalid('its file list is missing');
  if (raw.length > limits.maxFiles) throw invalid(`it lists ${raw.length} files, over the limit of ${limits.maxFiles}`);
  return raw.map((entry) => {
    const file = asRecord(entry, 'a file entry', invalid);
    const path = checkedPath(file.path);
    // Only regular files can be described; a field like "type" or "target" (a link, a device)
    // is refused rather than ignored.
    const unknown = Object.keys(file).filter((key) => !FILE_FIELDS.has(key));
    if (unknown.length > 0) throw invalid(`"${path}" has fields this format does not allow (${unknown.slice(0, 3).join(', ')}): only regular files travel`);
    const { size, mode, sha256, compressed } = file;
    if (compressed !== undefined && typeof compressed !== 'boolean') throw invalid(`"${path}" has an invalid "compressed" flag`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`"${path}" has an invalid size`);
    if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o777) throw invalid(`"${path}" has an invalid mode`);
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) throw invalid(`"${path}" has an invalid SHA-256`);
    return { path, size, mode, sha256, ...(compressed ? { compressed } : {}) };
  });
}

function checkedPath(path: unknown): string {
  const reason = whyPathIsUnsafe(path);
  if (reason !== null) throw invalid(`a path ${reason}: ${JSON.stringify(path)?.slice(0, 80)}`);
  return path as string;
}

function checkNoClashes(directories: readonly string[], files: readonly ManifestFile[]): void {
  const kindByPath = new Map<string, 'file' | 'folder'>();
  const claim = (path: string, kind: 'file' | 'folder'): void => {
    const key = path.toLowerCase();
    if (kindByPath.has(key)) throw invalid(`"${path}" appears twice (paths must differ in more than letter case)`);
    kindByPath.set(key, kind);
  };
  for (const directory of directories) claim(directory, 'folder');
  for (const file of files) claim(file.path, 'file');
  for (const path of [...directories, ...files.map((file) => file.path)]) {
    for (const parent of parentPaths(path)) {
      const kind = kindByPath.get(parent.toLowerCase());
      if (kind === 'file') throw invalid(`"${path}" lies inside "${parent}", which is a file`);
      if (kind === undefined) throw invalid(`the folder "${parent}" of "${path}" is not listed`);
    }
  }
}

function invalid(reason: string, cause?: unknown): BeamError {
  return new BeamError('protocol', `the sender's manifest was refused: ${reason}; nothing was installed`, { cause });
}
