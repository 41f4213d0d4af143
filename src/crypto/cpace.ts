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
  // The generator string holds the password and its hash (like the generator) is enough to test
  // password guesses offline: wiped once used (best effort, see wipe() below).
  const generatorInput = generatorString(inputs.password, inputs.channelId, inputs.sessionId);
  const hashed = sodium.crypto_hash_sha512(generatorInput);
  try {
    return sodium.crypto_core_ristretto255_from_hash(hashed);
  } finally {
    wipe(sodium, generatorInput, hashed);
  }
}

export function startCpace(sodium: Sodium, role: CpaceRole, inputs: CpaceInputs): CpaceState {
  return startCpaceWithScalar(sodium, role, inputs, sodium.crypto_core_ristretto255_scalar_random());
}

/**
 * startCpace with the secret scalar supplied by the caller instead of drawn at random: the
 * deterministic entry point the draft's known-answer tests need (test/cpace-vectors.test.ts).
 * Outside tests use startCpace: a scalar used twice, or one that is not uniformly random, gives
 * the password away. The state takes this very buffer (no copy) and finishCpace zeroes it.
 */
export function startCpaceWithScalar(sodium: Sodium, role: CpaceRole, inputs: CpaceInputs, scalar: Uint8Array): CpaceState {
  if (scalar.length !== sodium.crypto_core_ristretto255_SCALARBYTES) {
    throw new BeamError('internal', 'CPace scalar of the wrong size');
  }
  const generator = calculateGenerator(sodium, inputs);
  try {
    const share = sodium.crypto_scalarmult_ristretto255(scalar, generator);
    return { role, share, inputs, scalar };
  } finally {
    wipe(sodium, generator);
  }
}

/**
 * Combines our state with the peer's share into the intermediate session key (64 bytes).
 * An invalid encoding or a share that makes the shared point the identity is refused: both are
 * what an attacker would send to force a known key.
 *
 * This consumes the state: whatever the outcome (key, invalid or degenerate share), our scalar
 * is zeroed before this returns or throws, so a state cannot be finished twice, and the shared
 * point and every buffer holding it are zeroed once the key is hashed. The caller owns the
 * returned key; deriveSessionKeys zeroes it once the session keys are derived.
 */
export function finishCpace(
  sodium: Sodium,
  state: CpaceState,
  peerShare: Uint8Array,
  peerAssociatedData: Uint8Array,
): Uint8Array {
  try {
    if (peerShare.length !== sodium.crypto_core_ristretto255_BYTES || !sodium.crypto_core_ristretto255_is_valid_point(peerShare)) {
      throw new BeamError('protocol', 'the peer sent an invalid key exchange message');
    }
    if (sodium.is_zero(state.scalar)) {
      throw new BeamError('internal', 'this key exchange was already finished: start a new one');
    }
    let sharedPoint: Uint8Array;
    try {
      sharedPoint = sodium.crypto_scalarmult_ristretto255(state.scalar, peerShare);
    } catch (error) {
      throw new BeamError('protocol', 'the peer sent a degenerate key exchange message', { cause: error });
    }
    // The draft's transcript_ir: the initiator's share and associated data first.
    const transcript =
      state.role === 'initiator'
        ? concatBytes([lvCat(state.share, state.inputs.associatedData), lvCat(peerShare, peerAssociatedData)])
        : concatBytes([lvCat(peerShare, peerAssociatedData), lvCat(state.share, state.inputs.associatedData)]);
    const prefix = lvCat(DSI_ISK, state.inputs.sessionId, sharedPoint);
    const hashInput = concatBytes([prefix, transcript]);
    try {
      return sodium.crypto_hash_sha512(hashInput);
    } finally {
      wipe(sodium, sharedPoint, prefix, hashInput);
    }
  } finally {
    wipe(sodium, state.scalar);
  }
}

/**
 * Best-effort wiping. sodium.memzero zeroes the bytes of the Uint8Array we hold, nothing more:
 * libsodium-wrappers copied them into (and frees without clearing) its WebAssembly heap, and the
 * JavaScript engine may have left other copies behind (moved or grown buffers, concatenations
 * it made for us). It shortens how long a secret lies in memory; it does not guarantee none is left.
 */
function wipe(sodium: Sodium, ...buffers: readonly Uint8Array[]): void {
  for (const buffer of buffers) sodium.memzero(buffer);
}
