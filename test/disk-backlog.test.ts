import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { BufferPool } from '../src/bundle/buffer-pool.js';
import { DiskBacklog } from '../src/bundle/disk-backlog.js';

/** A disk that finishes each write only when told to. */
function slowDisk(): { out: Writable; finishOne: () => void; received: Buffer[] } {
  const waiting: Array<() => void> = [];
  const received: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      waiting.push(() => {
        received.push(Buffer.from(chunk));
        callback();
      });
    },
  });
  return {
    out,
    received,
    finishOne: () => waiting.shift()?.(),
  };
}

const never = new Promise<never>(() => undefined);
const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

test('the disk backlog lets the receiver go on while it is under its limit, and holds it once over', async () => {
  const { out, finishOne, received } = slowDisk();
  const backlog = new DiskBacklog(2048);
  let writtenCalls = 0;
  assert.equal(await settled(backlog.write(out, [Buffer.alloc(1024, 1), Buffer.alloc(1024, 2)], never, () => writtenCalls++)), true);
  const third = backlog.write(out, [Buffer.alloc(1024, 3)], never);
  assert.equal(await settled(third), false, 'three KiB waiting is over the two KiB limit');
  finishOne();
  assert.equal(await settled(third), true, 'back to two KiB');
  assert.equal(writtenCalls, 0, 'the first batch is not all on the disk yet');
  finishOne();
  await settled(Promise.resolve());
  assert.equal(writtenCalls, 1);
  finishOne();
  assert.deepEqual(
    received.map((chunk) => chunk[0]),
    [1, 2, 3],
  );
});

test('the disk backlog gives up when the file fails, and says so', async () => {
  const { out } = slowDisk();
  const backlog = new DiskBacklog(10);
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => (fail = reject));
  const writing = backlog.write(out, [Buffer.alloc(100)], failed);
  fail(new Error('no space left on device'));
  await assert.rejects(writing, /no space left/);
});

test('the disk backlog calls back at once for nothing to write', async () => {
  const { out } = slowDisk();
  let called = false;
  await new DiskBacklog(10).write(out, [], never, () => (called = true));
  assert.equal(called, true);
});

test('the buffer pool hands back what it was given (whole or a view of it), up to its limit, and only buffers of its size', () => {
  const pool = new BufferPool(16, 1);
  const first = pool.take();
  const second = pool.take();
  assert.notEqual(first.buffer, second.buffer);
  assert.equal(first.buffer.byteLength, 16, 'each buffer has its own ArrayBuffer, which a worker can take over');
  pool.giveBack(first.subarray(0, 3));
  pool.giveBack(second);
  pool.giveBack(Buffer.alloc(8));
  const again = pool.take();
  assert.equal(again.buffer, first.buffer);
  assert.equal(again.length, 16, 'handed out whole, whatever view came back');
  assert.notEqual(pool.take().buffer, second.buffer, 'only one was kept');
});
