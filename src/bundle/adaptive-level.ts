import { MAX_LEVEL, MIN_LEVEL } from './codec.js';

/** Blocks per decision: 32 blocks of 256 KiB, so a level lasts at least 8 MiB of a file. */
const BLOCKS_PER_DECISION = 32;
/** Both sides waiting for more than this share of the time: the link is what limits. */
const RAISE_ABOVE = 0.25;
/** Either side waiting less than this: the sender's compressor or the receiver holds the transfer back. */
const LOWER_BELOW = 0.05;

/**
 * Picks the compression level much as `zstd --adapt` does, with one more input. While the link
 * is what limits (a slow network), spending more CPU on a better ratio moves more of the session
 * per byte on the wire. The sender alone cannot tell a slow link from a busy receiver (both make
 * it wait), and a higher level does not help a busy receiver, whose work is per byte of session,
 * and costs CPU a machine shared by both ends does not have. So the level rises only while both
 * sides mostly wait (the receiver says how much in each credit), and falls as soon as either is
 * busy: the compressor has become the limit, or the receiver has.
 */
export class AdaptiveLevel {
  private elapsedMs = 0;
  private waitingMs = 0;
  private blocks = 0;

  constructor(private current: number) {}

  get level(): number {
    return this.current;
  }

  /**
   * One block: the time from reading it to having sent it, how much of that went to waiting for
   * the link or the receiver's credit, and the receiver's idle share from its latest credit
   * (undefined before the first: the level then holds).
   */
  record(elapsedMs: number, waitingMs: number, receiverIdle: number | undefined): number {
    this.elapsedMs += elapsedMs;
    this.waitingMs += waitingMs;
    if (++this.blocks < BLOCKS_PER_DECISION) return this.current;
    const waitingShare = this.waitingMs / Math.max(this.elapsedMs, Number.EPSILON);
    if (receiverIdle !== undefined) this.current = nextLevel(this.current, waitingShare, receiverIdle);
    this.elapsedMs = this.waitingMs = this.blocks = 0;
    return this.current;
  }
}

function nextLevel(current: number, waitingShare: number, receiverIdle: number): number {
  if (waitingShare > RAISE_ABOVE && receiverIdle > RAISE_ABOVE) return Math.min(current + 1, MAX_LEVEL);
  if (waitingShare < LOWER_BELOW || receiverIdle < LOWER_BELOW) return Math.max(current - 1, MIN_LEVEL);
  return current;
}
