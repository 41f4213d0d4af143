import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCode } from '../src/code/index.js';
import { loadSodium } from '../src/crypto/index.js';
import { FramedConnection, pair, type NoiseBinding } from '../src/transport/index.js';
import { duplexPair } from './helpers/duplex-pair.js';
import { pairOverMemory } from './helpers/memory-channel.js';

const sodium = await loadSodium();
const senderKey = new Uint8Array(32).fill(0xaa);
const receiverKey = new Uint8Array(32).fill(0xbb);
const sharedHash = new Uint8Array(64).fill(0xcc);

test('the same code pairs and the sealed channel carries messages both ways', async () => {
  const { sender, receiver } = await pairOverMemory('7-aardvark-zucchini', '7 AARD zucc');
  const [s, r] = await Promise.all([sender, receiver]);
  assert.deepEqual(s.verificationKey, r.verificationKey);
  await s.send(1, Uint8Array.from([1, 2, 3]));
  assert.deepEqual(await r.receive(1000), { kind: 1, body: Uint8Array.from([1, 2, 3]), final: false });
  await r.send(10, new Uint8Array(0), true);
  assert.deepEqual(await s.receive(1000), { kind: 10, body: new Uint8Array(0), final: true });
});

test('a wrong code fails on both sides with "wrong code" and nothing else', async () => {
  const { sender, receiver } = await pairOverMemory('7-aardvark-zucchini', '7-aardvark-zebra');
  const results = await Promise.allSettled([sender, receiver]);
  for (const result of results) {
    assert.equal(result.status, 'rejected');
    const error = (result as PromiseRejectedResult).reason as Error & { kind: string };
    assert.equal(error.kind, 'wrong-code');
    assert.match(error.message, /^wrong code/);
  }
});

test('a man in the middle with two Noise sessions cannot pair even knowing the code', async () => {
  const { sender, receiver } = await pairOverMemory('7-aardvark-zucchini', '7-aardvark-zucchini', new Uint8Array(64).fill(0xdd));
  const results = await Promise.allSettled([sender, receiver]);
  for (const result of results) assert.equal(result.status, 'rejected');
});

test('a silent peer times out with a clear message', async () => {
  const [a] = duplexPair();
  const binding: NoiseBinding = { publicKey: senderKey, remotePublicKey: receiverKey, handshakeHash: sharedHash };
  await assert.rejects(
    pair(new FramedConnection(a), { sodium, role: 'sender', code: parseCode('7-aardvark-zucchini'), binding, timeoutMs: 100 }),
    /sent nothing for 0 s|looks dead/,
  );
});
