import { BeamError } from '../errors.js';
import { singleLineText } from '../terminal-text.js';
import { SEALED_OVERHEAD_BYTES, type Opener, type Sealer } from '../crypto/sealed-stream.js';
import type { FramedConnection } from './connection.js';
import { FrameType } from './framing.js';
import type { SendBufferCounts } from './send-buffers.js';

export interface SealedMessage {
  readonly kind: number;
  readonly body: Uint8Array;
  /** True for the last message the peer will ever send on this channel. */
  readonly final: boolean;
}

/**
 * Kind 255 is the channel's own: "I am stopping, and why" (Ctrl-C, a closed terminal, an
 * application that gave up), the last message of its direction. receive() turns it into an error
 * that carries the peer's words, whatever the caller was waiting for.
 */
export const CANCEL_KIND = 255;

/** The largest message whose scratch buffer is kept: a DATA message's, with room to spare. */
const MAX_SCRATCH_BYTES = 1024 * 1024;

/** The other side cancelled the beam; `message` says so in its words (shown sanitised). */
export class PeerCancelledError extends BeamError {
  constructor(message: string) {
    super('declined', message);
    this.name = 'PeerCancelledError';
  }
}

/**
 * The channel after key confirmation: every message is sealed in the sender's secretstream, so
 * its kind and contents are hidden and any change, drop, replay or reorder is detected.
 */
export class SecureChannel {
  /** Where a message is put together before it is sealed: used again for every message. */
  private scratch = new Uint8Array(0);

  constructor(
    private readonly connection: FramedConnection,
    private readonly sealer: Sealer,
    private readonly opener: Opener,
    /** 32 bytes both sides share; only the verification phrase uses it. */
    readonly verificationKey: Uint8Array,
  ) {}

  async send(kind: number, body: Uint8Array, final = false): Promise<void> {
    const plaintext = this.plaintextOf(kind, body);
    const { frame, body: sealed } = this.connection.frameWithRoom(FrameType.Sealed, plaintext.length + SEALED_OVERHEAD_BYTES);
    this.sealer.sealInto(sealed, plaintext, final);
    await this.connection.sendFrame(frame);
  }

  /**
   * The kind byte and the body side by side, in the scratch buffer (sealing reads it at once, so
   * the next message may overwrite it). Only messages up to a DATA's size are kept for reuse: a
   * large manifest, sent once, gets a buffer of its own.
   */
  private plaintextOf(kind: number, body: Uint8Array): Uint8Array {
    const length = 1 + body.length;
    const buffer = length <= this.scratch.length ? this.scratch : new Uint8Array(length);
    if (length > this.scratch.length && length <= MAX_SCRATCH_BYTES) this.scratch = buffer;
    buffer[0] = kind;
    buffer.set(body, 1);
    return buffer.subarray(0, length);
  }

  /** A message has arrived and waits to be received. */
  get hasQueued(): boolean {
    return this.connection.hasQueued;
  }

  async receive(timeoutMs: number, whatWeWaitFor?: string): Promise<SealedMessage> {
    const frame = await this.connection.receive(timeoutMs, whatWeWaitFor);
    if (frame.type !== FrameType.Sealed) {
      throw this.fail(new BeamError('protocol', 'the peer sent an unencrypted frame after the key exchange'));
    }
    let opened;
    try {
      opened = this.opener.openInPlace(frame.body);
    } catch (error) {
      throw this.fail(error as BeamError);
    }
    if (opened.plaintext.length < 1) throw this.fail(new BeamError('protocol', 'the peer sent an empty message'));
    const kind = opened.plaintext[0]!;
    if (kind === CANCEL_KIND) throw this.fail(new PeerCancelledError(cancelReason(opened.plaintext.subarray(1))));
    return { kind, body: opened.plaintext.subarray(1), final: opened.final };
  }

  /** Resolves once the connection has ended, with why: a reader elsewhere can stop waiting. */
  get ended(): Promise<BeamError> {
    return this.connection.ended;
  }

  /** Tells the peer we stop, and why, as our last message; best effort and quick. */
  async cancel(message: string): Promise<void> {
    try {
      await this.send(CANCEL_KIND, new TextEncoder().encode(message.slice(0, 200)), true);
      await this.connection.finish(500);
    } catch {
      this.connection.close();
    }
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

  /** What the connection's send buffers made and got back, if it has them: for tests and measurements. */
  get sendBufferCounts(): SendBufferCounts | undefined {
    return this.connection.sendBufferCounts;
  }

  close(reason?: BeamError): void {
    this.connection.close(reason);
  }

  private fail(error: BeamError): BeamError {
    this.connection.close(error);
    return error;
  }
}

function cancelReason(body: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body).slice(0, 200);
  return singleLineText(text, 200) || 'the other side cancelled';
}
