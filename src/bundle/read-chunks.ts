import { open } from 'node:fs/promises';

/**
 * Reads a file front to back into one buffer, reused for every chunk: the caller must be done
 * with a chunk (copied, hashed or sealed it) before asking for the next. Streaming a large
 * session this way allocates nothing per chunk, which keeps memory flat.
 */
export async function* readChunks(path: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(chunkBytes);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
