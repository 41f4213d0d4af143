import { BeamError } from '../errors.js';
import { concatBytes, lvCat, prependLength, utf8 } from './bytes.js';
import type { Sodium } from './sodium.js';

/**
 * CPace (draft-irtf-cfrg-cpace) over ristretto255 with SHA-512: a balanced PAKE with one message
 * each way. Both sides derive the same generator from the password and the session's channel
 * identifier, exchange one group element each, and hash the shared point with the transcript.
 * Someone who does not know the password gets one guess per run of the protocol.
 */

const DSI = utf8('CPaceRistretto255');
const DSI_ISK = utf8('CPaceRistretto255_ISK');
/** SHA-512 block size: the generator string is padded so the password fills its first block. */
const HASH_BLOCK_BYTES = 128;

export type CpaceRole = 'initiator' | 'responder';

export interface CpaceInputs {
  /** The password-related string: here the code's words. */
  readonly password: Uint8Array;
  /** Channel identifier: binds the run to this protocol, nameplate and both parties' keys. */
  readonly channelId: Uint8Array;
  /** Session id: unique per run and equal on both sides (the Noise handshake hash). */
  readonly sessionId: Uint8Array;
  /** Associated data this side sends along with its share (its role label). */
  readonly associatedData: Uint8Array;
}

export interface CpaceState {
  readonly role: CpaceRole;
  readonly share: Uint8Array;
  readonly inputs: CpaceInputs;
  readonly scalar: Uint8Array;
}

export function generatorString(password: Uint8Array, channelId: Uint8Array, sessionId: Uint8Array): Uint8Array {
  const zeroPadLength = Math.max(
    0,
    HASH_BLOCK_BYTES - 1 - prependLength(password).length - prependLength(DSI).length,
  );
  return lvCat(DSI, password, new Uint8Array(zeroPadLength), channelId, sessionId);
}

export function calculateGenerator(sodium: Sodium, inputs: CpaceInputs): Uint8Array {
  const hashed = sodium.crypto_hash_sha512(generatorString(inputs.password, inputs.channelId, inputs.sessionId));
  return sodium.crypto_core_ristretto255_from_hash(hashed);
}

export function startCpace(sodium: Sodium, role: CpaceRole, inputs: CpaceInputs): CpaceState {
  const generator = calculateGenerator(sodium, inputs);
  const scalar = sodium.crypto_core_ristretto255_scalar_random();
  const share = sodium.crypto_scalarmult_ristretto255(scalar, generator);
  return { role, share, inputs, scalar };
}

/**
 * Combines our state with the peer's share into the intermediate session key (64 bytes).
 * An invalid encoding or a share that makes the shared point the identity is refused: both are
 * what an attacker would send to force a known key.
 */
export function finishCpace(
  sodium: Sodium,
  state: CpaceState,
  peerShare: Uint8Array,
  peerAssociatedData: Uint8Array,
): Uint8Array {
  if (peerShare.length !== sodium.crypto_core_ristretto255_BYTES || !sodium.crypto_core_ristretto255_is_valid_point(peerShare)) {
    throw new BeamError('protocol', 'the peer sent an invalid key exchange message');
  }
  let sharedPoint: Uint8Array;
  try {
    sharedPoint = sodium.crypto_scalarmult_ristretto255(state.scalar, peerShare);
  } catch (error) {
    throw new BeamError('protocol', 'the peer sent a degenerate key exchange message', { cause: error });
  }
  const transcript =
    state.role === 'initiator'
      ? concatBytes([lvCat(state.share, state.inputs.associatedData), lvCat(peerShare, peerAssociatedData)])
      : concatBytes([lvCat(peerShare, peerAssociatedData), lvCat(state.share, state.inputs.associatedData)]);
  const prefix = lvCat(DSI_ISK, state.inputs.sessionId, sharedPoint);
  return sodium.crypto_hash_sha512(concatBytes([prefix, transcript]));
}
