import { open, type FileHandle } from 'node:fs/promises';

/**
 * Reads from the handle's position into `buffer` from `start` until it is full or the file ends;
 * returns where the bytes end. A file system may return less than was asked (network and FUSE
 * file systems do), so one read is not enough to fill a buffer.
 */
export async function readFully(handle: FileHandle, buffer: Uint8Array, start = 0): Promise<number> {
  let filled = start;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/**
 * Reads a file front to back, in chunks of exactly chunkBytes but the last, into two buffers used
 * in turn: while the caller works on one chunk, the next is already being read into the other.
 * The caller must be done with a chunk (copied, hashed or sealed it) before asking for the next.
 * Streaming a large session this way allocates nothing per chunk, which keeps memory flat, and
 * keeps the disk busy while the network sends.
 */
export async function* readChunks(path: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)] as const;
  let turn = 0;
  // Each chunk is filled completely but at the end of the file: a compressed block must hold
  // exactly its share of the file (the receiver refuses any other size).
  const readInto = (buffer: Buffer): Promise<number> => readFully(handle, buffer);
  let pending = readInto(buffers[0]);
  try {
    for (;;) {
      const bytesRead = await pending;
      if (bytesRead === 0) return;
      const current = buffers[turn]!;
      turn = 1 - turn;
      pending = readInto(buffers[turn]!);
      yield current.subarray(0, bytesRead);
    }
  } finally {
    await pending.catch(() => undefined);
    await handle.close();
  }
}
