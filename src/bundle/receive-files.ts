import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BeamError, toBeamError } from '../errors.js';
import { BlockPool } from './block-pool.js';
import { BlockDecompressor, CorruptBlockError } from './codec.js';
import { DiskBacklog } from './disk-backlog.js';
import { PRIVATE_FOLDER_MODE, privateFileMode } from '../private-files.js';
import { CreditGrant } from './flow-control.js';
import { COMPRESSED_CHUNK_BYTES } from './limits.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import type { Manifest, ManifestFile } from './manifest.js';
import { decodeReason, MessageKind } from './messages.js';
import type { ProgressListener } from './send-files.js';

/** Bytes received and not yet written before we stop reading the channel: 16 blocks. */
const DISK_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Decoded-block buffers kept for reuse: those the backlog holds, and the one being filled. */
const POOLED_BLOCKS = DISK_BACKLOG_BYTES / COMPRESSED_CHUNK_BYTES + 2;

/**
 * Rewrites a file's bytes on their way to disk (the session layer rewrites events.jsonl while it
 * arrives). The hash is always checked on the bytes as sent; the rewriter only decides what is
 * written. Returned parts must not be changed afterwards; they are written in order. A chunk
 * handed to push() is reused once the parts returned for it are written: a rewriter that keeps
 * bytes of it for later (a line cut by the chunk's end) must copy them.
 */
export interface FileRewriter {
  push(bytes: Uint8Array): readonly Uint8Array[];
  finish(): readonly Uint8Array[];
}

interface OpenFile {
  readonly file: ManifestFile;
  readonly out: WriteStream;
  readonly rewriter: FileRewriter | undefined;
  /** For a compressed file: its own decoder, since its frames' window spans the file. */
  readonly decompressor: BlockDecompressor | undefined;
  readonly hash: Hash;
  readonly failed: Promise<never>;
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
  options: { idleTimeoutMs: number; onProgress?: ProgressListener; rewriterFor?: (file: ManifestFile) => FileRewriter | undefined },
): Promise<void> {
  for (const directory of manifest.directories) {
    await mkdir(join(stagingDir, directory), { recursive: true, mode: PRIVATE_FOLDER_MODE });
  }
  const pending = [...manifest.files];
  let current: OpenFile | undefined;
  let done = 0;
  try {
    const open = (): Promise<OpenFile | undefined> => openNext(pending, stagingDir, options.rewriterFor);
    const credit = new CreditGrant(channel);
    const disk = new DiskBacklog(DISK_BACKLOG_BYTES);
    const pool = new BlockPool(COMPRESSED_CHUNK_BYTES + 1, POOLED_BLOCKS);
    current = await open();
    for (;;) {
      const waitingSince = performance.now();
      const message = await channel.receive(options.idleTimeoutMs, 'the sender');
      credit.waited(performance.now() - waitingSince);
      if (message.kind === MessageKind.Data && !message.final) {
        // A decoded block is exactly the rest of its file's share; it goes back to the pool once written.
        const pooled = current?.decompressor ? pool.take() : undefined;
        let bytes = pooled ? decompressBlock(message.body, current!, current!.decompressor!, pooled) : message.body;
        const plainLength = bytes.length;
        while (bytes.length > 0) {
          if (!current) throw new BeamError('protocol', 'the sender sent more data than its manifest announced: nothing was installed');
          const take = Math.min(current.remaining, bytes.length);
          const piece = bytes.subarray(0, take);
          current.hash.update(piece);
          const parts = current.rewriter ? current.rewriter.push(piece) : [piece];
          await disk.write(current.out, parts, current.failed, pooled && (() => pool.giveBack(pooled)));
          current.remaining -= take;
          bytes = bytes.subarray(take);
          if (current.remaining === 0) {
            await closeVerified(current);
            current = await open();
          }
        }
        done += plainLength;
        options.onProgress?.(done, manifest.totalBytes);
        await credit.consume(message.body.length);
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
    current?.out.destroy();
  }
}

/**
 * One DATA message of a compressed file is one flushed zstd block of that file, and decodes into
 * exactly the next COMPRESSED_CHUNK_BYTES of it (or what is left): a small message can never turn
 * into more, and never into less either (thousands of tiny blocks would each pin a buffer).
 */
function decompressBlock(block: Uint8Array, current: OpenFile, decompressor: BlockDecompressor, into: Buffer): Uint8Array {
  const size = Math.min(current.remaining, COMPRESSED_CHUNK_BYTES);
  try {
    return decompressor.decompress(block, size, into);
  } catch (error) {
    if (!(error instanceof CorruptBlockError)) throw error;
    throw new BeamError('protocol', `"${current.file.path}" arrived corrupt or larger than announced (compressed data: ${error.message}): nothing was installed`, { cause: error });
  }
}

/** Opens the next file with data; empty files are created and checked on the way. */
async function openNext(
  pending: ManifestFile[],
  stagingDir: string,
  rewriterFor: ((file: ManifestFile) => FileRewriter | undefined) | undefined,
): Promise<OpenFile | undefined> {
  for (;;) {
    const file = pending.shift();
    if (!file) return undefined;
    const out = createWriteStream(join(stagingDir, file.path), { flags: 'wx', mode: privateFileMode(file.mode) });
    const failed = new Promise<never>((_resolve, reject) => out.once('error', (error) => reject(writeError(file, error))));
    failed.catch(() => undefined);
    const decompressor = file.compressed ? new BlockDecompressor(COMPRESSED_CHUNK_BYTES) : undefined;
    const opened: OpenFile = { file, out, rewriter: rewriterFor?.(file), decompressor, hash: createHash('sha256'), remaining: file.size, failed };
    if (file.size > 0) return opened;
    await closeVerified(opened);
  }
}

/**
 * Checks the hash and waits for the bytes to reach the file. Durability (fsync) is the
 * installer's job, once, after the session is transformed: syncing here too would write the
 * largest file to disk twice.
 */
async function closeVerified(open: OpenFile): Promise<void> {
  const { file, out, hash } = open;
  if (hash.digest('hex') !== file.sha256) {
    out.destroy();
    throw new BeamError('protocol', `"${file.path}" does not match its SHA-256 (tampered or corrupted): nothing was installed`);
  }
  // The rewriter's last parts are a line or two and the closing block: 'finish' waits for them.
  for (const part of open.rewriter?.finish() ?? []) out.write(part);
  out.end();
  await Promise.race([once(out, 'finish'), open.failed]);
}

function writeError(file: ManifestFile, error: Error): BeamError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return toBeamError(error);
  return new BeamError('install', `cannot write ${file.path}: ${error.message}`, { cause: error });
}
