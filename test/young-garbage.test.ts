import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FramedConnection, MOST_UNREAD_BYTES } from '../src/transport/connection.js';
import { FrameType, frameWithRoom } from '../src/transport/framing.js';
import { lendYoungGenerationCollector, YoungGarbagePacer, youngGenerationCollector } from '../src/transport/young-garbage.js';
import { duplexPair } from './helpers/duplex-pair.js';

const MIB = 1024 * 1024;

// Freed Buffers are swept on a helper thread just after a collection; here on this one, during
// it, so the test can read the result at once, before V8 would have collected them by itself.
setFlagsFromString('--no-concurrent-array-buffer-sweeping');

/** Buffers of a socket's message size, dropped at once: the garbage a beam leaves per message. */
function dropMessageSizedBuffers(count: number): void {
  const kept: Buffer[] = [];
  for (let index = 0; index < count; index++) kept.push(Buffer.allocUnsafe(64 * 1024 + 40));
  assert.equal(kept.length, count);
}

function arrayBufferBytes(): number {
  return process.memoryUsage().arrayBuffers;
}

const startedWithGc = process.execArgv.includes('--expose-gc');

test('a process that did not ask lends nothing: its connections leave collecting to V8', () => {
  assert.equal(youngGenerationCollector(), null);
  assert.doesNotThrow(() => new YoungGarbagePacer().sent(100 * MIB));
});

test('the young collection frees dead Buffers that would otherwise wait for V8 to notice them', () => {
  assert.equal(lendYoungGenerationCollector(), true, 'this Node lends its young-generation collector');
  const collect = youngGenerationCollector();
  assert.ok(collect);
  dropMessageSizedBuffers(200); // 12.5 MiB
  const before = arrayBufferBytes();
  assert.ok(before >= 12 * MIB, `the dropped Buffers are still counted before a collection (${before} bytes)`);
  collect();
  const after = arrayBufferBytes();
  assert.ok(after <= before - 10 * MIB, `at least 10 MiB freed (${before} -> ${after} bytes)`);
});

test('taking the collector leaves no gc global behind, here or in contexts made later', { skip: startedWithGc && 'node runs with --expose-gc' }, () => {
  assert.equal(lendYoungGenerationCollector(), true);
  const collect = youngGenerationCollector();
  assert.equal(lendYoungGenerationCollector(), true);
  assert.equal(youngGenerationCollector(), collect, 'taken once, then reused');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  assert.equal(runInNewContext('typeof gc'), 'undefined');
});

test('the pacer collects once per so many bytes, and not before', () => {
  let collections = 0;
  const pacer = new YoungGarbagePacer(() => collections++, 4 * MIB);
  for (let step = 0; step < 3; step++) pacer.sent(MIB);
  assert.equal(collections, 0);
  pacer.sent(MIB);
  assert.equal(collections, 1);
  for (let step = 0; step < 3; step++) pacer.sent(MIB);
  assert.equal(collections, 1, 'counting starts again after a collection');
  pacer.sent(10 * MIB);
  assert.equal(collections, 2);
  assert.doesNotThrow(() => new YoungGarbagePacer(null, 1).sent(100), 'without a collector it only counts');
});

test('a collector that throws is not asked again, and the sending goes on', () => {
  let calls = 0;
  const pacer = new YoungGarbagePacer(() => {
    calls++;
    throw new Error('no collection today');
  }, MIB);
  assert.doesNotThrow(() => {
    for (let step = 0; step < 5; step++) pacer.sent(MIB);
  });
  assert.equal(calls, 1);
});

test('a connection counts the frames it sends toward the next collection, not those it receives', async () => {
  const [a, b] = duplexPair();
  const counted = { sender: 0, receiver: 0 };
  const sender = new FramedConnection(a, 30_000, MOST_UNREAD_BYTES, new YoungGarbagePacer(() => counted.sender++, 100_000));
  const receiver = new FramedConnection(b, 30_000, MOST_UNREAD_BYTES, new YoungGarbagePacer(() => counted.receiver++, 100_000));
  // The way the bulk of a beam goes: sealed straight into a frame of its own.
  for (let index = 0; index < 10; index++) {
    const { frame, body } = frameWithRoom(FrameType.Sealed, 30_000);
    body.fill(index);
    await sender.sendFrame(frame);
  }
  for (let index = 0; index < 10; index++) assert.equal((await receiver.receive(1000)).body[0], index);
  // Frames of 30,006 bytes; the count starts again after each collection, so one comes after
  // the 4th frame and one after the 8th. Receiving leaves its Buffers to V8's own pace.
  assert.deepEqual(counted, { sender: 2, receiver: 0 });
  sender.close();
  receiver.close();
});
