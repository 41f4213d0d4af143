import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeReceiverEnvironment, decodeSenderHello } from '../src/bundle/hello.js';

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const environment = { hostname: 'cs', user: 'codespace', platform: 'linux', homeReadableByOthers: false };

test('introductions decode, keeping only known fields', () => {
  assert.deepEqual(decodeSenderHello(bytes({ verify: true })), { verify: true });
  assert.deepEqual(
    decodeReceiverEnvironment(bytes({ ...environment, codespace: { owner: 'alice', extra: 1 }, repository: 'github.com/o/a', junk: 'x' })),
    { ...environment, codespace: { owner: 'alice' }, repository: 'github.com/o/a' },
  );
});

test('malformed introductions are protocol errors that name the message', () => {
  for (const body of ['not json', '[]', { verify: 'yes' }]) {
    assert.throws(() => decodeSenderHello(bytes(body)), /^BeamError: the peer sent a malformed hello message$/);
  }
  for (const body of [{ ...environment, hostname: '' }, { ...environment, user: 7 }, { ...environment, codespace: [] }, { ...environment, repository: 'x'.repeat(5000) }]) {
    assert.throws(() => decodeReceiverEnvironment(bytes(body)), (error: Error & { kind?: string }) => error.kind === 'protocol' && error.message === 'the peer sent a malformed environment message');
  }
});
