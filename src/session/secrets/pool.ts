import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PieceRequest, PieceResult } from './scan-piece.js';

interface Reply {
  readonly id: number;
  readonly result?: PieceResult;
  /** The request's bytes, handed back for reuse. */
  readonly piece?: Uint8Array;
  readonly error?: string;
}

/** A piece's result, and its bytes back (the caller may reuse their buffer). */
export interface ScannedPiece {
  readonly result: PieceResult;
  readonly piece: Uint8Array | undefined;
}

interface Pending {
  resolve(scanned: ScannedPiece): void;
  reject(error: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/**
 * Secret scanning is one of the slowest steps before a code is shown (with the prefilter about
 * 2 GB/s per core on session text, 600 MB/s on source code; secretlint's rules alone managed
 * 80-200 MB/s), and it is pure CPU on independent pieces of text: worker threads decode and scan
 * pieces while the calling thread reads and hashes the files and keeps the results in order.
 * Each worker costs its own heap and its own copy of the rules (about 35 MiB), so there are at
 * most (cores - 1) of them: peak memory is one of the things we promise to keep low.
 */
export class SecretScanPool {
  private readonly threads: Thread[];
  private nextId = 0;
  private failure: Error | undefined;

  constructor(workers: number) {
    this.threads = Array.from({ length: workers }, () => this.startThread());
  }

  get size(): number {
    return this.threads.length;
  }

  /** A thread failed (at its start, perhaps): every scan through this pool fails. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Starts more threads, up to `workers` in all. */
  growTo(workers: number): void {
    while (this.threads.length < workers) this.threads.push(this.startThread());
  }

  /** Started early and not yet used: the threads do not keep the process alive meanwhile. */
  unref(): void {
    for (const thread of this.threads) thread.worker.unref();
  }

  ref(): void {
    for (const thread of this.threads) thread.worker.ref();
  }

  /** The piece's buffer is handed over to the worker (transferred, not copied), and comes back with the result. */
  scan(request: PieceRequest): Promise<ScannedPiece> {
    if (this.failure) return Promise.reject(this.failure);
    const thread = this.threads.reduce((least, candidate) => (candidate.pending.size < least.pending.size ? candidate : least));
    const id = this.nextId++;
    return new Promise<ScannedPiece>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, request }, [request.bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }

  private startThread(): Thread {
    // A small young generation: the scan makes short-lived garbage fast, and a default-sized one
    // per thread was most of the sender's peak memory on a 1 GiB session.
    const worker = new Worker(new URL('./scan-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    const thread: Thread = { worker, pending: new Map() };
    worker.on('message', (reply: Reply) => {
      const waiting = thread.pending.get(reply.id);
      if (!waiting) return;
      thread.pending.delete(reply.id);
      if (reply.error !== undefined) waiting.reject(new Error(`secret scan failed: ${reply.error}`));
      else if (reply.result) waiting.resolve({ result: reply.result, piece: reply.piece });
      else waiting.reject(new Error('secret scan thread sent an empty reply'));
    });
    const fail = (error: Error): void => {
      this.failure ??= new Error(`secret scan thread failed: ${error.message}`);
      for (const waiting of thread.pending.values()) waiting.reject(this.failure);
      thread.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (thread.pending.size > 0) fail(new Error(`exited with ${code}`));
    });
    return thread;
  }
}

/** One core is left to the thread that reads and hashes; at most 3 scan threads, for memory. */
export function scanThreadCount(): number {
  return Math.min(availableParallelism() - 1, 3);
}

let early: SecretScanPool | undefined;

/**
 * Starts one scan thread ahead of the scan: it takes about 60 ms to load its rules, which
 * otherwise held up the start of the scan while the sender was still finding the session and
 * joining the DHT. The next scanForSecrets takes it whatever its size (a large scan starts the
 * rest of its threads then); if none does, it never keeps the process alive, and
 * stopEarlyScanThreads ends it. One, not all: a small session's scan needs no more, and each
 * costs about 35 MiB.
 */
export function startScanThreadsEarly(): void {
  if (early || scanThreadCount() <= 0) return;
  early = new SecretScanPool(1);
  early.unref();
}

/** The threads started early, if any and still sound, for one scan, which closes them when it ends. */
export function takeEarlyScanThreads(): SecretScanPool | undefined {
  const pool = early;
  early = undefined;
  if (pool?.failed) {
    // The scan starts its own as before, and says what fails if that fails too.
    void pool.close();
    return undefined;
  }
  pool?.ref();
  return pool;
}

/** Ends the threads started early that no scan took (a send that stopped before its scan). */
export async function stopEarlyScanThreads(): Promise<void> {
  const pool = early;
  early = undefined;
  await pool?.close();
}
