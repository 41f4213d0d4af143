import { codePassword, parseCode, type Code } from '../../src/code/index.js';
import {
  channelIdentifier,
  concatBytes,
  confirmationTag,
  deriveSessionKeys,
  finishCpace,
  RECEIVER_LABEL,
  SENDER_LABEL,
  startCpace,
  utf8,
  type Sodium,
} from '../../src/crypto/index.js';
import { FrameType, type Frame, type FramedConnection, type NoiseBinding, type Role } from '../../src/transport/index.js';

/**
 * One side of the pairing as an attacker runs it: the key exchange done honestly with a guessed
 * code, then the confirmation tag built but held, so that a test decides when (and how many at
 * once) it is released. Only the order of messages is the protocol's; the guess is the attacker's.
 */
export interface HeldGuess {
  /** The CONFIRM this side would send for its guess. */
  readonly confirm: Uint8Array;
  readonly connection: FramedConnection;
}

export async function exchangeShares(
  connection: FramedConnection,
  sodium: Sodium,
  role: Role,
  guess: string,
  binding: NoiseBinding,
  /** The peer's share, when the caller already read it off the connection. */
  peerShareFrame?: Frame,
): Promise<HeldGuess> {
  const code: Code = parseCode(guess);
  const senderKey = role === 'sender' ? binding.publicKey : binding.remotePublicKey;
  const receiverKey = role === 'sender' ? binding.remotePublicKey : binding.publicKey;
  const channelId = channelIdentifier(code.nameplate, senderKey, receiverKey);
  const sessionId = binding.handshakeHash;
  const state = startCpace(sodium, role === 'receiver' ? 'initiator' : 'responder', {
    password: utf8(codePassword(code)),
    channelId,
    sessionId,
    associatedData: role === 'sender' ? SENDER_LABEL : RECEIVER_LABEL,
  });
  await connection.send(FrameType.PakeShare, state.share);
  const peerShare = peerShareFrame ?? (await connection.receive(10_000, 'the peer'));
  if (peerShare.type !== FrameType.PakeShare) throw new Error(`expected a share, got frame ${peerShare.type}`);
  const keys = deriveSessionKeys(sodium, finishCpace(sodium, state, peerShare.body, role === 'sender' ? RECEIVER_LABEL : SENDER_LABEL));
  const tag = confirmationTag(sodium, role === 'sender' ? keys.confirmSender : keys.confirmReceiver, channelId, sessionId);
  return { confirm: concatBytes([tag, new Uint8Array(24)]), connection };
}
