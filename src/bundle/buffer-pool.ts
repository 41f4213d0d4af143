/**
 * Buffers for decoded blocks, handed back once their bytes are on the disk. A fresh 256 KiB
 * buffer per block made a GiB of garbage per GiB received, outside V8's heap, where it is only
 * collected when V8 notices the external memory: tens of MiB of the receiver's peak. With the
 * disk backlog bounded, a handful of buffers go round.
 */
export class BlockPool {
  private readonly free: Buffer[] = [];

  constructor(
    private readonly bufferBytes: number,
    private readonly keepAtMost: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.bufferBytes);
  }

  /** The caller must hold no view of `buffer` any more, nor hand one to anybody who does. */
  giveBack(buffer: Buffer): void {
    if (buffer.byteLength === this.bufferBytes && this.free.length < this.keepAtMost) this.free.push(buffer);
  }
}
