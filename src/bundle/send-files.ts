import { createHash } from 'node:crypto';
import { BeamError } from '../errors.js';
import { AdaptiveLevel, adapts, firstLevel } from './adaptive-level.js';
import { BLOCKS_AHEAD, InlineCompression, type BlockCompression } from './block-compression.js';
import { LevelFloor } from './level-floor.js';
import { PlacedCompression } from './placed-compression.js';
import { fileIdentity, sameIdentity, type FileIdentity } from './pack.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import { SendWindow } from './flow-control.js';
import { COMPRESSED_CHUNK_BYTES, DATA_CHUNK_BYTES } from './limits.js';
import type { Manifest, ManifestFile } from './manifest.js';
import { MessageKind } from './messages.js';
import { readBuffers, readChunks, type ReadBuffers } from './read-chunks.js';

export type ProgressListener = (doneBytes: number, totalBytes: number) => void;

/**
 * A file no longer matches what the manifest promised: it changed on disk after it was hashed.
 * Nothing more was sent; the caller tells the peer why it stops, in its own words.
 */
export class SourceChangedError extends BeamError {
  constructor(readonly path: string) {
    super('session', `${path} changed while it was being sent`);
    this.name = 'SourceChangedError';
  }
}

export interface SendOptions {
  readonly onProgress?: ProgressListener;
  /** How long to wait for the receiver's credit when the window is full. */
  readonly creditTimeoutMs?: number;
  /**
   * The file's identity when it was hashed, if known: a file whose identity is unchanged before
   * and after it is sent is as hashed, and is not hashed again (the receiver checks every hash
   * anyway; this only lets the sender say why it stops). Files without one are hashed as sent.
   */
  readonly identityOf?: (file: ManifestFile) => FileIdentity | undefined;
  /**
   * Where the blocks of compressed files are compressed; the caller closes it. Without it the
   * beam's size decides: a beam too short to adapt compresses at one level on the sending thread
   * (a thread would cost it more to start than it saves), a longer one places each level.
   */
  readonly compression?: BlockCompression;
}

/**
 * Streams every file in manifest order as DATA messages, then END. A file that no longer matches
 * what the receiver was promised (its identity moved, or, without one, its hash as read) stops
 * the stream with a SourceChangedError rather than send something that changed under it.
 */
export async function sendFiles(
  channel: SecureChannel,
  /** Where to read each file: the session folder, or a redacted copy. */
  locate: (file: ManifestFile) => string,
  manifest: Manifest,
  options: SendOptions = {},
): Promise<void> {
  const onProgress = options.onProgress ?? (() => undefined);
  let done = 0;
  const window = new SendWindow(channel, options.creditTimeoutMs ?? 30_000);
  const compressedBytes = manifest.files.reduce((sum, file) => sum + (file.compressed ? file.size : 0), 0);
  const adapting = adapts(compressedBytes);
  const compression = options.compression ?? (adapting ? new PlacedCompression() : new InlineCompression());
  // One choice of level for the whole beam: what it learns on one file holds for the next.
  const level = new AdaptiveLevel(firstLevel(compressedBytes), compression.idle, adapting ? new LevelFloor() : undefined);
  const buffers = readBuffers();
  try {
    for (const file of manifest.files) {
      const source = { path: locate(file), identity: options.identityOf?.(file) };
      const changed = await sendOneFile(channel, window, source, file, { compression, level }, buffers, (bytes) => {
        done += bytes;
        onProgress(done, manifest.totalBytes);
      });
      if (changed) throw new SourceChangedError(file.path);
    }
  } finally {
    if (!options.compression) await compression.close();
  }
  await channel.send(MessageKind.End, new Uint8Array(0), true);
}

/** A compressed block on its way, with the bytes of the file it holds. */
interface PendingBlock {
  readonly body: Promise<Uint8Array>;
  readonly bytes: number;
}

interface Compressing {
  readonly compression: BlockCompression;
  readonly level: AdaptiveLevel;
}

/** Returns true when the file on disk no longer matches the manifest. */
async function sendOneFile(
  channel: SecureChannel,
  window: SendWindow,
  source: { readonly path: string; readonly identity: FileIdentity | undefined },
  file: ManifestFile,
  compressing: Compressing,
  /** Read into by one file after another. */
  buffers: ReadBuffers,
  onBytes: (count: number) => void,
): Promise<boolean> {
  const { path, identity } = source;
  const hash = identity ? undefined : createHash('sha256');
  let size = 0;
  // Compressed blocks not sent yet, in file order.
  const ahead: PendingBlock[] = [];
  const sendCompressed = async (next: PendingBlock): Promise<void> => {
    const body = await next.body;
    await window.reserve(body.length);
    await channel.send(MessageKind.Data, body);
    compressing.compression.release(body); // sealed into its frame: the buffer is free
    compressing.level.record(next.bytes, window.receiverIdle);
    onBytes(next.bytes);
  };
  try {
    if (identity && !(await stillIs(path, identity))) return true;
    const chunkBytes = file.compressed ? COMPRESSED_CHUNK_BYTES : DATA_CHUNK_BYTES;
    for await (const chunk of readChunks(path, chunkBytes, buffers)) {
      const firstOfFile = size === 0;
      size += chunk.length;
      // A short chunk is the file's end: a file that shrank is told as such, not sent cut short.
      if (size > file.size || (chunk.length < chunkBytes && size < file.size)) return true;
      hash?.update(chunk);
      if (file.compressed) {
        compressing.level.observe(chunk);
        // compress() is done with the chunk when it returns, before the next read reuses its buffer.
        const body = compressing.compression.compress(chunk, compressing.level.level, firstOfFile, size === file.size);
        // A failure is met where the block is sent; until then (or if it never is) it is no crash.
        body.catch(() => undefined);
        ahead.push({ body, bytes: chunk.length });
        if (ahead.length > BLOCKS_AHEAD) await sendCompressed(ahead.shift()!);
      } else {
        // channel.send seals (copies) the chunk before the next read reuses its buffer.
        await window.reserve(chunk.length);
        await channel.send(MessageKind.Data, chunk);
        onBytes(chunk.length);
      }
    }
    while (ahead.length > 0) await sendCompressed(ahead.shift()!);
    if (size !== file.size) return true;
    return hash ? hash.digest('hex') !== file.sha256 : !(await stillIs(path, identity!));
  } catch (error) {
    if (error instanceof BeamError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new BeamError('session', `cannot read ${file.path}: ${(error as Error).message}`, { cause: error });
  }
}

async function stillIs(path: string, identity: FileIdentity): Promise<boolean> {
  return sameIdentity(await fileIdentity(path), identity);
}
