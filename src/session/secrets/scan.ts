import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import type { ManifestFile } from '../../bundle/manifest.js';
import { BufferPool } from '../../bundle/buffer-pool.js';
import { BeamError } from '../../errors.js';
import { HashingReader, type ReadHash } from '../../bundle/pack.js';
import { readFully } from '../../bundle/read-chunks.js';
import { scanThreadCount, SecretScanPool, takeEarlyScanThreads, type ScannedPiece } from './pool.js';
import type { PieceRequest } from './scan-piece.js';

/** Text is handed to the rules in pieces of about this size, cut at line ends. */
const PIECE_BYTES = 1024 * 1024;
/** Below this much data, starting scan threads (each loads the rules) costs more than it saves. */
const POOL_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** Pieces scanned ahead of the one being recorded: bounds memory to a few pieces per thread. */
const PIECES_AHEAD_PER_THREAD = 2;



/** Where a secret is: the file and the line it starts on (from 1), so a person can find it; never its value. */
export interface SecretLocation {
  readonly path: string;
  readonly line: number;
  readonly kind: string;
}

/** Locations kept per scan: enough to act on, bounded for a session full of keys. */
export const MAX_SECRET_LOCATIONS = 1000;

export interface SecretSummary {
  readonly found: number;
  readonly redacted: boolean;
  /** Count per kind; values are never kept. */
  readonly kinds: Record<string, number>;
  /** The first MAX_SECRET_LOCATIONS findings in scan order (events.jsonl first); this side only. */
  readonly locations: readonly SecretLocation[];
  readonly filesScanned: number;
  readonly bytesScanned: number;
}

export interface RedactedFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface ScanResult {
  readonly summary: SecretSummary;
  /** With redaction: bundle path -> the redacted copy to send instead. */
  readonly replacements: ReadonlyMap<string, RedactedFile>;
  /** The files that are text (valid UTF-8 without NUL): these travel compressed (binaries only if they shrink). */
  readonly textFiles: ReadonlySet<string>;
  /** Files with a secret that redaction cannot replace (seen only without diff prefixes). */
  readonly unredactable: readonly string[];
  /** With `hash`: every file's hash as the scan read it (binaries too), by path. */
  readonly hashes: ReadonlyMap<string, ReadHash>;
}

export interface ScanOptions {
  readonly lenient?: 'text' | 'any';
  readonly diff?: boolean;
  /**
   * Hash every file as it is read (binaries are then read to their end, not just to their first
   * NUL): one pass over the session instead of a scan and a separate hashing pass.
   */
  readonly hash?: boolean;
  /** Stops the scan at its next piece (it then rejects): nobody will use its result. */
  readonly signal?: AbortSignal;
}

/**
 * Scans every text file of a session (events.jsonl first: that is where command output lives).
 * A file is text when it is valid UTF-8 without NUL bytes. With `redactInto`, every file with a
 * finding is also written there with each secret replaced by `[redacted:<KIND>]`; the session
 * folder itself is only read.
 */
export async function scanForSecrets(
  root: string,
  files: ReadonlyArray<Pick<ManifestFile, 'path' | 'size'>>,
  redactInto?: string,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const kinds: Record<string, number> = {};
  const locations: SecretLocation[] = [];
  const unredactable: string[] = [];
  const replacements = new Map<string, RedactedFile>();
  const textFiles = new Set<string>();
  const hashes = new Map<string, ReadHash>();
  let found = 0;
  let filesScanned = 0;
  let bytesScanned = 0;
  const ordered = [...files].sort((a, b) => Number(b.path === 'events.jsonl') - Number(a.path === 'events.jsonl'));
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  const workers = scanThreadCount();
  const large = totalBytes >= POOL_THRESHOLD_BYTES && workers > 0;
  // A thread started early is used even for a small scan: its rules are loaded already.
  const early = takeEarlyScanThreads();
  if (early && large) early.growTo(workers);
  const pool = early ?? (large ? new SecretScanPool(workers) : undefined);
  // The rules are loaded here only when this thread scans itself (they cost ~12 MiB).
  const scanHere = pool ? undefined : (await import('./scan-piece.js')).scanPiece;
  // A piece is at most a carried line start (under PIECE_BYTES) plus PIECE_BYTES.
  const buffers = new BufferPool(2 * PIECE_BYTES, 8);
  const scanner: Scanner = scanHere
    ? { scan: async (request) => ({ result: await scanHere(request), piece: request.bytes }), ahead: 1, buffers }
    : { scan: (request) => pool!.scan(request), ahead: pool!.size * PIECES_AHEAD_PER_THREAD, buffers };
  try {
    for (const file of ordered) {
      const path = join(root, file.path);
      const hasher = options.hash ? await HashingReader.start(path) : undefined;
      const result = await scanFile(path, file.path, redactInto, scanner, options, hasher);
      if (hasher) hashes.set(file.path, await hasher.finish());
      if (!result) continue;
      if (result.unredactable > 0) unredactable.push(file.path);
      textFiles.add(file.path);
      filesScanned++;
      bytesScanned += file.size;
      for (const [kind, count] of Object.entries(result.kinds)) {
        kinds[kind] = (kinds[kind] ?? 0) + count;
        found += count;
      }
      for (const { kind, line } of result.locations) {
        if (locations.length < MAX_SECRET_LOCATIONS) locations.push({ path: file.path, line, kind });
      }
      if (result.redacted) replacements.set(file.path, result.redacted);
    }
  } finally {
    await pool?.close();
  }
  return { summary: { found, redacted: redactInto !== undefined, kinds, locations, filesScanned, bytesScanned }, replacements, textFiles, unredactable, hashes };
}

/**
 * Scans of several folders as one: counts added, locations in order with each folder's prefix
 * ("" for the session itself), up to MAX_SECRET_LOCATIONS.
 */
export function combinedSummary(parts: ReadonlyArray<{ readonly summary: SecretSummary; readonly prefix: string }>, redacted: boolean): SecretSummary {
  const kinds: Record<string, number> = {};
  const locations: SecretLocation[] = [];
  let found = 0;
  let filesScanned = 0;
  let bytesScanned = 0;
  for (const { summary, prefix } of parts) {
    found += summary.found;
    filesScanned += summary.filesScanned;
    bytesScanned += summary.bytesScanned;
    for (const [kind, count] of Object.entries(summary.kinds)) kinds[kind] = (kinds[kind] ?? 0) + count;
    for (const location of summary.locations) {
      if (locations.length < MAX_SECRET_LOCATIONS) locations.push({ ...location, path: `${prefix}${location.path}` });
    }
  }
  return { found, redacted, kinds, locations, filesScanned, bytesScanned };
}

interface Scanner {
  readonly scan: (request: PieceRequest) => Promise<ScannedPiece>;
  /** How many pieces may be in the scanner at once. */
  readonly ahead: number;
  /** The buffers pieces are read into, used again once their piece is scanned. */
  readonly buffers: BufferPool;
}

interface FileScan {
  /** Secrets per kind. */
  readonly kinds: Record<string, number>;
  /** The first MAX_SECRET_LOCATIONS secrets' kinds and lines (from 1). */
  readonly locations: Array<{ readonly kind: string; readonly line: number }>;
  readonly redacted?: RedactedFile;
  /** Secrets the redacted copy still holds (seen only without diff prefixes). */
  readonly unredactable: number;
}

/**
 * Returns undefined for a binary file (a NUL byte, or not UTF-8). When redacting, the copy is
 * written piece by piece as the scan goes and deleted again if nothing was found.
 */
async function scanFile(
  path: string,
  name: string,
  redactInto: string | undefined,
  scanner: Scanner,
  options: ScanOptions,
  hasher: HashingReader | undefined,
): Promise<FileScan | undefined> {
  const lenient = options.lenient !== undefined;
  let unredactable = 0;
  const kinds: Record<string, number> = {};
  const locations: Array<{ kind: string; line: number }> = [];
  /** Lines in the pieces recorded so far: the next piece starts on the line after them. */
  let linesBefore = 0;
  const copy = redactInto ? new RedactedCopy(redactInto, name) : undefined;
  // Pieces are scanned ahead (in parallel with a pool) but recorded and redacted in file order.
  const inFlight: Array<{ readonly original: Uint8Array | undefined; readonly scanned: Promise<ScannedPiece> }> = [];
  let text = true;
  const recordOldest = async (): Promise<void> => {
    const { original, scanned } = inFlight.shift()!;
    const { result, piece } = await scanned;
    if (piece) scanner.buffers.giveBack(piece);
    if (!result.text) {
      text = false;
      return;
    }
    for (const finding of result.findings) {
      kinds[finding.kind] = (kinds[finding.kind] ?? 0) + 1;
      if (locations.length < MAX_SECRET_LOCATIONS) locations.push({ kind: finding.kind, line: linesBefore + finding.line + 1 });
    }
    linesBefore += result.lines;
    unredactable += result.unredactable ?? 0;
    if (text) await copy?.write(result.redacted ?? original!);
  };
  const submit = async (bytes: Uint8Array): Promise<void> => {
    // Without redaction nothing but the kinds comes back, so the bytes can leave this thread.
    const original = copy ? Uint8Array.from(bytes) : undefined;
    const scanned = scanner.scan({ bytes, name, redact: copy !== undefined, lenient, diff: Boolean(options.diff) });
    scanned.catch(() => undefined); // observed by recordOldest, or dropped with a binary file
    inFlight.push({ original, scanned });
    if (inFlight.length >= scanner.ahead) await recordOldest();
  };
  try {
    for await (const piece of readPieces(path, scanner.buffers)) {
      options.signal?.throwIfAborted();
      // Hashed before it is submitted: the piece's buffer then leaves for a scan thread.
      hasher?.update(piece);
      if (text && hasNul(piece) && options.lenient !== 'any') text = false;
      if (text) await submit(piece);
      else if (hasher) scanner.buffers.giveBack(piece); // read on for the hash only
      else break;
    }
    while (inFlight.length > 0) await recordOldest();
  } catch (error) {
    await copy?.discard();
    throw error;
  }
  if (!text) {
    await copy?.discard();
    return undefined;
  }
  if (!copy || locations.length === 0) {
    await copy?.discard();
    return { kinds, locations, unredactable };
  }
  return { kinds, locations, unredactable, redacted: await copy.finish() };
}

/**
 * Pieces of about PIECE_BYTES, each in a buffer of its own (a worker takes it over until the
 * piece is scanned), cut after a line end, or in a line longer than a piece before a UTF-8
 * character's first byte. The next piece is read while the caller hashes and hands on this one.
 */
async function* readPieces(path: string, buffers: BufferPool): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw cannotRead(path, error);
  });
  const readNext = async (carry: Uint8Array): Promise<{ readonly buffer: Uint8Array; readonly filled: number }> => {
    // A Uint8Array, not the pool's Buffer: its slice() below must copy (Buffer's is a view).
    const buffer = new Uint8Array(buffers.take().buffer, 0, carry.length + PIECE_BYTES);
    buffer.set(carry);
    const filled = await readFully(handle, buffer, carry.length).catch((error: unknown) => {
      throw cannotRead(path, error);
    });
    return { buffer, filled };
  };
  // The read ahead may fail while the caller waits on something else: it is awaited (and its
  // error thrown) on the next turn, so it must not count as unhandled meanwhile.
  const readAhead = (carry: Uint8Array): Promise<{ readonly buffer: Uint8Array; readonly filled: number }> => {
    const read = readNext(carry);
    read.catch(() => undefined);
    return read;
  };
  let next = readAhead(new Uint8Array(0));
  try {
    for (;;) {
      const { buffer, filled } = await next;
      if (filled < buffer.length) {
        next = Promise.resolve({ buffer, filled: 0 });
        if (filled > 0) yield buffer.subarray(0, filled);
        return;
      }
      const cut = cutPoint(buffer);
      next = readAhead(buffer.slice(cut)); // the carry is copied out: the piece's buffer leaves with the piece
      yield buffer.subarray(0, cut);
    }
  } finally {
    // A read still under way (the caller stopped early) must end before the file is closed.
    const pending = await next.catch(() => undefined);
    if (pending && pending.filled > 0) buffers.giveBack(pending.buffer);
    await handle.close();
  }
}

/** A session file that cannot be opened or read (gone since it was listed, unreadable): one line. */
function cannotRead(path: string, error: unknown): BeamError {
  return new BeamError('session', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
}

/**
 * Searched through a Buffer view: Buffer's search is memchr, Uint8Array's (a builtin looping in
 * V8) ran at 1.6 GB/s and made the NUL check the slowest step of the scan (0.63 s per GiB).
 */
function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hasNul(bytes: Uint8Array): boolean {
  return bufferView(bytes).includes(0);
}

function cutPoint(buffer: Uint8Array): number {
  const lineEnd = bufferView(buffer).lastIndexOf(0x0a);
  if (lineEnd >= 0) return lineEnd + 1;
  let cut = buffer.length;
  // 10xxxxxx bytes continue a character: step back to where one starts (at most 3 bytes).
  while (cut > buffer.length - 4 && cut > 0 && (buffer[cut - 1]! & 0xc0) === 0x80) cut--;
  if (cut > 0 && buffer[cut - 1]! >= 0xc0) cut--; // the lead byte of a character cut short
  return cut;
}

/**
 * The redacted copy of one file, opened on its first write, inside `root` (which must exist).
 * A root removed meanwhile (a send cancelled during its scan) is never made again: the copy
 * fails instead, so no copy of session content outlives the send.
 */
class RedactedCopy {
  private readonly hash = createHash('sha256');
  private readonly path: string;
  private size = 0;
  private out: WriteStream | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly root: string,
    private readonly relative: string,
  ) {
    this.path = join(root, relative);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.out) {
      await makeFoldersBelow(this.root, dirname(this.relative));
      this.out = createWriteStream(this.path, { mode: 0o600 });
      // Kept for the next write or the finish: an unheard 'error' would end the process.
      this.out.on('error', (error) => (this.failure ??= error));
    }
    if (this.failure) throw this.failure;
    this.hash.update(bytes);
    this.size += bytes.length;
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }

  async finish(): Promise<RedactedFile> {
    await this.close();
    if (this.failure) throw this.failure;
    return { path: this.path, size: this.size, sha256: this.hash.digest('hex') };
  }

  async discard(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }

  private async close(): Promise<void> {
    if (!this.out || this.out.closed) return;
    const closed = once(this.out, 'close');
    this.out.end();
    await closed.catch(() => undefined);
  }
}

/** The folders of `relative` (bundle path separators) made one by one inside `root`, never `root` itself. */
async function makeFoldersBelow(root: string, relative: string): Promise<void> {
  if (relative === '.' || relative === '') return;
  let folder = root;
  for (const name of relative.split('/')) {
    folder = join(folder, name);
    await mkdir(folder, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}
