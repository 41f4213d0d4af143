import { lvCat, utf8 } from './bytes.js';
import { native as sodiumNative } from './native.js';
import type { Sodium } from './sodium.js';

/** Bumped whenever the wire format or the key schedule changes. */
export const PROTOCOL_VERSION = 1;
const PROTOCOL_LABEL = `copilot-beam/${PROTOCOL_VERSION}`;

export const SENDER_LABEL = utf8('sender');
export const RECEIVER_LABEL = utf8('receiver');

export interface SessionKeys {
  /** MAC keys for explicit key confirmation, one per direction. */
  readonly confirmReceiver: Uint8Array;
  readonly confirmSender: Uint8Array;
  /** secretstream keys, one per direction, so no nonce stream is ever shared. */
  readonly senderToReceiver: Uint8Array;
  readonly receiverToSender: Uint8Array;
  /** Seeds a short phrase people can compare by voice (for --verify). */
  readonly verification: Uint8Array;
}

/** Only the nameplate picks the rendezvous: the words never leave the PAKE. */
/**
 * BLAKE2b-256 of the label and the nameplate. Computed with sodium-native (already loaded with
 * hyperswarm) so that the DHT lookup can start before the WebAssembly libsodium, needed only for
 * the PAKE, has finished loading; test/crypto.test.ts checks both builds agree.
 */
export function topicForNameplate(nameplate: string): Uint8Array {
  const topic = new Uint8Array(32);
  sodiumNative.crypto_generichash(topic, utf8(`${PROTOCOL_LABEL} topic ${nameplate}`));
  return topic;
}

/**
 * Binds the PAKE to this protocol version, this nameplate and this exact Noise connection:
 * a man in the middle who runs two Noise sessions sees two different sets of keys.
 */
export function channelIdentifier(nameplate: string, senderNoiseKey: Uint8Array, receiverNoiseKey: Uint8Array): Uint8Array {
  return lvCat(utf8(PROTOCOL_LABEL), utf8(nameplate), senderNoiseKey, receiverNoiseKey);
}

/**
 * Derives the session keys from CPace's intermediate session key, then zeroes that key: it has
 * no other use, and the caller (pairing) never sees it again. Best effort, as for wipeSessionKeys.
 */
export function deriveSessionKeys(sodium: Sodium, intermediateKey: Uint8Array): SessionKeys {
  const derive = (purpose: string): Uint8Array =>
    sodium.crypto_generichash(32, utf8(`${PROTOCOL_LABEL} ${purpose}`), intermediateKey);
  try {
    return {
      confirmReceiver: derive('confirm receiver'),
      confirmSender: derive('confirm sender'),
      senderToReceiver: derive('stream sender to receiver'),
      receiverToSender: derive('stream receiver to sender'),
      verification: derive('verification phrase'),
    };
  } finally {
    sodium.memzero(intermediateKey);
  }
}

/**
 * Zeroes every key in `keys`, for callers done with them. Sealer and Opener copy their key into
 * their own state when built, so the stream keys may go as soon as both exist; a key still held
 * elsewhere by reference (the verification key a SecureChannel keeps) is zeroed there too.
 *
 * Best effort: sodium.memzero clears these Uint8Arrays only. libsodium-wrappers copied the keys
 * through its WebAssembly heap, and the JavaScript engine may keep other copies; this shortens
 * how long they stay in memory, it cannot promise they are gone.
 */
export function wipeSessionKeys(sodium: Sodium, keys: SessionKeys): void {
  sodium.memzero(keys.confirmReceiver);
  sodium.memzero(keys.confirmSender);
  sodium.memzero(keys.senderToReceiver);
  sodium.memzero(keys.receiverToSender);
  sodium.memzero(keys.verification);
}

/** The confirmation tag covers the whole channel binding again, so it cannot be moved between runs. */
export function confirmationTag(sodium: Sodium, key: Uint8Array, channelId: Uint8Array, sessionId: Uint8Array): Uint8Array {
  return sodium.crypto_auth_hmacsha512256(lvCat(channelId, sessionId), key);
}

export function tagsEqual(sodium: Sodium, a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sodium.memcmp(a, b);
}
