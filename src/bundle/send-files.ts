import { createHash } from 'node:crypto';
import { BeamError } from '../errors.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import { DATA_CHUNK_BYTES } from './limits.js';
import { readChunks } from './read-chunks.js';
import type { Manifest, ManifestFile } from './manifest.js';
import { encodeJson, MessageKind } from './messages.js';

export type ProgressListener = (doneBytes: number, totalBytes: number) => void;

/**
 * Streams every file in manifest order as DATA messages, then END. Each file is hashed again as
 * it is read: if it no longer matches what the receiver was promised, the sender aborts rather
 * than send a session that changed under it.
 */
export async function sendFiles(
  channel: SecureChannel,
  /** Where to read each file: the session folder, or a redacted copy. */
  locate: (file: ManifestFile) => string,
  manifest: Manifest,
  onProgress: ProgressListener = () => undefined,
): Promise<void> {
  let done = 0;
  for (const file of manifest.files) {
    const changed = await sendOneFile(channel, locate(file), file, (bytes) => {
      done += bytes;
      onProgress(done, manifest.totalBytes);
    });
    if (changed) {
      const message = `the session changed while it was being sent (${file.path}); close Copilot and send again`;
      await channel.sendFinalAndClose(MessageKind.Abort, encodeJson({ message }));
      throw new BeamError('session', `${message}: nothing was installed on the other side`);
    }
  }
  await channel.send(MessageKind.End, new Uint8Array(0), true);
}

/** Returns true when the file on disk no longer matches the manifest. */
async function sendOneFile(
  channel: SecureChannel,
  path: string,
  file: ManifestFile,
  onBytes: (count: number) => void,
): Promise<boolean> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    // channel.send seals (copies) the chunk before it returns, so the read buffer can be reused.
    for await (const chunk of readChunks(path, DATA_CHUNK_BYTES)) {
      size += chunk.length;
      if (size > file.size) return true;
      hash.update(chunk);
      await channel.send(MessageKind.Data, chunk);
      onBytes(chunk.length);
    }
  } catch (error) {
    if (error instanceof BeamError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new BeamError('session', `cannot read ${file.path}: ${(error as Error).message}`, { cause: error });
  }
  return size !== file.size || hash.digest('hex') !== file.sha256;
}
