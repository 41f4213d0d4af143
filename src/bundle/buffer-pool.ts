/**
 * Buffers of one size, handed back once nobody holds a view of them, so that a stream of large
 * chunks makes no garbage. A fresh buffer per chunk was collected only when V8 noticed the memory
 * outside its heap: tens of MiB of a side's peak, and when the chunk crossed to a worker, counted
 * against the thread that made it until the worker's collector ran. Used for compressed and
 * decoded blocks, the secret scan's pieces and the history thread's chunks.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private made = 0;

  constructor(
    private readonly bufferBytes: number,
    private readonly keepAtMost: number,
  ) {}

  /** A whole buffer, with its own ArrayBuffer (it may be transferred to a worker). */
  take(): Buffer {
    return Buffer.from(this.free.pop() ?? this.newBuffer());
  }

  /** How many buffers of the pool's size it has made: with buffers given back, no more than it keeps. */
  get buffersMade(): number {
    return this.made;
  }

  private newBuffer(): ArrayBuffer {
    this.made++;
    return new ArrayBuffer(this.bufferBytes);
  }

  /**
   * A copy of `bytes` in a buffer of its own (it may be transferred to a worker): one of the
   * pool's when it fits, a new one of its exact size when it does not.
   */
  copyOf(bytes: Uint8Array): Uint8Array {
    const copy = bytes.length <= this.bufferBytes ? this.take().subarray(0, bytes.length) : new Uint8Array(bytes.length);
    copy.set(bytes);
    return copy;
  }

  /** Lets go of every buffer kept. */
  empty(): void {
    this.free.length = 0;
  }

  /**
   * Any view of a buffer of the pool's size (as it came back from a worker, say). The caller must
   * hold no view of it any more, nor have handed one to anybody who does.
   */
  giveBack(view: Uint8Array): void {
    const buffer = view.buffer;
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== this.bufferBytes || this.free.length >= this.keepAtMost) return;
    // Given back twice, a buffer would be handed to two takers at once.
    if (!this.free.includes(buffer)) this.free.push(buffer);
  }
}
