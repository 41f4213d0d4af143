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
 * How much one read asks for. Reading 1 GiB in reads of 64 KiB (a DATA message of a file sent as
 * it is) cost 0.82 s of CPU, 0.33 s of it on the main thread; in reads of 1 MiB, 0.30 and 0.06 s:
 * each read is a trip through libuv's thread pool and a promise, whatever its size.
 */
export const READ_BYTES = 1024 * 1024;

/**
 * The two buffers a file is read into in turn. One pair serves every file of a beam, read one
 * after the other: a new pair of 1 MiB per file (an incompressible session is 8 MiB files) was
 * memory outside V8's heap that lived long enough to be promoted, and started a full collection
 * every few files (docs/BENCHMARKS.md, step 37).
 */
export type ReadBuffers = readonly [Buffer, Buffer];

export function readBuffers(bytes = READ_BYTES): ReadBuffers {
  return [Buffer.allocUnsafe(bytes), Buffer.allocUnsafe(bytes)];
}

/**
 * Reads a file front to back, in chunks of exactly chunkBytes but the last, out of the two
 * buffers used in turn (each filled with as many whole chunks as it holds, at least one): while
 * the caller works on the chunks of one, the other is already being filled. The caller must be
 * done with a chunk (copied, hashed or sealed it) before asking for the next, and must not read
 * another file into the same buffers until this one is finished. Streaming a large session this
 * way allocates nothing per chunk, which keeps memory flat, and keeps the disk busy while the
 * network sends.
 */
export async function* readChunks(path: string, chunkBytes: number, buffers: ReadBuffers = readBuffers(chunkBytes)): AsyncGenerator<Buffer> {
  if (buffers[0].length !== buffers[1].length) throw new RangeError('read buffers of two sizes');
  const handle = await open(path, 'r');
  // A whole number of chunks per read: every chunk but the file's last is then complete.
  const readBytes = Math.floor(buffers[0].length / chunkBytes) * chunkBytes;
  const halves = readBytes > 0 ? ([buffers[0].subarray(0, readBytes), buffers[1].subarray(0, readBytes)] as const) : readBuffers(chunkBytes);
  let turn = 0;
  // Each chunk is filled completely but at the end of the file: a compressed block must hold
  // exactly its share of the file (the receiver refuses any other size).
  const readInto = (buffer: Buffer): Promise<number> => readFully(handle, buffer);
  let pending = readInto(halves[0]);
  try {
    for (;;) {
      const bytesRead = await pending;
      if (bytesRead === 0) return;
      const current = halves[turn]!;
      turn = 1 - turn;
      // Read on even after a short read: a file that grew since is then seen as changed.
      pending = readInto(halves[turn]!);
      for (let start = 0; start < bytesRead; start += chunkBytes) yield current.subarray(start, Math.min(bytesRead, start + chunkBytes));
    }
  } finally {
    await pending.catch(() => undefined);
    await handle.close();
  }
}
