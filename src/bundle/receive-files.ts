import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BeamError } from '../errors.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import type { Manifest, ManifestFile } from './manifest.js';
import { decodeReason, MessageKind } from './messages.js';
import type { ProgressListener } from './send-files.js';

/** Owner-only: a session holds source code and command output. */
export const FOLDER_MODE = 0o700;
export function fileMode(file: ManifestFile): number {
  return 0o600 | (file.mode & 0o100);
}

interface OpenFile {
  readonly file: ManifestFile;
  readonly handle: FileHandle;
  readonly hash: Hash;
  remaining: number;
}

/**
 * Writes the sender's DATA stream into `stagingDir` following the manifest: the bytes are cut
 * into files by the manifest's sizes and each file's SHA-256 is checked as it completes. More
 * data than announced, an END too early, a wrong hash or a stream cut short all fail; the caller
 * then discards the staging folder.
 */
export async function receiveFiles(
  channel: SecureChannel,
  manifest: Manifest,
  stagingDir: string,
  options: { idleTimeoutMs: number; onProgress?: ProgressListener },
): Promise<void> {
  for (const directory of manifest.directories) {
    await mkdir(join(stagingDir, directory), { recursive: true, mode: FOLDER_MODE });
  }
  const pending = [...manifest.files];
  let current: OpenFile | undefined;
  let done = 0;
  try {
    current = await openNext(pending, stagingDir);
    for (;;) {
      const message = await channel.receive(options.idleTimeoutMs, 'the sender');
      if (message.kind === MessageKind.Data && !message.final) {
        let bytes = message.body;
        while (bytes.length > 0) {
          if (!current) throw new BeamError('protocol', 'the sender sent more data than its manifest announced: nothing was installed');
          const take = Math.min(current.remaining, bytes.length);
          const piece = bytes.subarray(0, take);
          await current.handle.write(piece);
          current.hash.update(piece);
          current.remaining -= take;
          bytes = bytes.subarray(take);
          if (current.remaining === 0) {
            await closeVerified(current);
            current = await openNext(pending, stagingDir);
          }
        }
        done += message.body.length;
        options.onProgress?.(done, manifest.totalBytes);
      } else if (message.kind === MessageKind.End && message.final) {
        if (current) throw new BeamError('protocol', 'the stream ended before every file arrived (truncated): nothing was installed');
        return;
      } else if (message.kind === MessageKind.End) {
        throw new BeamError('protocol', 'the sender ended its stream without the final tag (truncated): nothing was installed');
      } else if (message.kind === MessageKind.Abort) {
        throw new BeamError('session', `the sender stopped: ${decodeReason(message.body)}`);
      } else {
        throw new BeamError('protocol', `the sender broke the protocol (message ${message.kind} during the transfer)`);
      }
    }
  } finally {
    await current?.handle.close().catch(() => undefined);
  }
}

/** Opens the next file with data; empty files are created and checked on the way. */
async function openNext(pending: ManifestFile[], stagingDir: string): Promise<OpenFile | undefined> {
  for (;;) {
    const file = pending.shift();
    if (!file) return undefined;
    const handle = await open(join(stagingDir, file.path), 'wx', fileMode(file));
    const opened: OpenFile = { file, handle, hash: createHash('sha256'), remaining: file.size };
    if (file.size > 0) return opened;
    await closeVerified(opened);
  }
}

async function closeVerified(open: OpenFile): Promise<void> {
  const { file, handle, hash } = open;
  try {
    if (hash.digest('hex') !== file.sha256) {
      throw new BeamError('protocol', `"${file.path}" does not match its SHA-256 (tampered or corrupted): nothing was installed`);
    }
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
