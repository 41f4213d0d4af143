import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Bytes through a connection (either way) between two collections of V8's young generation.
 *
 * Every message a beam moves leaves dead Buffers behind in the Noise stream and UDX (a copy to
 * encrypt, the packets' read buffers, a message reassembled from them), outside our code. V8
 * frees a Buffer's memory only when it collects the Buffer, and the few small objects per message
 * fill the young generation slowly: what forces a collection first is young Buffers worth twice
 * the largest semi-space, 32 MiB on 64-bit Node. Meanwhile malloc hands their memory out again
 * in a different order and keeps what it freed, so the peak RSS grew with the beam's length
 * (sender 120 MiB at 1 GiB against 104 at 100 MiB). `--max-semi-space-size` would lower that
 * bound, but a process cannot set it for itself once started; a young collection every 4 MiB
 * costs under a millisecond each and keeps the dead Buffers to a few MiB.
 */
export const YOUNG_COLLECTION_BYTES = 4 * 1024 * 1024;

export type CollectYoungGeneration = () => void;

let lent: CollectYoungGeneration | null | undefined;

/**
 * V8's young-generation collection, or null where this Node will not lend it. The collector is
 * taken the way Jest's leak detector takes it (exposed for one new context, then hidden again),
 * so no other code, worker or context sees a `gc` global it did not ask for.
 */
export function youngGenerationCollector(): CollectYoungGeneration | null {
  if (lent !== undefined) return lent;
  lent = null;
  try {
    const gc = globalThis.gc ?? exposeCollector();
    if (typeof gc === 'function') lent = () => void gc({ type: 'minor' });
  } catch {
    // A Node that refuses the flag keeps its own pace: larger peaks, nothing worse.
  }
  return lent;
}

function exposeCollector(): unknown {
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc');
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/** Counts the bytes a connection moves and collects the young generation every so many. */
export class YoungGarbagePacer {
  private bytes = 0;

  constructor(
    private readonly collect: CollectYoungGeneration | null = youngGenerationCollector(),
    private readonly everyBytes = YOUNG_COLLECTION_BYTES,
  ) {}

  moved(bytes: number): void {
    if (this.collect === null) return;
    this.bytes += bytes;
    if (this.bytes < this.everyBytes) return;
    this.bytes = 0;
    this.collect();
  }
}
