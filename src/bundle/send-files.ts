import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { deflateRaw, constants as zlib } from 'node:zlib';
import { BeamError } from '../errors.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import { SendWindow } from './flow-control.js';
import { COMPRESSED_CHUNK_BYTES, DATA_CHUNK_BYTES } from './limits.js';
import type { Manifest, ManifestFile } from './manifest.js';
import { MessageKind } from './messages.js';
import { readChunks } from './read-chunks.js';

const deflateRawAsync = promisify(deflateRaw);
/** Blocks deflated ahead of the one being sent: enough to keep the thread pool busy. */
const DEFLATE_AHEAD = 3;
/** Level 1: on session JSON it already gains most of the ratio, at several times level 6's speed. */
function deflate(chunk: Uint8Array): Promise<Buffer> {
  return deflateRawAsync(chunk, { level: zlib.Z_BEST_SPEED });
}

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

/**
 * Streams every file in manifest order as DATA messages, then END. Each file is hashed again as
 * it is read: if it no longer matches what the receiver was promised, the stream stops with a
 * SourceChangedError rather than send something that changed under it.
 */
export async function sendFiles(
  channel: SecureChannel,
  /** Where to read each file: the session folder, or a redacted copy. */
  locate: (file: ManifestFile) => string,
  manifest: Manifest,
  onProgress: ProgressListener = () => undefined,
  /** How long to wait for the receiver's credit when the window is full. */
  creditTimeoutMs = 30_000,
): Promise<void> {
  let done = 0;
  const window = new SendWindow(channel, creditTimeoutMs);
  for (const file of manifest.files) {
    const changed = await sendOneFile(channel, window, locate(file), file, (bytes) => {
      done += bytes;
      onProgress(done, manifest.totalBytes);
    });
    if (changed) throw new SourceChangedError(file.path);
  }
  await channel.send(MessageKind.End, new Uint8Array(0), true);
}

/** Returns true when the file on disk no longer matches the manifest. */
async function sendOneFile(
  channel: SecureChannel,
  window: SendWindow,
  path: string,
  file: ManifestFile,
  onBytes: (count: number) => void,
): Promise<boolean> {
  const hash = createHash('sha256');
  let size = 0;
  // Compressed blocks are deflated ahead on libuv's thread pool (a copy each, since the read
  // buffers are reused) while this thread seals and sends the previous one.
  const deflating: Array<{ readonly block: Promise<Buffer>; readonly plainBytes: number }> = [];
  const sendOldest = async (): Promise<void> => {
    const { block, plainBytes } = deflating.shift()!;
    const body = await block;
    await window.reserve(body.length);
    await channel.send(MessageKind.Data, body);
    onBytes(plainBytes);
  };
  try {
    for await (const chunk of readChunks(path, file.compressed ? COMPRESSED_CHUNK_BYTES : DATA_CHUNK_BYTES)) {
      size += chunk.length;
      if (size > file.size) return true;
      hash.update(chunk);
      if (file.compressed) {
        const block = deflate(Buffer.from(chunk));
        block.catch(() => undefined); // awaited by sendOldest
        deflating.push({ block, plainBytes: chunk.length });
        if (deflating.length >= DEFLATE_AHEAD) await sendOldest();
      } else {
        // channel.send seals (copies) the chunk before the next read reuses its buffer.
        await window.reserve(chunk.length);
        await channel.send(MessageKind.Data, chunk);
        onBytes(chunk.length);
      }
    }
    while (deflating.length > 0) await sendOldest();
  } catch (error) {
    if (error instanceof BeamError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new BeamError('session', `cannot read ${file.path}: ${(error as Error).message}`, { cause: error });
  }
  return size !== file.size || hash.digest('hex') !== file.sha256;
}
