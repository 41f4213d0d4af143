import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BeamError } from '../src/errors.js';
import { decodeCredit, encodeCredit, FIRST_WINDOW_BYTES, WINDOW_BYTES, WindowSize } from '../src/bundle/flow-control.js';

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

test('the window starts small, doubles after two credits in a row that find the receiver starved, and stops at the most', () => {
  const size = new WindowSize(FIRST_WINDOW_BYTES, WINDOW_BYTES);
  assert.equal(size.current, FIRST_WINDOW_BYTES);
  size.waitedFor(0.9);
  assert.equal(size.current, FIRST_WINDOW_BYTES, 'one starved credit could be the receiver starting up');
  size.waitedFor(0.9);
  assert.equal(size.current, 2 * FIRST_WINDOW_BYTES);
  size.waitedFor(0.9);
  size.waitedFor(0.3); // neither starved nor busy: the count starts again
  size.waitedFor(0.9);
  assert.equal(size.current, 2 * FIRST_WINDOW_BYTES);
  for (let i = 0; i < 20; i++) size.waitedFor(1);
  assert.equal(size.current, WINDOW_BYTES);
});

test('a busy receiver halves the window back, never below where it started', () => {
  const size = new WindowSize(FIRST_WINDOW_BYTES, WINDOW_BYTES);
  for (let i = 0; i < 20; i++) size.waitedFor(1);
  size.waitedFor(0.05);
  assert.equal(size.current, WINDOW_BYTES / 2);
  for (let i = 0; i < 10; i++) size.waitedFor(0);
  assert.equal(size.current, FIRST_WINDOW_BYTES);
});
