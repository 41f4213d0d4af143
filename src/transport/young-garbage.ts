import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Bytes a connection sends between two collections of V8's young generation.
 *
 * Every message a sender writes leaves two dead Buffers of its size: the frame it was sealed
 * into, and the Noise stream's copy, which UDX drops once acknowledged. V8 frees a Buffer's
 * memory only when it collects the Buffer, and the few small objects per message fill the young
 * generation slowly, so in Node 20 the dead Buffers piled up to about 30 MiB between collections
 * (measured, 1 GiB beams), and malloc kept what they freed: the sender's peak RSS grew with the
 * beam. A smaller young generation (`--max-semi-space-size`) would collect them sooner, but only
 * Node's command line can set it. A young collection every 4 MiB sent keeps them to a few MiB.
 * Frames sent from send buffers (send-buffers.ts) leave neither Buffer behind; they are counted
 * too, as the incompressible sender still peaked 4-7 MiB higher at 1 GiB without it.
 */
export const YOUNG_COLLECTION_BYTES = 4 * 1024 * 1024;

export type CollectYoungGeneration = () => void;

let lent: CollectYoungGeneration | null = null;

/**
 * Takes V8's young-generation collection for this process's connections to use, and tells
 * whether this Node lent it. A program that owns its process (the CLI's sender) calls it once,
 * before it starts any thread; a library leaves its host's collector alone unless asked.
 *
 * The collector is taken as Jest's leak detector takes it: `--expose-gc` is switched on for one
 * new context and off again at once, so no context or worker made later sees a `gc` global.
 * Node calls flag changes after start-up undefined behaviour in general; this flag is read
 * only when a context is created. The context stays alive with the function.
 */
export function lendYoungGenerationCollector(): boolean {
  if (lent) return true;
  try {
    const gc = takeCollector();
    if (gc) lent = () => gc({ type: 'minor' });
  } catch {
    // A Node that refuses the flag keeps its own pace: larger peaks, nothing worse.
  }
  return lent !== null;
}

/** The collector lent to this process's connections, or null when none was. */
export function youngGenerationCollector(): CollectYoungGeneration | null {
  return lent;
}

function takeCollector(): NodeJS.GCFunction | undefined {
  const alreadyExposed = typeof globalThis.gc === 'function';
  if (!alreadyExposed) setFlagsFromString('--expose-gc');
  try {
    // From a fresh context, V8's own: never a `gc` some other code put on this global.
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as NodeJS.GCFunction) : undefined;
  } finally {
    if (!alreadyExposed) setFlagsFromString('--no-expose-gc');
  }
}

/** Counts the bytes a connection sends and collects the young generation every so many. */
export class YoungGarbagePacer {
  private bytes = 0;

  constructor(
    private collect: CollectYoungGeneration | null = youngGenerationCollector(),
    private readonly everyBytes = YOUNG_COLLECTION_BYTES,
  ) {}

  sent(bytes: number): void {
    if (this.collect === null) return;
    this.bytes += bytes;
    if (this.bytes < this.everyBytes) return;
    this.bytes = 0;
    try {
      this.collect();
    } catch {
      this.collect = null; // a collector that failed once is not asked again; the beam goes on
    }
  }
}
