import { BlockCompressor, MIN_LEVEL, ZSTD_DEFAULT_RUNG } from './codec.js';

/** How much of a block a judgement compresses, twice: about 0.2 and 0.3 ms of the sending thread. */
export const FLOOR_SAMPLE_BYTES = 64 * 1024;
/**
 * zstd's level 3 must make a sample more than this share smaller than the fastest level does to be
 * the floor. Measured on 64 KiB samples compressed alone: source-like session history 7-9%, this
 * repository's TypeScript, JavaScript, declaration files, Markdown, JSON and C headers 2-8%, the
 * highly repetitive history of the bench's compressible sessions 8-13% *larger* (there the
 * fastest level finds more of the repeats). Streamed through the beam's window the gains are
 * larger (source-like history 19%, JSON 39%), the losses smaller (1.6%).
 */
const GAIN_WORTH_IT = 0.02;

/** What the adaptive level asks of its floor. */
export interface Floor {
  /** The lowest level allowed now. */
  readonly level: number;
  /** The highest the floor can be: above it, a judgement could change nothing. */
  readonly highest: number;
  /** A block about to be compressed, which the floor may judge from. */
  observe(block: Uint8Array): void;
  /** The next block big enough is judged. */
  judgeAgain(): void;
}

/**
 * The lowest level the adaptive level may take: zstd's level 3 settings (what `zstd` uses by
 * default; the ladder's ZSTD_DEFAULT_RUNG) wherever they shrink the data noticeably more than
 * the fastest level, the fastest level elsewhere. The adaptive level cannot tell a slow link
 * from a busy CPU on a machine where both are busy: on a 20 MB/s link between two namespaces of
 * one 2-core machine, the kernel's share of each packet kept both ends' loops, and the
 * compression thread, as busy as on loopback, and a source-like session's level often stayed at
 * the fastest, whose 2.8:1 is below a zip's deflate 6 (3.2:1): more bytes on the wire than
 * magic-wormhole. With this floor, 100 MiB of source-like history put 43.3-44.0 MB on that link
 * against 45.1-49.8 (five interleaved beams each; magic-wormhole 44.7-44.8), and took 12% longer
 * on loopback, 30% at 1 GiB (docs/BENCHMARKS.md, step 32). Where the CPU is the limit, a session
 * of such text now goes at most as fast as zstd's level 3 compresses it on the compression
 * thread (about 200 MB/s here). Judged from the data, not set once: a sample of the first block
 * big enough, and again after each decision of the level while the level is at or below the
 * highest floor.
 */
export class LevelFloor implements Floor {
  readonly highest = ZSTD_DEFAULT_RUNG;
  private fastest: BlockCompressor | undefined;
  private balanced: BlockCompressor | undefined;
  private judgementDue = true;
  private floor = MIN_LEVEL;
  /** The previous judgement wanted the floor down and did not get it. */
  private lowerPending = false;

  get level(): number {
    return this.floor;
  }

  judgeAgain(): void {
    this.judgementDue = true;
  }

  /**
   * Judges from `block` if a judgement is due and it holds a whole sample. The floor rises at
   * once (a beam's first sample decides where it starts) and falls after two judgements in a row
   * that want it down, as the level itself does: one sample of different text between two of
   * the usual would otherwise move the level, and each move starts a new frame, maybe on the
   * other thread.
   */
  observe(block: Uint8Array): void {
    if (!this.judgementDue || block.length < FLOOR_SAMPLE_BYTES) return;
    this.judgementDue = false;
    const judged = this.judge(block.subarray(0, FLOOR_SAMPLE_BYTES));
    if (judged === undefined) return;
    const lower = judged < this.floor;
    if (!lower || this.lowerPending) this.floor = judged;
    this.lowerPending = lower && !this.lowerPending;
  }

  /**
   * The floor this sample wants, or undefined if zstd failed on it: a sample is a hint, and the
   * block itself is compressed (and any failure met) where it is sent.
   */
  private judge(sample: Uint8Array): number | undefined {
    try {
      this.fastest ??= new BlockCompressor(MIN_LEVEL, FLOOR_SAMPLE_BYTES);
      this.balanced ??= new BlockCompressor(ZSTD_DEFAULT_RUNG, FLOOR_SAMPLE_BYTES);
      // Each sample is a frame of its own (zstd sizes its tables for 64 KiB); only the lengths
      // count, so nothing is copied out.
      const fast = this.fastest.compress(sample, true, lengthOnly).length;
      const balanced = this.balanced.compress(sample, true, lengthOnly).length;
      return balanced < fast * (1 - GAIN_WORTH_IT) ? ZSTD_DEFAULT_RUNG : MIN_LEVEL;
    } catch {
      return undefined;
    }
  }
}

const lengthOnly = (bytes: Uint8Array): Uint8Array => bytes;
