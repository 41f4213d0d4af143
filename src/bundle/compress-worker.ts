import { parentPort } from 'node:worker_threads';
import { ReusedCompressor } from './block-compression.js';
import type { CopyOut } from './codec.js';
import type { CompressReply, CompressRequest } from './compression-thread.js';

/** The compression thread: compresses each block it is handed, in order, and hands its buffer back. */
const port = parentPort;
if (!port) throw new Error('compress-worker runs as a worker thread');

const compressor = new ReusedCompressor();
/** Each body in a buffer of its own: a small Buffer shares Node's pool, and only its own can be transferred. */
const ownedCopy: CopyOut = (bytes) => new Uint8Array(bytes);

port.on('message', (request: CompressRequest) => {
  try {
    const body = compressor.compress(request.block, request.level, request.fresh, request.lastOfFile, ownedCopy);
    port.postMessage({ body, block: request.block } satisfies CompressReply, [body.buffer as ArrayBuffer, request.block.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ error: (error as Error).message } satisfies CompressReply);
  }
});
