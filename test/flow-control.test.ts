import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BeamError } from '../src/errors.js';
import { CREDIT_STEP_BYTES, decodeCredit, encodeCredit, FIRST_WINDOW_BYTES, WINDOW_BYTES, WindowSize } from '../src/bundle/flow-control.js';
import { COMPRESSED_CHUNK_BYTES, DATA_CHUNK_BYTES } from '../src/bundle/index.js';

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

const MiB = 1024 * 1024;

/** One stretch between two waits of the sender: credits of 1 MiB with these idle shares, then the wait. */
function round(size: WindowSize, ...idleShares: number[]): void {
  for (const receiverIdle of idleShares) size.credited({ bytes: MiB, receiverIdle });
  size.blocked();
}

test('the window starts small and doubles after two waits in a row that find the receiver starved, up to the most', () => {
  const size = new WindowSize(FIRST_WINDOW_BYTES, WINDOW_BYTES);
  assert.equal(size.current, FIRST_WINDOW_BYTES);
  size.blocked(); // the first wait: no credit yet, nothing to judge
  round(size, 0.9, 0.9);
  assert.equal(size.current, FIRST_WINDOW_BYTES, 'one starved stretch could be the receiver starting up');
  round(size, 0.9, 0.9);
  assert.equal(size.current, 2 * FIRST_WINDOW_BYTES);
  round(size, 0.9);
  round(size, 0.3); // neither starved nor busy: the count starts again
  round(size, 0.9);
  assert.equal(size.current, 2 * FIRST_WINDOW_BYTES);
  for (let i = 0; i < 20; i++) round(size, 1);
  assert.equal(size.current, WINDOW_BYTES);
});

test('a stretch is judged by time, not by its count of credits: one long wait for data outweighs a burst consumed busily', () => {
  // A link whose round trip exceeds the window: each stretch is a gap (one credit mostly idle)
  // and a burst consumed at full speed (three credits barely idle). By count the receiver
  // looks 30% idle; by time it waited 70% of the stretch.
  const size = new WindowSize(FIRST_WINDOW_BYTES, WINDOW_BYTES);
  round(size, 0.9, 0.1, 0.1, 0.1);
  round(size, 0.9, 0.1, 0.1, 0.1);
  assert.equal(size.current, 2 * FIRST_WINDOW_BYTES);
});

test('a busy receiver halves the window back after two busy waits in a row, never below where it started', () => {
  const size = new WindowSize(FIRST_WINDOW_BYTES, WINDOW_BYTES);
  for (let i = 0; i < 20; i++) round(size, 1);
  assert.equal(size.current, WINDOW_BYTES);
  round(size, 0.05);
  assert.equal(size.current, WINDOW_BYTES, 'one busy stretch can be a collection or a file closing');
  round(size, 0.05);
  assert.equal(size.current, WINDOW_BYTES / 2);
  for (let i = 0; i < 20; i++) round(size, 0);
  assert.equal(size.current, FIRST_WINDOW_BYTES);
});

test('the first window holds more than a credit step and a message, so a waiting sender always gets a credit', () => {
  assert.ok(FIRST_WINDOW_BYTES > CREDIT_STEP_BYTES + COMPRESSED_CHUNK_BYTES + DATA_CHUNK_BYTES);
});
