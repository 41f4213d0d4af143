import { parentPort } from 'node:worker_threads';
import { scanPiece, type PieceRequest } from './scan-piece.js';

/** One scanning thread of SecretScanPool: pieces of bytes in, kinds (and redacted bytes) out. */
const port = parentPort;
if (!port) throw new Error('scan-worker runs only as a worker thread');
port.on('message', ({ id, request }: { id: number; request: PieceRequest }) => {
  scanPiece(request).then(
    (result) => port.postMessage({ id, result }, result.text && result.redacted ? [result.redacted.buffer as ArrayBuffer] : []),
    (error: unknown) => port.postMessage({ id, error: error instanceof Error ? error.message : String(error) }),
  );
});
