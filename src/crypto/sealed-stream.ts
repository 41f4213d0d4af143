import { BeamError } from '../errors.js';
import type { Sodium } from './sodium.js';

/**
 * One direction of the encrypted channel: libsodium's secretstream (XChaCha20-Poly1305). Every
 * message is authenticated and ordered, so a dropped, repeated or reordered message fails to
 * open, and TAG_FINAL marks the one legitimate end: a stream cut short never looks complete.
 */
export interface OpenedMessage {
  readonly plaintext: Uint8Array;
  readonly final: boolean;
}

export class Sealer {
  readonly header: Uint8Array;
  private readonly state: ReturnType<Sodium['crypto_secretstream_xchacha20poly1305_init_push']>['state'];
  private ended = false;

  constructor(
    private readonly sodium: Sodium,
    key: Uint8Array,
  ) {
    const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
    this.state = state;
    this.header = header;
  }

  seal(plaintext: Uint8Array, final = false): Uint8Array {
    if (this.ended) throw new BeamError('internal', 'sealed stream already finished');
    const tag = final
      ? this.sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
      : this.sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    if (final) this.ended = true;
    return this.sodium.crypto_secretstream_xchacha20poly1305_push(this.state, plaintext, null, tag);
  }
}

export class Opener {
  private readonly state: ReturnType<Sodium['crypto_secretstream_xchacha20poly1305_init_pull']>;
  private ended = false;

  constructor(
    private readonly sodium: Sodium,
    key: Uint8Array,
    header: Uint8Array,
  ) {
    if (header.length !== sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES) {
      throw new BeamError('protocol', 'the peer sent a malformed stream header');
    }
    this.state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  }

  get finished(): boolean {
    return this.ended;
  }

  open(ciphertext: Uint8Array): OpenedMessage {
    if (this.ended) throw new BeamError('protocol', 'the peer sent data after the end of its stream');
    let result: { message: Uint8Array; tag: number } | false;
    try {
      result = this.sodium.crypto_secretstream_xchacha20poly1305_pull(this.state, ciphertext, null);
    } catch (error) {
      throw tampered(error);
    }
    if (result === false) throw tampered();
    const final = result.tag === this.sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    if (final) this.ended = true;
    return { plaintext: result.message, final };
  }
}

function tampered(cause?: unknown): BeamError {
  return new BeamError(
    'protocol',
    'the stream failed authentication (tampered, reordered or replayed data): nothing was installed',
    { cause },
  );
}
