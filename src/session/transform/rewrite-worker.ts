import { closeSync, openSync, writevSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BeamError } from '../../errors.js';
import { writeError, type StagedFile } from '../../bundle/file-sink.js';
import { EventLogRewriter, type MoveDescription } from './events.js';
import { PathRemapper } from './path-mapping.js';
import type { WorkerReply, WorkerRequest } from './event-log-worker.js';

/**
 * The thread of EventLogWorker: events.jsonl's bytes in, as they arrive, rewritten and written
 * to the staged file here, so that the receiving thread only opens, decodes and hashes.
 */
const port = parentPort;
if (!port) throw new Error('rewrite-worker runs only as a worker thread');
const { target, move } = workerData as { target: StagedFile; move: MoveDescription };
const rewriter = new EventLogRewriter(move, move.mapping ? new PathRemapper(move.mapping) : undefined);
let fd: number | undefined;

const reply = (message: WorkerReply): void => port.postMessage(message);

port.on('message', (request: WorkerRequest) => {
  try {
    fd ??= openSync(target.path, 'wx', target.mode);
    if (request.chunk) {
      writeAll(fd, rewriter.push(request.chunk));
      // Written, and the rewrite keeps no view of it: the buffer goes back.
      port.postMessage({ written: request.chunk } satisfies WorkerReply, [request.chunk.buffer as ArrayBuffer]);
      return;
    }
    writeAll(fd, rewriter.finish());
    closeSync(fd);
    reply({ report: rewriter.report! });
  } catch (error) {
    const failure = error instanceof BeamError ? error : writeError('events.jsonl', error as Error);
    reply({ error: { kind: failure.kind, message: failure.message, forPeer: failure.forPeer } });
  }
  // Done or failed: the port closes and the thread ends.
  port.close();
});

/**
 * One writev per chunk, straight from the parts (unchanged runs are views of the chunk: nothing
 * is copied); a file system may take less than it is given, so the rest follows.
 */
function writeAll(fd: number, parts: readonly Uint8Array[]): void {
  let rest = parts.filter((part) => part.length > 0);
  while (rest.length > 0) {
    let written = writevSync(fd, rest);
    let done = 0;
    while (done < rest.length && written >= rest[done]!.length) written -= rest[done++]!.length;
    rest = rest.slice(done);
    if (written > 0) rest[0] = rest[0]!.subarray(written);
  }
}
