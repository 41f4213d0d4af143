import { parentPort } from 'node:worker_threads';
import { BODY_BUFFER_BYTES, BUFFERS_IN_TURN, ReusedCompressor } from './block-compression.js';
import { BufferPool } from './buffer-pool.js';
import type { CopyOut } from './codec.js';
import type { CompressReply, CompressRequest } from './compression-thread.js';

/** The compression thread: compresses each block it is handed, in order, and hands its buffer back. */
const port = parentPort;
if (!port) throw new Error('compress-worker runs as a worker thread');

const compressor = new ReusedCompressor();
/**
 * Each body in a buffer of its own (a small Buffer shares Node's pool, and only its own can be
 * transferred), from the bodies the sending thread handed back when it can.
 */
const bodies = new BufferPool(BODY_BUFFER_BYTES, BUFFERS_IN_TURN);
const ownedCopy: CopyOut = (bytes) => bodies.copyOf(bytes);

port.on('message', (request: CompressRequest) => {
  for (const body of request.spare) bodies.giveBack(body);
  try {
    const body = compressor.compress(request.block, request.level, request.fresh, request.lastOfFile, ownedCopy);
    port.postMessage({ body, block: request.block, bodyBuffersMade: bodies.buffersMade } satisfies CompressReply, [body.buffer as ArrayBuffer, request.block.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ error: (error as Error).message } satisfies CompressReply);
  }
});
