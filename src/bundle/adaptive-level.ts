import { MAX_LEVEL, MIN_LEVEL } from './codec.js';
import type { Floor } from './level-floor.js';
import { loopIdleMeter, type IdleMeter } from './loop-idle.js';

/** Bytes of files per decision (32 full blocks): a level lasts at least 8 MiB of them. */
const BYTES_PER_DECISION = 8 * 1024 * 1024;
/**
 * Where a beam's compression starts: the fastest level, on the sending thread, from where the
 * level climbs every 8 MiB while the link is the limit, and falls when the CPU is, never below
 * its floor. Where zstd's level 3 pays (source-like text), the floor lifts the level to it at
 * the first block that holds a sample (level-floor.ts), on the compression thread: on loopback,
 * where both ends share two cores, that costs 12% at 100 MiB and 30% at 1 GiB, and the sender's
 * peak 14-18 MiB, for 4-8% fewer bytes on a 20 MB/s link. Where it does not (highly repetitive
 * history), the level stays here: starting at 3 on the thread took 100 MiB of such history 6%
 * longer on loopback (1.12 s against 1.05, 9 interleaved pairs), the first 50 MiB going through
 * the thread before the receiver's first credits came back.
 */
const FIRST_LEVEL = 1;
/**
 * A beam with no more to compress than one decision's worth never adapts, so its level is
 * chosen up front: zstd's level 7 costs a few ms per MiB more than its level 3 (1 MiB of history:
 * 9 ms against 2; of source-like history: 17 against 6) and saves 5-15% of its bytes, which a
 * slow link needs.
 */
const SHORT_BEAM_LEVEL = 7;

/** Whether a beam with this many bytes to compress will ever change its level. */
export function adapts(compressedBytes: number): boolean {
  return compressedBytes > BYTES_PER_DECISION;
}

/** The level a beam with this many bytes to compress starts at. */
export function firstLevel(compressedBytes: number): number {
  return adapts(compressedBytes) ? FIRST_LEVEL : SHORT_BEAM_LEVEL;
}
/** Both sides idle for more than this share of the time: the link is what limits. */
const RAISE_ABOVE = 0.25;
/**
 * Either side idle less than this: the sender's compressor or the receiver holds the transfer
 * back. Measured with every level on the sending thread (before step 29): on loopback that loop
 * was idle 0-20% of the time; on the 20 MB/s link 5-45%, and the receiver 40-65%. With levels 2
 * and up on the compression thread, that thread was idle 0-60% on the 20 MB/s link at levels 4-7
 * and the receiver 0-55%; on loopback the level stays at 1, or at its floor (level-floor.ts).
 */
const LOWER_BELOW = 0.15;

/**
 * Picks the compression level much as `zstd --adapt` does, with one more input. While the link
 * is what limits (a slow network), spending more CPU on a better ratio moves more of the session
 * per byte on the wire. The sender alone cannot tell a slow link from a busy receiver (both make
 * it wait), and a higher level does not help a busy receiver, whose work is per byte of session,
 * and costs CPU a machine shared by both ends does not have. So the level rises only while both
 * sides are mostly idle (the receiver says how idle in each credit), and falls as soon as either
 * is busy: the compressor has become the limit, or the receiver has. Idle means each side's event
 * loop waiting for I/O (loop-idle.ts), not our code awaiting the network: on one machine the
 * transport's own work runs while we await it, and the level climbed where the CPU was the limit.
 * The sender's loop is the compressor's: the sending thread's for the fastest level, its own
 * thread's above (placed-compression.ts). Neither signal tells a slow link from a busy CPU where
 * both ends share one, so the level never falls below a floor the data sets (level-floor.ts).
 */
export class AdaptiveLevel {
  /** Bytes of files compressed since the last decision. */
  private bytes = 0;
  /** The step (-1 down, +1 up) the previous judgement wanted and did not take, or 0. */
  private pendingStep = 0;

  constructor(
    private current: number,
    private readonly senderIdle: IdleMeter = loopIdleMeter(),
    /** Where the level may not go below (level-floor.ts); without one, the fastest level. */
    private readonly floor?: Floor,
  ) {}

  get level(): number {
    return this.current;
  }

  /**
   * A block about to be compressed. While the level is at or below the highest floor there can
   * be, the floor is judged from a sample now and then (after each decision), and a floor above
   * the level lifts it at once. Above that, where no floor would change anything, no sample is
   * taken.
   */
  observe(block: Uint8Array): void {
    if (!this.floor || this.current > this.floor.highest) return;
    this.floor.observe(block);
    this.current = Math.max(this.current, this.floor.level);
  }

  /**
   * One block sent, of `bytes` of its file, with the receiver's idle share from its latest credit
   * (undefined before the first: the level then does not climb, though a busy sender still
   * lowers it). Counted in bytes, not blocks: a beam of many small files makes a short block at
   * each file's end, and would otherwise decide more often than every 8 MiB.
   */
  record(bytes: number, receiverIdle: number | undefined): number {
    this.bytes += bytes;
    if (this.bytes < BYTES_PER_DECISION) return this.current;
    this.bytes = 0;
    const floor = this.floor?.level ?? MIN_LEVEL;
    this.current = this.confirmed(Math.max(floor, nextLevel(this.current, this.senderIdle(), receiverIdle)));
    this.floor?.judgeAgain();
    return this.current;
  }

  /**
   * A step down takes two judgements in a row that want it, and so does a step up from the
   * lowest level; any other step up takes one. On a 20 MB/s link the receiver reads busy now and
   * then (a pause to write, say), and every such dip cost 8 MiB at a lower level: 42.6-43.8 MB on
   * the wire against 43.4-44.7 (6 beams each, interleaved). On loopback, where both ends share
   * two cores, a single idle reading now and then lifted the level from 1, which starts the
   * compression thread (15-20 MiB): the sender's 1 GiB peak was 131-134 MiB in two of three
   * runs, against 116-117 without.
   */
  private confirmed(next: number): number {
    const step = Math.sign(next - this.current);
    const needsTwo = step < 0 || (step > 0 && this.current === MIN_LEVEL);
    if (!needsTwo || this.pendingStep === step) {
      this.pendingStep = 0;
      return next;
    }
    this.pendingStep = step;
    return this.current;
  }
}

function nextLevel(current: number, senderIdle: number, receiverIdle: number | undefined): number {
  if (receiverIdle === undefined) return senderIdle < LOWER_BELOW ? Math.max(current - 1, MIN_LEVEL) : current;
  if (senderIdle > RAISE_ABOVE && receiverIdle > RAISE_ABOVE) return Math.min(current + 1, MAX_LEVEL);
  if (senderIdle < LOWER_BELOW || receiverIdle < LOWER_BELOW) return Math.max(current - 1, MIN_LEVEL);
  return current;
}
