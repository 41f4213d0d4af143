import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { BeamError, toBeamError } from '../errors.js';
import type { DiskBacklog } from './disk-backlog.js';

/**
 * Where one received file's bytes go, in order, once they are cut from the stream by the
 * manifest's sizes. The hash is checked by the receiver on the bytes as sent, whatever the sink
 * makes of them.
 */
export interface FileSink {
  /**
   * Takes the file's next bytes. `released` is called once the sink holds no view of them (the
   * caller then reuses their buffer). Resolves when the sink can take more.
   */
  write(bytes: Uint8Array, released: () => void): Promise<void>;
  /**
   * For a compressed file: a buffer of `bytes` the sink would like its next block decoded into
   * (one it can hand on whole, to a worker say, where it would otherwise copy). The write() that
   * follows takes that buffer over; the caller never reuses it.
   */
  decodeBuffer?(bytes: number): Buffer;
  /** Every byte arrived and matched the hash: resolves once the file is complete on disk. */
  close(): Promise<void>;
  /** The transfer failed: stop at once; resolves once nothing writes any more (the caller then discards the staged files). */
  destroy(): Promise<void>;
}

/** Where a received file is staged: its path and the permissions it is created with. */
export interface StagedFile {
  readonly path: string;
  readonly mode: number;
}

/**
 * Rewrites a file's bytes on their way to disk, on the receiving thread. Returned parts must not
 * be changed afterwards; they are written in order. A chunk handed to push() is reused once the
 * parts returned for it are written: a rewriter that keeps bytes of it for later (a line cut by
 * the chunk's end) must copy them.
 */
export interface FileRewriter {
  push(bytes: Uint8Array): readonly Uint8Array[];
  finish(): readonly Uint8Array[];
}

/** The usual sink: a new file (never an existing one), written through a bounded backlog. */
export function streamSink(target: StagedFile, name: string, backlog: DiskBacklog, rewriter?: FileRewriter): FileSink {
  const out = createWriteStream(target.path, { flags: 'wx', mode: target.mode });
  let failure: BeamError | undefined;
  const failed = new Promise<never>((_resolve, reject) =>
    out.once('error', (error) => {
      failure = writeError(name, error);
      reject(failure);
    }),
  );
  failed.catch(() => undefined);
  return {
    // A failed file stops the transfer at its next write, not at its end (a full disk would
    // otherwise take the rest of a long file first).
    write: (bytes, released) => (failure ? Promise.reject(failure) : backlog.write(out, rewriter ? rewriter.push(bytes) : [bytes], failed, released)),
    async close() {
      // The rewriter's last parts are a line or two and the closing block: 'finish' waits for them.
      for (const part of rewriter?.finish() ?? []) out.write(part);
      out.end();
      await Promise.race([once(out, 'finish'), failed]);
    },
    async destroy() {
      if (out.closed) return;
      const closed = once(out, 'close').catch(() => undefined);
      out.destroy();
      await closed;
    },
  };
}

export function writeError(name: string, error: Error): BeamError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return toBeamError(error);
  return new BeamError('install', `cannot write ${name}: ${error.message}`, { cause: error });
}
