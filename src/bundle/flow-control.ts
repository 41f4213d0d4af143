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

export function encodeCredit(bytes: number): Uint8Array {
  const body = new Uint8Array(4);
  new DataView(body.buffer).setUint32(0, bytes);
  return body;
}

export function decodeCredit(body: Uint8Array): number {
  if (body.length !== 4) throw new BeamError('protocol', 'the receiver sent a malformed credit');
  return new DataView(body.buffer, body.byteOffset, 4).getUint32(0);
}

/** The sender's side: waits for credit before DATA would exceed the window. */
export class SendWindow {
  private outstanding = 0;
  private creditWaitMs = 0;

  constructor(
    private readonly channel: SecureChannel,
    private readonly timeoutMs: number,
    private readonly windowBytes = WINDOW_BYTES,
  ) {}

  /** Time spent waiting for the receiver's credit: how much the receiver held the sender back. */
  get waitedForCreditMs(): number {
    return this.creditWaitMs;
  }

  async reserve(bytes: number): Promise<void> {
    this.outstanding += bytes;
    while (this.outstanding > this.windowBytes) {
      const started = performance.now();
      this.outstanding -= await receiveCredit(this.channel, this.timeoutMs);
      this.creditWaitMs += performance.now() - started;
      if (this.outstanding < 0) throw new BeamError('protocol', 'the receiver granted credit for data it was never sent');
    }
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

async function receiveCredit(channel: SecureChannel, timeoutMs: number): Promise<number> {
  const message = await channel.receive(timeoutMs, 'the receiver');
  if (message.kind === MessageKind.Credit) return decodeCredit(message.body);
  if (message.kind === MessageKind.Failed) throw new BeamError('install', `the receiver could not install the session: ${decodeReason(message.body)}`);
  throw new BeamError('protocol', `the receiver broke the protocol (message ${message.kind} during the transfer)`);
}

/** The receiver's side: counts consumed DATA bytes and grants them back in steps. */
export class CreditGrant {
  private consumed = 0;

  constructor(
    private readonly channel: SecureChannel,
    private readonly stepBytes = CREDIT_STEP_BYTES,
  ) {}

  async consume(bytes: number): Promise<void> {
    this.consumed += bytes;
    if (this.consumed < this.stepBytes) return;
    const grant = this.consumed;
    this.consumed = 0;
    await this.channel.send(MessageKind.Credit, encodeCredit(grant));
  }
}
