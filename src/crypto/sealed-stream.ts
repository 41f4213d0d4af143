import { concatBytes } from './bytes.js';
import { native as sodium } from './native.js';
import { BeamError } from '../errors.js';

/**
 * One direction of the encrypted channel: libsodium's secretstream (XChaCha20-Poly1305). Every
 * message is authenticated and ordered, so a dropped, repeated or reordered message fails to
 * open, and TAG_FINAL marks the one legitimate end: a stream cut short never looks complete.
 *
 * The bulk of a beam passes through here, so it runs on sodium-native (libsodium compiled
 * natively, already loaded by hyperswarm for its own Noise stream): about 1.7 GB/s against
 * 0.4 GB/s for the WebAssembly build, which on loopback cost a quarter of the throughput. The
 * wire format is libsodium's either way; test/crypto.test.ts checks both builds open each other.
 */
export interface OpenedMessage {
  readonly plaintext: Uint8Array;
  readonly final: boolean;
}

const ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES;
/** What sealing adds to a message: its encrypted tag byte and its 16-byte MAC. */
export const SEALED_OVERHEAD_BYTES = ABYTES;
export const SEALED_STREAM_HEADER_BYTES = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES;

function checkKey(key: Uint8Array): void {
  if (key.length !== sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES) throw new BeamError('internal', 'secretstream key of the wrong size');
}

export class Sealer {
  readonly header = new Uint8Array(SEALED_STREAM_HEADER_BYTES);
  private readonly state = new Uint8Array(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES);
  private ended = false;

  constructor(key: Uint8Array) {
    checkKey(key);
    sodium.crypto_secretstream_xchacha20poly1305_init_push(this.state, this.header, key);
  }

  /** Seals `parts` as one message (so a caller need not concatenate them first). */
  seal(parts: Uint8Array | readonly Uint8Array[], final = false): Uint8Array {
    const plaintext = parts instanceof Uint8Array ? parts : concatBytes(parts);
    const ciphertext = new Uint8Array(plaintext.length + ABYTES);
    this.sealInto(ciphertext, plaintext, final);
    return ciphertext;
  }

  /**
   * Seals `plaintext` into `target` (exactly SEALED_OVERHEAD_BYTES longer), which may be part of
   * a larger buffer: the bulk of a beam is sealed straight into its frame, without a buffer of
   * its own per message (each one was garbage, and collecting it cost the sender a tenth of its CPU).
   */
  sealInto(target: Uint8Array, plaintext: Uint8Array, final = false): void {
    if (this.ended) throw new BeamError('internal', 'sealed stream already finished');
    if (target.length !== plaintext.length + ABYTES) throw new BeamError('internal', 'sealed message target of the wrong size');
    if (final) this.ended = true;
    const tag = final ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    sodium.crypto_secretstream_xchacha20poly1305_push(this.state, target, plaintext, null, tag);
  }
}

export class Opener {
  private readonly state = new Uint8Array(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES);
  private readonly tag = new Uint8Array(1);
  private ended = false;

  constructor(key: Uint8Array, header: Uint8Array) {
    checkKey(key);
    if (header.length !== SEALED_STREAM_HEADER_BYTES) {
      throw new BeamError('protocol', 'the peer sent a malformed stream header');
    }
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(this.state, header, key);
  }

  open(ciphertext: Uint8Array): OpenedMessage {
    return this.openInto(new Uint8Array(Math.max(0, ciphertext.length - ABYTES)), ciphertext);
  }

  /**
   * Opens the message where it lies: the plaintext replaces the ciphertext's own bytes (after its
   * tag byte) and is returned as a view of them, so receiving allocates nothing per message.
   * libsodium checks the MAC before it decrypts, so a message that fails leaves them as they were.
   */
  openInPlace(ciphertext: Uint8Array): OpenedMessage {
    if (ciphertext.length < ABYTES) return this.openInto(new Uint8Array(0), ciphertext); // fails as it should
    // A plain Uint8Array view whatever the socket delivered (often a Buffer), as open() gives.
    const plaintext = new Uint8Array(ciphertext.buffer, ciphertext.byteOffset + 1, ciphertext.length - ABYTES);
    return this.openInto(plaintext, ciphertext);
  }

  private openInto(plaintext: Uint8Array, ciphertext: Uint8Array): OpenedMessage {
    if (this.ended) throw new BeamError('protocol', 'the peer sent data after the end of its stream');
    if (ciphertext.length < ABYTES) throw tampered();
    try {
      sodium.crypto_secretstream_xchacha20poly1305_pull(this.state, plaintext, this.tag, ciphertext, null);
    } catch (error) {
      throw tampered(error);
    }
    const tag = this.tag[0];
    if (tag !== sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE && tag !== sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
      throw new BeamError('protocol', `the peer used a secretstream tag we never send (${tag})`);
    }
    const final = tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    if (final) this.ended = true;
    return { plaintext, final };
  }
}

function tampered(cause?: unknown): BeamError {
  return new BeamError(
    'protocol',
    'the stream failed authentication (tampered, reordered or replayed data): nothing was installed',
    { cause },
  );
}
