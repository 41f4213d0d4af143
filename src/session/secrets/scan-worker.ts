import { parentPort } from 'node:worker_threads';
import { scanPiece, type PieceRequest } from './scan-piece.js';

/** One scanning thread of SecretScanPool: pieces of bytes in, kinds (and redacted bytes) out. */
const port = parentPort;
if (!port) throw new Error('scan-worker runs only as a worker thread');
port.on('message', ({ id, request }: { id: number; request: PieceRequest }) => {
  // The piece's buffer goes back with the answer, for the next piece: the scanning thread's
  // garbage would be collected only once V8 noticed tens of MiB of it (external memory).
  const piece = request.bytes;
  scanPiece(request).then(
    (result) => {
      const redacted = result.text && result.redacted ? new Uint8Array(result.redacted) : undefined;
      const answer = result.text && redacted ? { ...result, redacted } : result;
      port.postMessage({ id, result: answer, piece }, redacted ? [piece.buffer as ArrayBuffer, redacted.buffer as ArrayBuffer] : [piece.buffer as ArrayBuffer]);
    },
    (error: unknown) => port.postMessage({ id, error: error instanceof Error ? error.message : String(error) }),
  );
});
