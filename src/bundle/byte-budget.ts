/**
 * Bytes handed to something slower (the disk, a worker thread) and not yet done with, and a wait
 * until they are back under a limit. The producer goes on as soon as they are, not once they are
 * all done: waiting for empty left both sides idle in turn.
 */
export class ByteBudget {
  private bytes = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly limitBytes: number) {}

  add(bytes: number): void {
    this.bytes += bytes;
  }

  release(bytes: number): void {
    this.bytes -= bytes;
    if (this.bytes <= this.limitBytes) {
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    }
  }

  /** Resolves once the bytes are under the limit; rejects with `failed` if that comes first. */
  async underLimit(failed: Promise<never>): Promise<void> {
    while (this.bytes > this.limitBytes) {
      await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), failed]);
    }
  }
}
