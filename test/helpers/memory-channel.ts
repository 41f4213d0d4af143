import { parseCode } from '../../src/code/index.js';
import { loadSodium } from '../../src/crypto/index.js';
import { FramedConnection, pair, type NoiseBinding, type SecureChannel } from '../../src/transport/index.js';
import { duplexPair } from './duplex-pair.js';

const senderKey = new Uint8Array(32).fill(0xaa);
const receiverKey = new Uint8Array(32).fill(0xbb);
const sharedHash = new Uint8Array(64).fill(0xcc);

export interface MemoryPairing {
  readonly sender: Promise<SecureChannel>;
  readonly receiver: Promise<SecureChannel>;
}

/** Runs the real pairing over in-memory streams, with fixed stand-ins for the Noise keys. */
export async function pairOverMemory(senderCode: string, receiverCode: string, receiverHash = sharedHash): Promise<MemoryPairing> {
  const sodium = await loadSodium();
  const [a, b] = duplexPair();
  const senderBinding: NoiseBinding = { publicKey: senderKey, remotePublicKey: receiverKey, handshakeHash: sharedHash };
  const receiverBinding: NoiseBinding = { publicKey: receiverKey, remotePublicKey: senderKey, handshakeHash: receiverHash };
  return {
    sender: pair(new FramedConnection(a), { sodium, role: 'sender', code: parseCode(senderCode), binding: senderBinding, timeoutMs: 5000 }),
    receiver: pair(new FramedConnection(b), { sodium, role: 'receiver', code: parseCode(receiverCode), binding: receiverBinding, timeoutMs: 5000 }),
  };
}

export async function pairedChannels(): Promise<{ sender: SecureChannel; receiver: SecureChannel }> {
  const pairing = await pairOverMemory('7-aardvark-zucchini', '7-aardvark-zucchini');
  const [sender, receiver] = await Promise.all([pairing.sender, pairing.receiver]);
  return { sender, receiver };
}
