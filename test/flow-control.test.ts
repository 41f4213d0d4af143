import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BeamError } from '../src/errors.js';
import { decodeCredit, encodeCredit } from '../src/bundle/flow-control.js';

test('a credit carries its bytes and the receiver idle share, to the thousandth', () => {
  assert.deepEqual(decodeCredit(encodeCredit({ bytes: 4 * 1024 * 1024, receiverIdle: 0.3337 })), { bytes: 4 * 1024 * 1024, receiverIdle: 0.334 });
  assert.deepEqual(decodeCredit(encodeCredit({ bytes: 1, receiverIdle: 7 })), { bytes: 1, receiverIdle: 1 });
});

test('a malformed credit is refused as a protocol error', () => {
  assert.throws(() => decodeCredit(new Uint8Array(4)), BeamError);
  const overOne = encodeCredit({ bytes: 1, receiverIdle: 0 });
  new DataView(overOne.buffer).setUint16(4, 1001);
  assert.throws(() => decodeCredit(overOne), /malformed credit/);
});
