import { BeamError } from '../errors.js';
import type { Opener, Sealer } from '../crypto/sealed-stream.js';
import type { FramedConnection } from './connection.js';
import { FrameType } from './framing.js';

export interface SealedMessage {
  readonly kind: number;
  readonly body: Uint8Array;
  /** True for the last message the peer will ever send on this channel. */
  readonly final: boolean;
}

/**
 * The channel after key confirmation: every message is sealed in the sender's secretstream, so
 * its kind and contents are hidden and any change, drop, replay or reorder is detected.
 */
export class SecureChannel {
  constructor(
    private readonly connection: FramedConnection,
    private readonly sealer: Sealer,
    private readonly opener: Opener,
    /** 32 bytes both sides share; only the verification phrase uses it. */
    readonly verificationKey: Uint8Array,
  ) {}

  async send(kind: number, body: Uint8Array, final = false): Promise<void> {
    await this.connection.send(FrameType.Sealed, this.sealer.seal([Uint8Array.of(kind), body], final));
  }

  async receive(timeoutMs: number, whatWeWaitFor?: string): Promise<SealedMessage> {
    const frame = await this.connection.receive(timeoutMs, whatWeWaitFor);
    if (frame.type !== FrameType.Sealed) {
      throw this.fail(new BeamError('protocol', 'the peer sent an unencrypted frame after the key exchange'));
    }
    let opened;
    try {
      opened = this.opener.open(frame.body);
    } catch (error) {
      throw this.fail(error as BeamError);
    }
    if (opened.plaintext.length < 1) throw this.fail(new BeamError('protocol', 'the peer sent an empty message'));
    return { kind: opened.plaintext[0]!, body: opened.plaintext.subarray(1), final: opened.final };
  }

  /**
   * Best effort: tells the peer why we stop as our last message and lets it drain before the
   * connection closes (destroying at once could drop it, leaving the peer with "connection lost").
   */
  async sendFinalAndClose(kind: number, body: Uint8Array): Promise<void> {
    try {
      await this.send(kind, body, true);
      await this.connection.finish(2000);
    } catch {
      this.connection.close();
    }
  }

  finish(): Promise<void> {
    return this.connection.finish();
  }

  close(reason?: BeamError): void {
    this.connection.close(reason);
  }

  private fail(error: BeamError): BeamError {
    this.connection.close(error);
    return error;
  }
}
