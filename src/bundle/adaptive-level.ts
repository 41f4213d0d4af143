import { MAX_LEVEL, MIN_LEVEL } from './codec.js';

/** Blocks per decision: 32 blocks of 256 KiB, so a level lasts at least 8 MiB of a file. */
const BLOCKS_PER_DECISION = 32;
/** Waiting on the link for more than this share of the time: the compressor has time to spare. */
const RAISE_ABOVE = 0.25;
/** Waiting less than this: the compressor is what holds the transfer back. */
const LOWER_BELOW = 0.05;

/**
 * Picks the compression level the way `zstd --adapt` does: while the sender mostly waits for the
 * link (a slow network, or a receiver that cannot take more), spending more CPU on a better
 * ratio costs nothing and moves more of the session per byte on the wire; once the compressor
 * itself is what the link waits for, it steps back down. The sender's own clock is the only
 * input, so the choice needs no help from the receiver and no knowledge of the link.
 */
export class AdaptiveLevel {
  private elapsedMs = 0;
  private waitingMs = 0;
  private blocks = 0;

  constructor(private current: number) {}

  get level(): number {
    return this.current;
  }

  /** One block: the time from reading it to having sent it, and how much of that went to waiting for the link. */
  record(elapsedMs: number, waitingMs: number): number {
    this.elapsedMs += elapsedMs;
    this.waitingMs += waitingMs;
    if (++this.blocks < BLOCKS_PER_DECISION) return this.current;
    const waitingShare = this.waitingMs / Math.max(this.elapsedMs, Number.EPSILON);
    if (waitingShare > RAISE_ABOVE && this.current < MAX_LEVEL) this.current++;
    else if (waitingShare < LOWER_BELOW && this.current > MIN_LEVEL) this.current--;
    this.elapsedMs = this.waitingMs = this.blocks = 0;
    return this.current;
  }
}
