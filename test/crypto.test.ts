import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  channelIdentifier,
  finishCpace,
  loadSodium,
  Opener,
  Sealer,
  startCpace,
  topicForNameplate,
  utf8,
  type CpaceInputs,
} from '../src/crypto/index.js';

const sodium = await loadSodium();
const keyA = new Uint8Array(32).fill(1);
const keyB = new Uint8Array(32).fill(2);
const hash = new Uint8Array(64).fill(3);

function inputs(password: string, ad: string, overrides: Partial<CpaceInputs> = {}): CpaceInputs {
  return {
    password: utf8(password),
    channelId: channelIdentifier('4821', keyA, keyB),
    sessionId: hash,
    associatedData: utf8(ad),
    ...overrides,
  };
}

function run(initiator: CpaceInputs, responder: CpaceInputs): [Uint8Array, Uint8Array] {
  const a = startCpace(sodium, 'initiator', initiator);
  const b = startCpace(sodium, 'responder', responder);
  return [finishCpace(sodium, a, b.share, responder.associatedData), finishCpace(sodium, b, a.share, initiator.associatedData)];
}

test('CPace: the same code gives both sides the same key', () => {
  const [a, b] = run(inputs('amber-tidal', 'receiver'), inputs('amber-tidal', 'sender'));
  assert.equal(a.length, 64);
  assert.deepEqual(a, b);
});

test('CPace: a different code gives different keys', () => {
  const [a, b] = run(inputs('amber-tidal', 'receiver'), inputs('amber-tidas', 'sender'));
  assert.notDeepEqual(a, b);
});

test('CPace: a changed transcript (channel id or Noise handshake hash) gives different keys', () => {
  const otherChannel = channelIdentifier('4822', keyA, keyB);
  const [a, b] = run(inputs('amber-tidal', 'receiver'), inputs('amber-tidal', 'sender', { channelId: otherChannel }));
  assert.notDeepEqual(a, b);
  const [c, d] = run(inputs('amber-tidal', 'receiver'), inputs('amber-tidal', 'sender', { sessionId: new Uint8Array(64).fill(4) }));
  assert.notDeepEqual(c, d);
  const [e, f] = run(inputs('amber-tidal', 'receiver'), inputs('amber-tidal', 'sender', { channelId: channelIdentifier('4821', keyB, keyA) }));
  assert.notDeepEqual(e, f);
});

test('CPace: every run uses fresh randomness', () => {
  const [a] = run(inputs('amber-tidal', 'receiver'), inputs('amber-tidal', 'sender'));
  const [b] = run(inputs('amber-tidal', 'receiver'), inputs('amber-tidal', 'sender'));
  assert.notDeepEqual(a, b);
});

test('CPace: invalid and identity shares are refused', () => {
  const state = startCpace(sodium, 'initiator', inputs('amber-tidal', 'receiver'));
  assert.throws(() => finishCpace(sodium, state, new Uint8Array(32), utf8('sender')), /invalid|degenerate/);
  assert.throws(() => finishCpace(sodium, state, new Uint8Array(31).fill(9), utf8('sender')), /invalid/);
  assert.throws(() => finishCpace(sodium, state, new Uint8Array(32).fill(0xff), utf8('sender')), /invalid/);
});

test('the topic depends on the nameplate only', () => {
  // Pinned bytes (BLAKE2b-256 as Python's hashlib computes it): a sender and a receiver from
  // different releases must still announce and look up the same topic.
  assert.equal(Buffer.from(topicForNameplate('4821')).toString('hex'), '4e4f6608fe25e9ab44e65496c9ff75c95f58cb1212561019db6afa36f9583dc3');
  assert.notDeepEqual(topicForNameplate('4821'), topicForNameplate('4822'));
  // sodium-native computes it; the WebAssembly build (and so any libsodium) agrees.
  assert.deepEqual(topicForNameplate('4821'), sodium.crypto_generichash(32, utf8('copilot-beam/1 topic 4821'), null));
});

test('sealed stream: messages round-trip and the final tag is seen', () => {
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const sealer = new Sealer(key);
  const opener = new Opener(key, sealer.header);
  const one = sealer.seal(utf8('one'));
  const two = sealer.seal(utf8('two'), true);
  assert.deepEqual(opener.open(one), { plaintext: utf8('one'), final: false });
  assert.deepEqual(opener.open(two), { plaintext: utf8('two'), final: true });
  assert.throws(() => opener.open(one), /after the end/);
  assert.throws(() => sealer.seal(utf8('three')), /already finished/);
});

test('sealed stream: the native build and the WebAssembly build of libsodium read each other (one wire format)', () => {
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const sealer = new Sealer(key);
  const pull = sodium.crypto_secretstream_xchacha20poly1305_init_pull(sealer.header, key);
  const opened = sodium.crypto_secretstream_xchacha20poly1305_pull(pull, sealer.seal([utf8('kind'), utf8('+body')], true), null);
  assert.ok(opened);
  assert.deepEqual(opened.message, utf8('kind+body'));
  assert.equal(opened.tag, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL);

  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  const opener = new Opener(key, header);
  const message = sodium.crypto_secretstream_xchacha20poly1305_push(state, utf8('from wasm'), null, sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  assert.deepEqual(opener.open(message), { plaintext: utf8('from wasm'), final: false });
  const odd = sodium.crypto_secretstream_xchacha20poly1305_push(state, utf8('rekey'), null, sodium.crypto_secretstream_xchacha20poly1305_TAG_REKEY);
  assert.throws(() => opener.open(odd), /tag we never send/);
});

test('sealed stream: sealing into part of a buffer and opening in place give the same messages, and the WebAssembly build reads them', () => {
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const sealer = new Sealer(key);
  const reference = new Opener(key, sealer.header);
  const inPlace = new Opener(key, sealer.header);
  const wasm = sodium.crypto_secretstream_xchacha20poly1305_init_pull(sealer.header, key);
  const texts = ['', 'a', 'x'.repeat(70_000), 'last'];
  for (const [index, text] of texts.entries()) {
    const plaintext = utf8(text);
    const final = index === texts.length - 1;
    // Sealed between bytes that must stay as they are, as in a frame.
    const frame = new Uint8Array(plaintext.length + 17 + 10).fill(0xee);
    const target = frame.subarray(6, frame.length - 4);
    sealer.sealInto(target, plaintext, final);
    assert.deepEqual([...frame.subarray(0, 6), ...frame.subarray(frame.length - 4)], Array(10).fill(0xee));
    const copy = Uint8Array.from(target);
    const opened = sodium.crypto_secretstream_xchacha20poly1305_pull(wasm, copy, null);
    assert.ok(opened);
    assert.deepEqual(opened.message, plaintext);
    assert.deepEqual(reference.open(Uint8Array.from(target)), { plaintext, final });
    const result = inPlace.openInPlace(target);
    assert.deepEqual({ plaintext: Uint8Array.from(result.plaintext), final: result.final }, { plaintext, final });
    // The plaintext is a view of the ciphertext's own bytes, after its tag byte.
    assert.equal(result.plaintext.buffer, frame.buffer);
    assert.equal(result.plaintext.byteOffset, target.byteOffset + 1);
  }
  assert.throws(() => sealer.sealInto(new Uint8Array(20), utf8('x')), /already finished/);
  assert.throws(() => new Sealer(key).sealInto(new Uint8Array(20), utf8('x')), /wrong size/);
});

test('sealed stream: a tampered message opened in place fails and its bytes are left as they came', () => {
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const sealer = new Sealer(key);
  const opener = new Opener(key, sealer.header);
  const message = sealer.seal(utf8('payload that must stay encrypted'));
  message[5]! ^= 1;
  const before = Uint8Array.from(message);
  assert.throws(() => opener.openInPlace(message), /failed authentication/);
  assert.deepEqual(message, before);
  assert.throws(() => opener.openInPlace(new Uint8Array(3)), /failed authentication/);
  // Nothing at all, at the very end of a buffer (an empty frame body): still that error.
  assert.throws(() => opener.openInPlace(new Uint8Array(8).subarray(8)), /failed authentication/);
});

test('sealed stream: tampered, reordered, replayed or foreign messages fail', () => {
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const fresh = (): { sealer: Sealer; opener: Opener } => {
    const sealer = new Sealer(key);
    return { sealer, opener: new Opener(key, sealer.header) };
  };
  {
    const { sealer, opener } = fresh();
    const message = sealer.seal(utf8('payload'));
    message[message.length - 1]! ^= 1;
    assert.throws(() => opener.open(message), /failed authentication/);
  }
  {
    const { sealer, opener } = fresh();
    const first = sealer.seal(utf8('1'));
    const second = sealer.seal(utf8('2'));
    assert.throws(() => opener.open(second), /failed authentication/);
    void first;
  }
  {
    const { sealer, opener } = fresh();
    const first = sealer.seal(utf8('1'));
    opener.open(first);
    assert.throws(() => opener.open(first), /failed authentication/);
  }
  {
    const { sealer } = fresh();
    const other = new Opener(sodium.crypto_secretstream_xchacha20poly1305_keygen(), sealer.header);
    assert.throws(() => other.open(sealer.seal(utf8('x'))), /failed authentication/);
  }
});
