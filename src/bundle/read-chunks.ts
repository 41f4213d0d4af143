import { open } from 'node:fs/promises';

/**
 * Reads a file front to back into two buffers, used in turn: while the caller works on one
 * chunk, the next is already being read into the other. The caller must be done with a chunk
 * (copied, hashed or sealed it) before asking for the next. Streaming a large session this way allocates
 * nothing per chunk, which keeps memory flat, and keeps the disk busy while the network sends.
 */
export async function* readChunks(path: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)] as const;
  let turn = 0;
  const readInto = (buffer: Buffer): Promise<number> => handle.read(buffer, 0, chunkBytes, null).then((result) => result.bytesRead);
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
