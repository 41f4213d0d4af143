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

/** A window on a clock the test moves: each credit arrives `afterMs` after the one before. */
function windowOnClock(): { size: WindowSize; credit: (afterMs: number, receiverIdle: number) => void } {
  let nowMs = 0;
  const size = new WindowSize(FIRST_WINDOW_BYTES, WINDOW_BYTES, () => nowMs);
  return {
    size,
    credit: (afterMs, receiverIdle) => {
      nowMs += afterMs;
      size.credited({ bytes: MiB, receiverIdle });
    },
  };
}

/**
 * One round trip of a link whose round trip exceeds the window, judged as the sender does once
 * its window is full: a wait after every credit. The first credit of a round spans the wait for
 * the burst (mostly idle), the rest the burst consumed (busy).
 */
function longRound(w: ReturnType<typeof windowOnClock>): void {
  const credits = w.size.current / MiB; // the window's worth: a round trip delivers no more
  w.credit(90, 0.9);
  w.size.blocked();
  for (let i = 1; i < credits; i++) {
    w.credit(3, 0.05);
    w.size.blocked();
  }
}

test('on a link whose round trip exceeds the window, the window grows, though the sender waits after every credit', () => {
  const w = windowOnClock();
  w.credit(500, 1); // the first credit only starts the clock: its span held the receiver's start
  w.size.blocked();
  assert.equal(w.size.current, FIRST_WINDOW_BYTES);
  longRound(w);
  assert.equal(w.size.current, FIRST_WINDOW_BYTES, 'one idle stretch is not enough');
  longRound(w);
  assert.equal(w.size.current, 2 * FIRST_WINDOW_BYTES);
  for (let i = 0; i < 40; i++) longRound(w);
  assert.equal(w.size.current, WINDOW_BYTES, 'and up to the most, never beyond');
});

test('a receiver that stalls on its disk and then drains is busy by time, though its fast credit says idle', () => {
  const w = windowOnClock();
  w.credit(1, 0);
  for (let i = 0; i < 20; i++) {
    w.credit(500, 0.02); // waited for the disk: busy, and long
    w.size.blocked();
    w.credit(5, 0.67); // drained what had queued: idle a while, and short
    w.size.blocked();
  }
  assert.equal(w.size.current, FIRST_WINDOW_BYTES);
});

test('a busy receiver halves the window back after two busy judgements in a row, never below where it started', () => {
  const w = windowOnClock();
  w.credit(1, 0);
  for (let i = 0; i < 40; i++) longRound(w);
  assert.equal(w.size.current, WINDOW_BYTES);
  const busyWindow = (): void => {
    for (let i = 0; i < w.size.current / MiB; i++) {
      w.credit(5, 0.05);
      w.size.blocked();
    }
  };
  busyWindow();
  assert.equal(w.size.current, WINDOW_BYTES, 'one busy stretch can be a collection or a file closing');
  busyWindow();
  assert.equal(w.size.current, WINDOW_BYTES / 2);
  for (let i = 0; i < 20; i++) busyWindow();
  assert.equal(w.size.current, FIRST_WINDOW_BYTES);
});

test('only the latest window of credits is judged: a long idle stretch the sender never waited in is forgotten', () => {
  const w = windowOnClock();
  w.credit(1, 0);
  for (let i = 0; i < 100; i++) w.credit(50, 0.95); // the sender was the limit: it never waited
  for (let i = 0; i < 4; i++) w.credit(5, 0.05);
  w.size.blocked();
  for (let i = 0; i < 100; i++) w.credit(50, 0.95);
  for (let i = 0; i < 4; i++) w.credit(5, 0.05);
  w.size.blocked();
  assert.equal(w.size.current, FIRST_WINDOW_BYTES, 'two busy judgements; a mean over all of it would have grown the window');
});

test('the first window holds more than a credit step and a message, so a waiting sender always gets a credit', () => {
  assert.ok(FIRST_WINDOW_BYTES > CREDIT_STEP_BYTES + COMPRESSED_CHUNK_BYTES + DATA_CHUNK_BYTES);
});
