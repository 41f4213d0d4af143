import { Worker } from 'node:worker_threads';
import { BeamError } from '../errors.js';
import { BUFFERS_IN_TURN, type BlockCompression } from './block-compression.js';
import { BufferPool } from './buffer-pool.js';
import { COMPRESSED_CHUNK_BYTES } from './limits.js';
import { loopIdleMeter, type IdleMeter } from './loop-idle.js';

export interface CompressRequest {
  readonly block: Uint8Array;
  readonly level: number;
  readonly fresh: boolean;
  readonly lastOfFile: boolean;
  /** Bodies the sending thread is done with, back for the thread to fill again. */
  readonly spare: readonly Uint8Array[];
}

export type CompressReply =
  /**
   * The block's compressed form, the block's buffer back for the next one, and how many body
   * buffers the thread has made so far.
   */
  | { readonly body: Uint8Array; readonly block: Uint8Array; readonly bodyBuffersMade: number }
  | { readonly error: string };

/**
 * Compression on a thread of its own. On the sending thread, zstd shared the event loop with UDX
 * and the seal: on a slow link the loop was busy most of the time and the level stayed low, and
 * where the link was the limit the loop could not tell its compressor from the transport. Here
 * the level follows how idle this thread is, and the sending thread is free to keep the link busy.
 */
export class CompressionThread implements BlockCompression {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (body: Uint8Array) => void; reject: (error: BeamError) => void }[] = [];
  /** Blocks on their way to the thread, and back. */
  private readonly spare = new BufferPool(COMPRESSED_CHUNK_BYTES, BUFFERS_IN_TURN);
  /** The buffers of the bodies the thread made (a released one stays here: it is still the thread's). */
  private readonly made = new WeakSet<ArrayBufferLike>();
  /** Released bodies, to go back with the next block. */
  private readonly released: Uint8Array[] = [];
  private bodyBuffers = 0;
  private failure: BeamError | undefined;
  readonly idle: IdleMeter;

  constructor() {
    this.worker = new Worker(new URL('./compress-worker.js', import.meta.url), {
      // Its garbage is one small result per block: a default young generation would be memory for nothing.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.idle = loopIdleMeter(this.worker.performance);
    this.worker.on('message', (reply: CompressReply) => this.take(reply));
    this.worker.on('error', (error) => this.fail(new BeamError('internal', `the compression thread failed: ${error.message}`, { cause: error })));
    this.worker.on('exit', (code) => this.fail(new BeamError('internal', `the compression thread stopped (exit code ${code})`)));
  }

  compress(block: Uint8Array, level: number, fresh: boolean, lastOfFile: boolean): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    // A copy of its own travels (transferred, not cloned): the caller's buffer is free at once.
    const copy = this.spare.copyOf(block);
    // A detached buffer (gone elsewhere since) would fail the message, and with it the beam.
    const spare = this.released.splice(0).filter((body) => body.buffer.byteLength > 0);
    const transfer = [copy.buffer, ...spare.map((body) => body.buffer)] as ArrayBuffer[];
    return new Promise<Uint8Array>((resolve, reject) => {
      try {
        this.worker.postMessage({ block: copy, level, fresh, lastOfFile, spare } satisfies CompressRequest, transfer);
      } catch (error) {
        // Replies are matched to blocks by their order: one that never left would shift them all.
        this.fail(new BeamError('internal', `the compression thread cannot take a block: ${(error as Error).message}`, { cause: error }));
        reject(this.failure!);
        return;
      }
      this.waiting.push({ resolve, reject });
    });
  }

  /** Whether this thread made `body` (released or not). */
  owns(body: Uint8Array): boolean {
    return this.made.has(body.buffer);
  }

  /** How many body buffers the thread has made (as of its latest reply). */
  get bodyBuffersMade(): number {
    return this.bodyBuffers;
  }

  /**
   * A body this thread made goes back to it with the next block, to be filled again: a fresh
   * buffer per block, made on this thread and freed on the sending one, kept the sender's peak
   * about 4 MiB higher once the floor kept source-like beams here (docs/BENCHMARKS.md, step 33).
   * Any other body is left alone, and so is one released before (already gone back, or waiting
   * to): a buffer transferred twice in one message would fail it, and one taken in elsewhere as
   * well would be filled on two threads. Beyond BUFFERS_IN_TURN waiting, a body is left to the
   * collector.
   */
  release(body: Uint8Array): void {
    const buffer = body.buffer;
    if (!this.made.has(buffer) || buffer.byteLength === 0 || this.released.length >= BUFFERS_IN_TURN) return;
    if (this.released.some((waiting) => waiting.buffer === buffer)) return;
    this.released.push(body);
  }

  async close(): Promise<void> {
    this.fail(new BeamError('internal', 'the compression thread was stopped'));
    await this.worker.terminate();
    this.spare.empty();
    this.released.length = 0;
  }

  private take(reply: CompressReply): void {
    if ('error' in reply) {
      this.fail(new BeamError('internal', `compression failed: ${reply.error}`));
      return;
    }
    this.spare.giveBack(reply.block);
    this.made.add(reply.body.buffer);
    this.bodyBuffers = reply.bodyBuffersMade;
    this.waiting.shift()?.resolve(reply.body);
  }

  private fail(error: BeamError): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}
