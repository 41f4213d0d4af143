import { InlineCompression, type BlockCompression } from './block-compression.js';
import { CompressionThread } from './compression-thread.js';
import type { IdleMeter } from './loop-idle.js';

/**
 * Every level but the fastest is compressed on a thread of its own. At the fastest, zstd takes
 * 0.3-0.8 ms per 256 KiB block (highly compressible to source-like history), and handing a block
 * to a thread and back cost about 0.1 ms more of the sender's CPU: on loopback, where both ends
 * share two cores and the level sits at 1, 1 GiB of history took the sender 0.3-0.4 s more CPU
 * with every block on the thread. Above it, on the sending thread, the compressor shared its
 * event loop with UDX and the seal: on a 20 MB/s link that loop was 80-90% busy at levels 2 and
 * 3, and the level (which falls for a busy sender) stayed low.
 */
export const THREAD_FROM_LEVEL = 2;

/**
 * Compression for a beam whose level adapts: the fastest level on the sending thread, the others
 * on a thread started the first time one is wanted. A frame lives where it began: the block that
 * brings a new level ends its frame (codec.ts), and the next frame begins where the new level
 * belongs. The sender's idleness is then the compression thread's alone: a sending thread busy
 * with the transport does not hold the level back, which is right where the thread has a core
 * of its own; where both ends share a machine, the receiver's busy share does (adaptive-level.ts).
 */
export class PlacedCompression implements BlockCompression {
  private readonly inline = new InlineCompression();
  private thread: CompressionThread | undefined;
  /** Where the frame being written lives, and its level; undefined between frames. */
  private frame: { readonly place: BlockCompression; readonly level: number } | undefined;
  /** Where the latest block went: its idleness is the one that counts. */
  private lastPlace: BlockCompression = this.inline;

  readonly idle: IdleMeter = () => {
    // Both are read every time, so that neither reports a stale stretch once it is used again.
    const inline = this.inline.idle();
    const thread = this.thread?.idle();
    return this.lastPlace === this.thread && thread !== undefined ? thread : inline;
  };

  compress(block: Uint8Array, level: number, fresh: boolean, lastOfFile: boolean): Promise<Uint8Array> {
    const startsFrame = fresh || this.frame === undefined;
    const frame = startsFrame ? { place: this.placeFor(level), level } : this.frame!;
    this.lastPlace = frame.place;
    const body = frame.place.compress(block, level, startsFrame, lastOfFile);
    this.frame = lastOfFile || level !== frame.level ? undefined : frame;
    return body;
  }

  /**
   * Each body goes back to where it was made. Both places' buffers are BODY_BUFFER_BYTES long, so
   * only the thread's record of what it made tells them apart: the sending thread's pool would
   * take in a thread's body too, and fill it while the thread did.
   */
  release(body: Uint8Array): void {
    if (this.thread?.owns(body)) this.thread.release(body);
    else this.inline.release(body);
  }

  /** Whether a compression thread was started. */
  get threadStarted(): boolean {
    return this.thread !== undefined;
  }

  async close(): Promise<void> {
    await Promise.all([this.inline.close(), this.thread?.close()]);
  }

  private placeFor(level: number): BlockCompression {
    if (level < THREAD_FROM_LEVEL) return this.inline;
    this.thread ??= new CompressionThread();
    return this.thread;
  }
}
