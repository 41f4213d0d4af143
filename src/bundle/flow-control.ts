import { BeamError } from '../errors.js';
import type { SealedMessage, SecureChannel } from '../transport/secure-channel.js';
import { decodeReason, MessageKind } from './messages.js';

/**
 * Flow control above the transport. UDX keeps accepting packets for a reader that has paused,
 * so a sender faster than its receiver (a slow disk there, or the history rewrite) grew the
 * receiver's memory with the size of the session. The receiver now grants credit as it consumes
 * DATA, and the sender never has more than WINDOW_BYTES of DATA unacknowledged.
 */
export const WINDOW_BYTES = 16 * 1024 * 1024;
/** The receiver grants credit in steps of this many bytes (a quarter of the window). */
export const CREDIT_STEP_BYTES = 4 * 1024 * 1024;

/** A grant of credit, and how much of the time since its last grant the receiver spent waiting for data. */
export interface Credit {
  readonly bytes: number;
  /** 0 (always busy) to 1 (always waiting): with the sender's own waiting, it tells a slow link from a busy receiver. */
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

/** The sender's side: waits for credit before DATA would exceed the window. */
export class SendWindow {
  private outstanding = 0;
  private creditWaitMs = 0;
  private lastReceiverIdle: number | undefined;

  constructor(
    private readonly channel: SecureChannel,
    private readonly timeoutMs: number,
    private readonly windowBytes = WINDOW_BYTES,
  ) {}

  /** Time spent waiting for the receiver's credit: how much the receiver held the sender back. */
  get waitedForCreditMs(): number {
    return this.creditWaitMs;
  }

  /** The receiver's idle share in its latest credit; undefined before the first. */
  get receiverIdle(): number | undefined {
    return this.lastReceiverIdle;
  }

  async reserve(bytes: number): Promise<void> {
    this.outstanding += bytes;
    // Credits that already arrived are taken at once, so the receiver's news is never stale.
    while (this.channel.hasQueued) await this.takeCredit();
    while (this.outstanding > this.windowBytes) {
      const started = performance.now();
      await this.takeCredit();
      this.creditWaitMs += performance.now() - started;
    }
  }

  private async takeCredit(): Promise<void> {
    const credit = await receiveCredit(this.channel, this.timeoutMs);
    this.outstanding -= credit.bytes;
    this.lastReceiverIdle = credit.receiverIdle;
    if (this.outstanding < 0) throw new BeamError('protocol', 'the receiver granted credit for data it was never sent');
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

/** The receiver's side: counts consumed DATA bytes and grants them back in steps. */
export class CreditGrant {
  private consumed = 0;
  private waitedMs = 0;
  private since = performance.now();

  constructor(
    private readonly channel: SecureChannel,
    private readonly stepBytes = CREDIT_STEP_BYTES,
  ) {}

  /** Time the receiver spent waiting for the next message, reported with the next grant. */
  waited(ms: number): void {
    this.waitedMs += ms;
  }

  async consume(bytes: number): Promise<void> {
    this.consumed += bytes;
    if (this.consumed < this.stepBytes) return;
    const now = performance.now();
    const credit = { bytes: this.consumed, receiverIdle: this.waitedMs / Math.max(now - this.since, Number.EPSILON) };
    this.consumed = this.waitedMs = 0;
    this.since = now;
    await this.channel.send(MessageKind.Credit, encodeCredit(credit));
  }
}
