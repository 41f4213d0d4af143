import { open } from 'node:fs/promises';
import { BeamError } from '../errors.js';

/** Files this large start on their way to disk as soon as they are complete. */
export const WRITE_BACK_FROM_BYTES = 1024 * 1024;

/**
 * Received files written back to disk in the background, one at a time, as each is complete and
 * verified. Durability is the installer's (it fsyncs every staged file before its atomic rename),
 * but the kernel keeps a finished file's pages dirty until then, and that fsync then wrote a whole
 * GiB while both sides waited (0.3-0.4 s). Started early, the writing overlaps the files still
 * arriving, and the installer's pass finds little left (about 40-60 ms at 1 GiB).
 *
 * A write error is reported once per file handle (Linux), so the one a background fdatasync sees
 * would be lost to the installer's later pass: done() throws it, and the install must wait for
 * done() first. Linux only: on macOS fdatasync is a full flush of the drive's cache each time,
 * and the gain was measured on Linux.
 */
export class WriteBack {
  private chain: Promise<void> = Promise.resolve();
  private failure: { readonly path: string; readonly error: Error } | undefined;

  constructor(
    private readonly sync: (path: string) => Promise<void> = syncFileData,
    private readonly enabled = process.platform === 'linux',
  ) {}

  /** Queues a complete file (of at least WRITE_BACK_FROM_BYTES: smaller ones are left to the installer). */
  add(path: string, size: number): void {
    if (!this.enabled || size < WRITE_BACK_FROM_BYTES) return;
    this.chain = this.chain.then(() =>
      this.sync(path).catch((error: NodeJS.ErrnoException) => {
        // Moved or left out since (the work's pieces, a foreign file): not this pass's to write.
        if (error.code !== 'ENOENT') this.failure ??= { path, error };
      }),
    );
  }

  /** Resolves once every queued file is on disk; throws the first failure, which must stop the install. */
  async done(): Promise<void> {
    await this.chain;
    if (this.failure) {
      const { path, error } = this.failure;
      throw new BeamError('install', `cannot write ${path} to disk: ${error.message}: nothing was installed`, { cause: error });
    }
  }
}

/** A file's data on disk (fdatasync), as the installer's own pass does it for every staged file. */
export async function syncFileData(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
