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
}

export type CompressReply =
  /** The block's compressed form, and the block's buffer back for the next one. */
  | { readonly body: Uint8Array; readonly block: Uint8Array }
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
    return new Promise<Uint8Array>((resolve, reject) => {
      try {
        this.worker.postMessage({ block: copy, level, fresh, lastOfFile } satisfies CompressRequest, [copy.buffer as ArrayBuffer]);
      } catch (error) {
        // Replies are matched to blocks by their order: one that never left would shift them all.
        this.fail(new BeamError('internal', `the compression thread cannot take a block: ${(error as Error).message}`, { cause: error }));
        reject(this.failure!);
        return;
      }
      this.waiting.push({ resolve, reject });
    });
  }

  /**
   * Bodies are not reused here: each is a buffer the thread made and handed over, and reusing
   * them would mean handing them back for it to fill. Levels 2 and up, the thread's, are
   * reached only while the receiver waits for data, where bodies come at the link's pace.
   */
  release(): void {}

  async close(): Promise<void> {
    this.fail(new BeamError('internal', 'the compression thread was stopped'));
    await this.worker.terminate();
    this.spare.empty();
  }

  private take(reply: CompressReply): void {
    if ('error' in reply) {
      this.fail(new BeamError('internal', `compression failed: ${reply.error}`));
      return;
    }
    this.spare.giveBack(reply.block);
    this.waiting.shift()?.resolve(reply.body);
  }

  private fail(error: BeamError): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}
