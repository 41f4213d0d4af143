import { BufferPool } from './buffer-pool.js';
import { BlockCompressor, compressedBound, type CopyOut } from './codec.js';
import { COMPRESSED_CHUNK_BYTES } from './limits.js';
import { loopIdleMeter, type IdleMeter } from './loop-idle.js';

/**
 * Blocks handed to the compressor ahead of the one being sent: while the sender waits for credit
 * or the socket, the compressor works on the next; more would only hold memory.
 */
export const BLOCKS_AHEAD = 2;
/** Buffers that go round for blocks or bodies: the blocks ahead, the one being sent, and one more. */
export const BUFFERS_IN_TURN = BLOCKS_AHEAD + 2;
/** How big a pooled body's buffer is, on either thread: room for any one block compressed. */
export const BODY_BUFFER_BYTES = compressedBound(COMPRESSED_CHUNK_BYTES);

/** How the blocks of compressed files become DATA bodies: on the sending thread, or beside it. */
export interface BlockCompression {
  /**
   * The compressed form of the next block of a file, at `level`: zstd applies a new level from
   * its next frame, so the block that brings one ends the frame it is in. `fresh` begins a new
   * frame (a file's first block, or the first after a frame ended elsewhere), abandoning one
   * left unfinished. Blocks are compressed in the order they are handed in; the caller may reuse
   * `block` once this returns. The body may live in a buffer that serves again once released.
   */
  compress(block: Uint8Array, level: number, fresh: boolean, lastOfFile: boolean): Promise<Uint8Array>;
  /**
   * The caller holds no view of `body` any more (it sealed it), and says so once per body: its
   * buffer may hold a later one. A hint: a body never released is left to the collector, and a
   * compressor that reuses nothing may ignore it.
   */
  release(body: Uint8Array): void;
  /** How idle the compressor's thread was since the previous call (0 to 1). */
  readonly idle: IdleMeter;
  close(): Promise<void>;
}

/**
 * One zstd context for the whole beam, frame after frame. A context per file, or per frame, held
 * its native memory (megabytes each) until V8 collected the object, which a thread that makes
 * little garbage seldom does: a sender's peak grew by tens of MiB.
 */
export class ReusedCompressor {
  private compressor: BlockCompressor | undefined;

  compress(block: Uint8Array, level: number, fresh: boolean, lastOfFile: boolean, copy?: CopyOut): Uint8Array {
    if (!this.compressor) {
      this.compressor = new BlockCompressor(level, COMPRESSED_CHUNK_BYTES);
    } else {
      if (fresh) this.compressor.abandonFrame();
      this.compressor.setLevel(level);
    }
    return this.compressor.compress(block, lastOfFile, copy);
  }
}

/**
 * Compression on the sending thread itself: its idleness is that thread's event loop's. Bodies
 * go round in a few buffers of their own: a new one per block (with the sealed frame and the
 * Noise stream's copy, three per block) was freed only as V8 got round to it, and malloc kept
 * what they left: 3-4 MiB of the sender's peak at 1 GiB.
 */
export class InlineCompression implements BlockCompression {
  private readonly compressor = new ReusedCompressor();
  private readonly bodies = new BufferPool(BODY_BUFFER_BYTES, BUFFERS_IN_TURN);
  private readonly copyOut: CopyOut = (bytes) => this.bodies.copyOf(bytes);
  readonly idle: IdleMeter = loopIdleMeter();

  compress(block: Uint8Array, level: number, fresh: boolean, lastOfFile: boolean): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.compressor.compress(block, level, fresh, lastOfFile, this.copyOut));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  release(body: Uint8Array): void {
    this.bodies.giveBack(body);
  }

  async close(): Promise<void> {
    this.bodies.empty();
  }
}
