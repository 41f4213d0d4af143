import { BeamError } from '../errors.js';
import type { SealedMessage, SecureChannel } from '../transport/secure-channel.js';
import { loopIdleMeter, type IdleMeter } from './loop-idle.js';
import { decodeReason, MessageKind } from './messages.js';

/**
 * Flow control above the transport. UDX keeps accepting packets for a reader that has paused,
 * so a sender faster than its receiver (a slow disk there, or the history rewrite) grew the
 * receiver's memory with the size of the session. The receiver now grants credit as it consumes
 * DATA, and the sender sends no DATA while more than its window (at most WINDOW_BYTES) is
 * unacknowledged. The window must stay above one credit step and one message, or a receiver
 * could hold less than a step it may grant while the sender waits for it.
 */
export const WINDOW_BYTES = 16 * 1024 * 1024;
/**
 * Where the window starts. While the receiver is what limits (its CPU, its disk), every byte of
 * the window waits in its memory: with 16 MiB from the start the receiver of a 1 GiB compressible
 * session peaked at 137-146 MiB, against 117-120 MiB with 4 MiB, and was no faster (loopback, 3
 * interleaved pairs: 6.19-6.26 s against 5.79-6.33 s; incompressible 10.05-11.84 s against
 * 9.87-10.16 s). A link whose bandwidth times round trip exceeds it grows it (WindowSize).
 */
export const FIRST_WINDOW_BYTES = 4 * 1024 * 1024;
/** The receiver idle at least this share of the time between two waits of the sender: the window starves it. */
const GROW_WHEN_RECEIVER_IDLE = 0.5;
/** The receiver idle less than this share: it is what limits, and a larger window only fills its memory. */
const SHRINK_WHEN_RECEIVER_IDLE = 0.15;
/**
 * Waits in a row that agree before the window changes: the first wait of a beam finds a receiver
 * that has just started, and one busy stretch can be a collection or a file being closed.
 */
const WAITS_TO_CHANGE = 2;
/** An idle share of 1 would weigh infinitely (below); a credit says at most this. */
const MOST_IDLE_SHARE = 0.99;
/**
 * The receiver grants credit in steps of this many bytes (a quarter of the first window). Each grant
 * also carries the receiver's idle share, which the sender's level needs early: a step of a
 * quarter of the window, counted in compressed bytes, came after 20 MiB of a history or more.
 */
export const CREDIT_STEP_BYTES = 1024 * 1024;

/** A grant of credit, and how idle the receiver was since its last grant (see CreditGrant). */
export interface Credit {
  readonly bytes: number;
  /** 0 (always busy) to 1 (always waiting): with the sender's own idleness, it tells a slow link from a busy receiver. */
  readonly receiverIdle: number;
}

export function encodeCredit(credit: Credit): Uint8Array {
  const body = new Uint8Array(6);
  const view = new DataView(body.buffer);
  view.setUint32(0, credit.bytes);
  view.setUint16(4, Math.round(Math.min(1, Math.max(0, credit.receiverIdle)) * 1000));
  return body;
}

export function decodeCredit(body: Uint8Array): Credit {
  if (body.length !== 6) throw new BeamError('protocol', 'the receiver sent a malformed credit');
  const view = new DataView(body.buffer, body.byteOffset, 6);
  const idlePermille = view.getUint16(4);
  if (idlePermille > 1000) throw new BeamError('protocol', 'the receiver sent a malformed credit');
  return { bytes: view.getUint32(0), receiverIdle: idlePermille / 1000 };
}

/**
 * How much DATA the sender may have without credit: TCP's receive-window autotuning, seen from the
 * sender. Each time the sender has to wait for credit, it judges how idle the receiver was since
 * its previous wait. A receiver mostly waiting for data is starved by the window (the link's
 * bandwidth times its round trip exceeds it), so the window doubles, up to WINDOW_BYTES; a busy
 * receiver is what limits, and the window halves back towards FIRST_WINDOW_BYTES, since all it
 * would add is memory at the receiver. Each takes WAITS_TO_CHANGE waits in a row.
 *
 * Each credit gives the receiver's idle share over the time it took to consume the credit's
 * bytes. Averaging those shares would weigh the one credit whose span held the round trip's gap
 * as little as the ones spent consuming a burst, so the shares are turned back into time: a
 * receiver spends about the same busy time per byte, so a credit of b bytes at idle share s
 * stands for b units of busy time and b·s/(1-s) units of idle time.
 */
export class WindowSize {
  private bytes: number;
  /** Since the sender last waited: bytes credited (busy time), and the idle time beside them, in the same unit. */
  private busyWeight = 0;
  private idleWeight = 0;
  private starvedWaits = 0;
  private busyWaits = 0;

  constructor(
    private readonly first = FIRST_WINDOW_BYTES,
    private readonly most = WINDOW_BYTES,
  ) {
    this.bytes = first;
  }

  get current(): number {
    return this.bytes;
  }

  /** Every credit, as the sender takes it. */
  credited(credit: Credit): void {
    const share = Math.min(credit.receiverIdle, MOST_IDLE_SHARE);
    this.busyWeight += credit.bytes;
    this.idleWeight += (credit.bytes * share) / (1 - share);
  }

  /** The sender has more DATA out than the window and must wait for credit. */
  blocked(): void {
    if (this.busyWeight === 0) return; // no credit since the last wait: nothing to judge by
    const idle = this.idleWeight / (this.busyWeight + this.idleWeight);
    this.busyWeight = this.idleWeight = 0;
    const starved = idle >= GROW_WHEN_RECEIVER_IDLE;
    const busy = idle < SHRINK_WHEN_RECEIVER_IDLE;
    this.starvedWaits = starved ? this.starvedWaits + 1 : 0;
    this.busyWaits = busy ? this.busyWaits + 1 : 0;
    if (this.starvedWaits >= WAITS_TO_CHANGE) {
      this.bytes = Math.min(this.bytes * 2, this.most);
      this.starvedWaits = 0;
    } else if (this.busyWaits >= WAITS_TO_CHANGE) {
      this.bytes = Math.max(this.bytes / 2, this.first);
      this.busyWaits = 0;
    }
  }
}

/** The sender's side: waits for credit before DATA would exceed the window. */
export class SendWindow {
  private outstanding = 0;
  private lastReceiverIdle: number | undefined;

  constructor(
    private readonly channel: SecureChannel,
    private readonly timeoutMs: number,
    private readonly size = new WindowSize(),
  ) {}

  /** The receiver's idle share in its latest credit; undefined before the first. */
  get receiverIdle(): number | undefined {
    return this.lastReceiverIdle;
  }

  async reserve(bytes: number): Promise<void> {
    this.outstanding += bytes;
    // Credits that already arrived are taken at once, so the receiver's news is never stale.
    while (this.channel.hasQueued) await this.takeCredit();
    if (this.outstanding <= this.size.current) return;
    this.size.blocked();
    while (this.outstanding > this.size.current) await this.takeCredit();
  }

  private async takeCredit(): Promise<void> {
    const credit = await receiveCredit(this.channel, this.timeoutMs);
    this.outstanding -= credit.bytes;
    this.lastReceiverIdle = credit.receiverIdle;
    if (this.outstanding < 0) throw new BeamError('protocol', 'the receiver granted credit for data it was never sent');
    this.size.credited(credit);
  }
}

/**
 * The next message from the receiver during or after the transfer, skipping credits: what the
 * sender waits for once its stream is out (REVIEWING, then INSTALLED, REJECT or FAILED).
 */
export async function receiveAfterCredits(channel: SecureChannel, timeoutMs: number): Promise<SealedMessage> {
  for (;;) {
    const message = await channel.receive(timeoutMs, 'the receiver');
    if (message.kind !== MessageKind.Credit) return message;
  }
}

async function receiveCredit(channel: SecureChannel, timeoutMs: number): Promise<Credit> {
  const message = await channel.receive(timeoutMs, 'the receiver');
  if (message.kind === MessageKind.Credit) return decodeCredit(message.body);
  if (message.kind === MessageKind.Failed) throw new BeamError('install', `the receiver could not install the session: ${decodeReason(message.body)}`);
  throw new BeamError('protocol', `the receiver broke the protocol (message ${message.kind} during the transfer)`);
}

/**
 * The receiver's side: counts consumed DATA bytes and grants them back in steps, saying how idle
 * it was: the smaller of its event loop's idle share and the share of the time it spent waiting
 * for a message. The first alone counted the transport's own work, on a CPU shared with the
 * sender, as idleness (loop-idle.ts); the second alone counted time blocked on the disk or the
 * history thread, when the loop is idle but the receiver is what holds the transfer back.
 */
export class CreditGrant {
  private consumed = 0;
  private waitedMs = 0;
  private since = performance.now();

  constructor(
    private readonly channel: SecureChannel,
    private readonly stepBytes = CREDIT_STEP_BYTES,
    private readonly loopIdle: IdleMeter = loopIdleMeter(),
  ) {}

  /** Time spent waiting for the next message, reported with the next grant. */
  waited(ms: number): void {
    this.waitedMs += ms;
  }

  async consume(bytes: number): Promise<void> {
    this.consumed += bytes;
    if (this.consumed < this.stepBytes) return;
    const now = performance.now();
    const waitingShare = this.waitedMs / Math.max(now - this.since, Number.EPSILON);
    const credit = { bytes: this.consumed, receiverIdle: Math.min(this.loopIdle(), waitingShare) };
    this.consumed = this.waitedMs = 0;
    this.since = now;
    await this.channel.send(MessageKind.Credit, encodeCredit(credit));
  }
}
