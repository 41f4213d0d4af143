import { open } from 'node:fs/promises';
import { BlockCompressor, MIN_LEVEL } from './codec.js';
import { readFully } from './read-chunks.js';

/** How much of a file's start decides whether the whole file travels compressed. */
export const SAMPLE_BYTES = 64 * 1024;
/** A sample that zstd's fastest level shrinks to at most this share of itself is worth it. */
const WORTH_IT = 7 / 8;

/**
 * Tells which binary files are worth compressing, from the start of each. Text always is; of
 * binaries, some are mostly empty (a SQLite database such as a session's session.db: its 20 KB
 * shrink to about 1 KB) and some are already compressed or random (images, rewind backups of
 * such files), where compression would cost the sender CPU for nothing. One sample per file: a
 * 64 KiB read the page cache answers (the scan has just read the file) and about 0.1 ms of zstd.
 * A file is judged by its start: one with a compressible header and a random body is compressed
 * whole, which costs the sender CPU but no bytes (zstd stores such blocks as they are). One call
 * at a time: the sample buffer is shared.
 */
export class CompressibilityProbe {
  private readonly compressor = new BlockCompressor(MIN_LEVEL, SAMPLE_BYTES);
  private readonly sample = Buffer.allocUnsafe(SAMPLE_BYTES);

  /** Whether these bytes (a file's start) shrink enough; each call is a frame of its own. */
  compresses(bytes: Uint8Array): boolean {
    if (bytes.length === 0) return false;
    return this.compressor.compress(bytes, true).length <= bytes.length * WORTH_IT;
  }

  /** Whether the file at `path` is worth compressing, judged from its first SAMPLE_BYTES. */
  async fileCompresses(path: string): Promise<boolean> {
    const handle = await open(path, 'r');
    try {
      const filled = await readFully(handle, this.sample);
      return this.compresses(this.sample.subarray(0, filled));
    } finally {
      await handle.close();
    }
  }
}
