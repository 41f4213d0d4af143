import { BeamError } from '../errors.js';
import type { SealedMessage, SecureChannel } from '../transport/secure-channel.js';
import { loopIdleMeter, type IdleMeter } from './loop-idle.js';
import { decodeReason, MessageKind } from './messages.js';

/**
 * Flow control above the transport. UDX keeps accepting packets for a reader that has paused,
 * so a sender faster than its receiver (a slow disk there, or the history rewrite) grew the
 * receiver's memory with the size of the session. The receiver now grants credit as it consumes
 * DATA, and the sender never has more than its window of DATA unacknowledged: at most
 * WINDOW_BYTES.
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
/** A receiver idle at least this much while the sender waits for its credit is starved by the window. */
const GROW_WHEN_RECEIVER_IDLE = 0.5;
/** A receiver idle less than this while the sender waits is what limits: a larger window only fills its memory. */
const SHRINK_WHEN_RECEIVER_IDLE = 0.15;
/** Starved credits in a row before the window doubles: the first credits of a beam find a receiver that has just started. */
const STARVED_CREDITS_TO_GROW = 2;
/**
 * The receiver grants credit in steps of this many bytes (a sixteenth of the window). Each grant
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
 * How much DATA the sender may have without credit, TCP's receive-window autotuning seen from the
 * sender. Each time the sender has to wait for credit, the receiver's idle share in that credit
 * says why: a receiver that was mostly waiting for data is starved by the window (bandwidth times
 * round trip exceeds it), so the window doubles, up to WINDOW_BYTES; a busy receiver is what
 * limits, and the window halves back towards FIRST_WINDOW_BYTES, since all it would add is
 * memory at the receiver.
 */
export class WindowSize {
  private bytes: number;
  private starvedInARow = 0;

  constructor(
    private readonly first = FIRST_WINDOW_BYTES,
    private readonly most = WINDOW_BYTES,
  ) {
    this.bytes = first;
  }

  get current(): number {
    return this.bytes;
  }

  /** The sender had to wait for a credit that said the receiver was this idle (0 to 1). */
  waitedFor(receiverIdle: number): void {
    if (receiverIdle >= GROW_WHEN_RECEIVER_IDLE) {
      if (++this.starvedInARow < STARVED_CREDITS_TO_GROW) return;
      this.bytes = Math.min(this.bytes * 2, this.most);
    } else if (receiverIdle < SHRINK_WHEN_RECEIVER_IDLE) {
      this.bytes = Math.max(this.bytes / 2, this.first);
    }
    this.starvedInARow = 0;
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
    while (this.outstanding > this.size.current) this.size.waitedFor((await this.takeCredit()).receiverIdle);
  }

  private async takeCredit(): Promise<Credit> {
    const credit = await receiveCredit(this.channel, this.timeoutMs);
    this.outstanding -= credit.bytes;
    this.lastReceiverIdle = credit.receiverIdle;
    if (this.outstanding < 0) throw new BeamError('protocol', 'the receiver granted credit for data it was never sent');
    return credit;
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
