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
/** The receiver idle at least this share of the time over the latest window's worth of credits: the window starves it. */
const GROW_WHEN_RECEIVER_IDLE = 0.5;
/** The receiver idle less than this share: it is what limits, and a larger window only fills its memory. */
const SHRINK_WHEN_RECEIVER_IDLE = 0.15;
/** Judgements in a row that agree before the window changes: one busy stretch can be a collection or a file being closed. */
const JUDGEMENTS_TO_CHANGE = 2;
/**
 * The receiver grants credit in steps of this many bytes (a quarter of the first window). Each
 * grant also carries the receiver's idle share, which the sender's level needs early: a step of
 * 4 MiB, counted in compressed bytes, came after 20 MiB of a history or more.
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

/** A credit as the sender took it: the time since the one before, and how idle the receiver said it was. */
interface TimedCredit {
  readonly bytes: number;
  readonly spanMs: number;
  readonly idleShare: number;
}

/**
 * How much DATA the sender may have without credit: TCP's receive-window autotuning, seen from the
 * sender. When the sender has to wait for credit and a window's worth of credits has come since
 * it last judged, it judges how idle the receiver was over the latest window's worth. A receiver
 * mostly waiting for data is starved by the window (the link's bandwidth times its round trip
 * exceeds it), so the window doubles, up to WINDOW_BYTES; a busy receiver is what limits, and the
 * window halves back towards FIRST_WINDOW_BYTES, since all it would add is memory at the
 * receiver. Either takes JUDGEMENTS_TO_CHANGE judgements in a row.
 *
 * Idleness is weighed by time as the sender saw it: each credit's idle share counts for the time
 * since the credit before it arrived. On a link whose round trip exceeds the window, a round
 * brings one credit whose span held the wait (mostly idle, long) and a few that consumed the
 * burst (busy, short); counted per credit the receiver would look busy, by time it is idle. Per
 * window's worth, not per wait: once the window is full, the sender waits after every credit,
 * and one credit alone is either a wait or a burst. The first credit of a beam only starts the
 * clock: its span held the receiver's start, not the link.
 */
export class WindowSize {
  private bytes: number;
  /** Credits since the last judgement, oldest first, trimmed to the latest window's worth. */
  private recent: TimedCredit[] = [];
  private recentBytes = 0;
  private lastCreditAt: number | undefined;
  private starvedInARow = 0;
  private busyInARow = 0;

  constructor(
    private readonly first = FIRST_WINDOW_BYTES,
    private readonly most = WINDOW_BYTES,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.bytes = first;
  }

  get current(): number {
    return this.bytes;
  }

  /** Every credit, as the sender takes it. */
  credited(credit: Credit): void {
    const at = this.now();
    if (this.lastCreditAt !== undefined) {
      this.recent.push({ bytes: credit.bytes, spanMs: at - this.lastCreditAt, idleShare: credit.receiverIdle });
      this.recentBytes += credit.bytes;
      // Older credits tell of a stretch that is over: a window's worth of the latest is enough.
      while (this.recent.length > 1 && this.recentBytes - this.recent[0]!.bytes >= this.bytes) this.recentBytes -= this.recent.shift()!.bytes;
    }
    this.lastCreditAt = at;
  }

  /** The sender has more DATA out than the window and must wait for credit. */
  blocked(): void {
    if (this.recentBytes < this.bytes) return; // less than a window's worth since the last judgement
    const spanMs = this.recent.reduce((sum, credit) => sum + credit.spanMs, 0);
    const idleMs = this.recent.reduce((sum, credit) => sum + credit.idleShare * credit.spanMs, 0);
    this.recent = [];
    this.recentBytes = 0;
    const idle = spanMs > 0 ? idleMs / spanMs : 0;
    this.starvedInARow = idle >= GROW_WHEN_RECEIVER_IDLE ? this.starvedInARow + 1 : 0;
    this.busyInARow = idle < SHRINK_WHEN_RECEIVER_IDLE ? this.busyInARow + 1 : 0;
    if (this.starvedInARow >= JUDGEMENTS_TO_CHANGE) {
      this.bytes = Math.min(this.bytes * 2, this.most);
      this.starvedInARow = 0;
    } else if (this.busyInARow >= JUDGEMENTS_TO_CHANGE) {
      this.bytes = Math.max(this.bytes / 2, this.first);
      this.busyInARow = 0;
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
