import { createHash, type Hash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BeamError } from '../errors.js';
import { BufferPool } from './buffer-pool.js';
import { BlockDecompressor, CorruptBlockError } from './codec.js';
import { DiskBacklog } from './disk-backlog.js';
import type { WriteBack } from './write-back.js';
import { streamSink, type FileRewriter, type FileSink, type StagedFile } from './file-sink.js';
import { PRIVATE_FOLDER_MODE, privateFileMode } from '../private-files.js';
import { CreditGrant } from './flow-control.js';
import { COMPRESSED_CHUNK_BYTES, DATA_CHUNK_BYTES, DECODE_BUFFER_BYTES } from './limits.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import type { Manifest, ManifestFile } from './manifest.js';
import { decodeReason, MessageKind } from './messages.js';
import type { ProgressListener } from './send-files.js';

/** Bytes received and not yet written before we stop reading the channel: 16 blocks. */
const DISK_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Decoded-block buffers kept for reuse: those the backlog holds, and the one being filled. */
const POOLED_BLOCKS = DISK_BACKLOG_BYTES / COMPRESSED_CHUNK_BYTES + 2;

/**
 * How the caller (the session layer, which rewrites events.jsonl while it arrives) may change
 * where a file goes: a rewriter on the receiving thread, or a sink of its own. Neither is asked
 * for files it should not touch.
 */
export interface FileHandling {
  readonly rewriter?: FileRewriter;
  readonly sink?: FileSink;
}

interface OpenFile {
  readonly file: ManifestFile;
  readonly path: string;
  readonly sink: FileSink;
  /** For a compressed file: its own decoder, since its frames' window spans the file. */
  readonly decompressor: BlockDecompressor | undefined;
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
  options: {
    idleTimeoutMs: number;
    onProgress?: ProgressListener;
    handlingOf?: (file: ManifestFile, target: StagedFile) => FileHandling | undefined;
    /** Each complete, verified file is handed to it, to start on its way to disk. */
    writeBack?: WriteBack;
  },
): Promise<void> {
  for (const directory of manifest.directories) {
    await mkdir(join(stagingDir, directory), { recursive: true, mode: PRIVATE_FOLDER_MODE });
  }
  const pending = [...manifest.files];
  let current: OpenFile | undefined;
  let done = 0;
  try {
    const disk = new DiskBacklog(DISK_BACKLOG_BYTES);
    const open = (): Promise<OpenFile | undefined> => openNext(pending, stagingDir, disk, options.handlingOf);
    const credit = new CreditGrant(channel);
    const pool = new BufferPool(DECODE_BUFFER_BYTES, POOLED_BLOCKS);
    current = await open();
    for (;;) {
      const waitingSince = performance.now();
      const message = await channel.receive(options.idleTimeoutMs, 'the sender');
      credit.waited(performance.now() - waitingSince);
      if (message.kind === MessageKind.Data && !message.final) {
        if (!current) throw new BeamError('protocol', 'the sender sent more data than its manifest announced: nothing was installed');
        // Either way a message is exactly the file's next share; a decoded block goes back to the
        // pool once written, unless the sink gave the buffer (it keeps what it gives).
        const lent = current.decompressor ? current.sink.decodeBuffer?.(DECODE_BUFFER_BYTES) : undefined;
        const pooled = current.decompressor && !lent ? pool.take() : undefined;
        const into = lent ?? pooled;
        const bytes = into ? decompressBlock(message.body, current, current.decompressor!, into) : uncompressedShare(message.body, current);
        current.hash.update(bytes);
        // Counted before write(): a sink that takes its buffer over may hand it to a thread, which leaves this view empty.
        const length = bytes.length;
        await current.sink.write(bytes, () => pooled && pool.giveBack(pooled));
        current.remaining -= length;
        if (current.remaining === 0) {
          await closeVerified(current);
          options.writeBack?.add(current.path, current.file.size);
          current = await open();
        }
        done += length;
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
    await current?.sink.destroy();
  }
}

/**
 * One DATA message of a file sent as it is holds exactly its next DATA_CHUNK_BYTES (or what is
 * left): the sender reads whole chunks, and anything else could only be a sender flooding us
 * with tiny messages, each a write request and a buffer of its own.
 */
function uncompressedShare(body: Uint8Array, current: OpenFile): Uint8Array {
  if (body.length > current.remaining) throw new BeamError('protocol', 'the sender sent more data than its manifest announced: nothing was installed');
  const due = Math.min(current.remaining, DATA_CHUNK_BYTES);
  if (body.length !== due) {
    throw new BeamError('protocol', `the sender cut "${current.file.path}" into pieces of the wrong size (${body.length} bytes where ${due} were due): nothing was installed`);
  }
  return body;
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
  disk: DiskBacklog,
  handlingOf: ((file: ManifestFile, target: StagedFile) => FileHandling | undefined) | undefined,
): Promise<OpenFile | undefined> {
  for (;;) {
    const file = pending.shift();
    if (!file) return undefined;
    const target: StagedFile = { path: join(stagingDir, file.path), mode: privateFileMode(file.mode) };
    const handling = handlingOf?.(file, target);
    const sink = handling?.sink ?? streamSink(target, file.path, disk, handling?.rewriter);
    const decompressor = file.compressed ? new BlockDecompressor(COMPRESSED_CHUNK_BYTES) : undefined;
    const opened: OpenFile = { file, path: target.path, sink, decompressor, hash: createHash('sha256'), remaining: file.size };
    if (file.size > 0) return opened;
    await closeVerified(opened);
  }
}

/** Checks the hash and waits for the bytes to reach the file. */
async function closeVerified(current: OpenFile): Promise<void> {
  const { file, sink, hash } = current;
  if (hash.digest('hex') !== file.sha256) {
    await sink.destroy();
    throw new BeamError('protocol', `"${file.path}" does not match its SHA-256 (tampered or corrupted): nothing was installed`);
  }
  await sink.close();
}
