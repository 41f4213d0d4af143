import { parentPort } from 'node:worker_threads';
import { ReusedCompressor } from './block-compression.js';
import type { CompressReply, CompressRequest } from './compression-thread.js';

/** The compression thread: compresses each block it is handed, in order, and hands its buffer back. */
const port = parentPort;
if (!port) throw new Error('compress-worker runs as a worker thread');

const compressor = new ReusedCompressor();

port.on('message', (request: CompressRequest) => {
  try {
    const body = ownedCopy(compressor.compress(request.block, request.level, request.fresh, request.lastOfFile));
    port.postMessage({ body, block: request.block } satisfies CompressReply, [body.buffer as ArrayBuffer, request.block.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ error: (error as Error).message } satisfies CompressReply);
  }
});

/** A small Buffer shares Node's pool with others: only a buffer of its own can be transferred. */
function ownedCopy(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}
