import { Worker } from 'node:worker_threads';
import { BeamError, type ErrorKind } from '../../errors.js';
import { BufferPool } from '../../bundle/buffer-pool.js';
import { ByteBudget } from '../../bundle/byte-budget.js';
import type { FileSink, StagedFile } from '../../bundle/file-sink.js';
import { DECODE_BUFFER_BYTES } from '../../bundle/limits.js';
import type { EventTransformReport, MoveDescription } from './events.js';

export interface WorkerRequest {
  readonly chunk?: Uint8Array;
  readonly finish?: true;
}

export type WorkerReply =
  /** The chunk's bytes are written: its buffer comes back for the next one. */
  | { readonly written: Uint8Array }
  | { readonly report: EventTransformReport }
  | { readonly error: { readonly kind: ErrorKind; readonly message: string; readonly forPeer: string } };

/** Bytes handed to the thread and not yet written by it: enough to keep it busy, no more. */
const IN_FLIGHT_BYTES = 4 * 1024 * 1024;
/** The buffers chunks travel in (a decoded block's, so that blocks are decoded into them); a larger chunk gets one of its own. */
const CHUNK_BUFFER_BYTES = DECODE_BUFFER_BYTES;

/**
 * Rewrites events.jsonl on a thread of its own while it arrives (the same EventLogRewriter, so
 * the same result). On one thread the rewrite (a JSON.parse per line) took 2-3 s per GiB of
 * history on top of opening, decoding and hashing it; here the two overlap. The thread gets a
 * small young generation: the parse makes garbage fast, and a default-sized one was most of the
 * receiver's heap.
 */
export class EventLogWorker implements FileSink {
  private readonly worker: Worker;
  /** Counted in buffer bytes, not payload: memory is what counts, and a short chunk still takes a whole buffer. */
  private readonly inFlight = new ByteBudget(IN_FLIGHT_BYTES);
  private rejectFailed: (error: BeamError) => void = () => undefined;
  private readonly failed: Promise<never>;
  private resolveReport: (report: EventTransformReport) => void = () => undefined;
  private readonly finished: Promise<EventTransformReport>;
  private result: EventTransformReport | undefined;
  /** Buffers back from the thread (a fresh one per chunk was about 45 MiB of the receiver's peak at 1 GiB). */
  private readonly spare = new BufferPool(CHUNK_BUFFER_BYTES, Math.ceil(IN_FLIGHT_BYTES / CHUNK_BUFFER_BYTES) + 2);
  private failure: BeamError | undefined;
  /** The buffer decodeBuffer() last gave out: a chunk in it crosses to the thread as it is. */
  private lent: ArrayBuffer | undefined;

  constructor(target: StagedFile, move: MoveDescription) {
    this.failed = new Promise<never>((_resolve, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
    this.finished = new Promise((resolve) => (this.resolveReport = resolve));
    this.worker = new Worker(new URL('./rewrite-worker.js', import.meta.url), {
      workerData: { target, move },
      // 8 MiB left the receiver's peak at 161-180 MiB on a 1 GiB history, 4 at 144-154, at the
      // same speed; 2 was no better.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.on('message', (reply: WorkerReply) => this.take(reply));
    this.worker.on('error', (error) => this.fail(new BeamError('install', `the history rewrite failed: ${error.message}`, { cause: error })));
    this.worker.on('exit', (code) => {
      if (!this.result && !this.failure) this.fail(new BeamError('install', `the history rewrite stopped (exit code ${code})`));
    });
  }

  /** Set once close() has resolved. */
  get report(): EventTransformReport | undefined {
    return this.result;
  }

  decodeBuffer(bytes: number): Buffer {
    const buffer = bytes <= CHUNK_BUFFER_BYTES ? this.spare.take() : Buffer.allocUnsafeSlow(bytes);
    this.lent = buffer.buffer as ArrayBuffer;
    return buffer;
  }

  async write(bytes: Uint8Array, released: () => void): Promise<void> {
    if (this.failure) throw this.failure;
    // A chunk decoded into a buffer of ours is handed over as it is (a copy of each block cost
    // the receiving thread about 5% of its time); any other is copied into one of ours, and the
    // caller's goes straight back to its pool.
    const ours = this.lent !== undefined && bytes.buffer === this.lent;
    this.lent = undefined;
    const chunk = ours ? bytes : this.spare.copyOf(bytes);
    released();
    this.inFlight.add(chunk.buffer.byteLength);
    this.worker.postMessage({ chunk } satisfies WorkerRequest, [chunk.buffer as ArrayBuffer]);
    await this.inFlight.underLimit(this.failed);
  }

  async close(): Promise<void> {
    this.worker.postMessage({ finish: true } satisfies WorkerRequest);
    this.result = await Promise.race([this.finished, this.failed]);
    // The receiver keeps the report through the person's second look; the buffers need not stay.
    this.spare.empty();
  }

  async destroy(): Promise<void> {
    this.fail(new BeamError('install', 'the history rewrite was stopped'));
    await this.worker.terminate();
  }

  private take(reply: WorkerReply): void {
    if ('written' in reply) {
      this.inFlight.release(reply.written.buffer.byteLength);
      this.spare.giveBack(reply.written);
    } else if ('report' in reply) {
      this.resolveReport(reply.report);
    } else {
      this.fail(new BeamError(reply.error.kind, reply.error.message, { forPeer: reply.error.forPeer }));
    }
  }

  private fail(error: BeamError): void {
    this.failure ??= error;
    this.rejectFailed(error);
  }
}
