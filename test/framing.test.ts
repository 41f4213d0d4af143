import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { COMPRESSED_CHUNK_BYTES, DEFAULT_LIMITS, WINDOW_BYTES } from '../src/bundle/index.js';
import { FRAME_COST_BYTES, FramedConnection, MOST_UNREAD_BYTES, UNPAIRED_UNREAD_BYTES } from '../src/transport/connection.js';
import { encodeFrame, FrameDecoder, FrameType } from '../src/transport/framing.js';
import { duplexPair } from './helpers/duplex-pair.js';

test('frames survive being cut at every byte boundary', () => {
  const frames = [
    encodeFrame(FrameType.PakeShare, new Uint8Array(32).fill(7)),
    encodeFrame(FrameType.Sealed, new Uint8Array(0)),
    encodeFrame(FrameType.Confirm, Uint8Array.from([1, 2, 3])),
  ];
  const wire = Buffer.concat(frames);
  for (let cut = 0; cut <= wire.length; cut++) {
    const decoder = new FrameDecoder();
    const got = [...decoder.push(wire.subarray(0, cut)), ...decoder.push(wire.subarray(cut))];
    assert.deepEqual(
      got.map((frame) => [frame.type, [...frame.body]]),
      [
        [FrameType.PakeShare, [...new Uint8Array(32).fill(7)]],
        [FrameType.Sealed, []],
        [FrameType.Confirm, [1, 2, 3]],
      ],
    );
    assert.equal(decoder.bufferedBytes, 0);
  }
});

test('byte-at-a-time delivery works', () => {
  const wire = encodeFrame(FrameType.Sealed, Uint8Array.from([9, 8, 7, 6]));
  const decoder = new FrameDecoder();
  const got = [];
  for (const byte of wire) got.push(...decoder.push(Uint8Array.of(byte)));
  assert.equal(got.length, 1);
  assert.deepEqual([...got[0]!.body], [9, 8, 7, 6]);
});

test('an oversized length is refused before its bytes arrive', () => {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, 0xffffffff);
  assert.throws(() => new FrameDecoder().push(header), /outside the allowed size/);
  const tiny = Uint8Array.from([0, 0, 0, 1, 1]);
  assert.throws(() => new FrameDecoder().push(tiny), /outside the allowed size/);
});

test('another protocol version is named, unknown frame types refused', () => {
  const frame = encodeFrame(FrameType.Sealed, new Uint8Array(1));
  frame[4] = 2;
  assert.throws(() => new FrameDecoder().push(frame), /speaks copilot-beam protocol 2, this one speaks 1/);
  const unknown = encodeFrame(FrameType.Sealed, new Uint8Array(1));
  unknown[5] = 0x55;
  assert.throws(() => new FrameDecoder().push(unknown), /unknown frame type/);
});

test('a peer that sends more than the connection may hold unread is cut off with a protocol error, its flood dropped', async () => {
  const [a, b] = duplexPair();
  const sender = new FramedConnection(a);
  const receiver = new FramedConnection(b);
  const frame = new Uint8Array(1024 * 1024);
  // Within the bound (30 MiB and the frames' cost), every frame waits to be read.
  for (let i = 0; i < 30; i++) await sender.send(FrameType.Sealed, frame);
  await delay(10);
  assert.equal((await receiver.receive(1000)).body.length, frame.length, 'frames within the bound are delivered');
  // Beyond it, the peer is taken to ignore flow control.
  for (let i = 0; i < 4; i++) await sender.send(FrameType.Sealed, frame);
  await delay(10);
  await assert.rejects(receiver.receive(1000), /sent more than 32 MiB before it was read \(it ignores flow control\)/);
  assert.equal(receiver.hasQueued, false, 'the queued flood was dropped');
  sender.close();
});

test('before pairing little may wait unread, empty frames count too, and frames after the cut in the same chunk are dropped', async () => {
  const [a, b] = duplexPair();
  const receiver = new FramedConnection(b, 30_000, UNPAIRED_UNREAD_BYTES);
  const empty = encodeFrame(FrameType.Sealed, new Uint8Array(0));
  const flood = Buffer.concat(Array.from({ length: UNPAIRED_UNREAD_BYTES / FRAME_COST_BYTES + 100 }, () => empty));
  a.write(flood); // one chunk: the cut comes in its middle
  await delay(10);
  assert.equal(receiver.hasQueued, false, 'nothing after the cut was queued');
  await assert.rejects(receiver.receive(1000), /sent more than 1 MiB before it was read \(it ignores flow control\)/);
  a.destroy();
});

test('once paired, a peer may leave as much unread as a paired peer may', async () => {
  const [a, b] = duplexPair();
  const sender = new FramedConnection(a);
  const receiver = new FramedConnection(b, 30_000, UNPAIRED_UNREAD_BYTES);
  receiver.allowPairedUnread();
  const frame = new Uint8Array(1024 * 1024);
  for (let i = 0; i < 4; i++) await sender.send(FrameType.Sealed, frame);
  await delay(10);
  for (let i = 0; i < 4; i++) assert.equal((await receiver.receive(1000)).body.length, frame.length);
  sender.close();
  receiver.close();
});

test('a sender keeping to its largest window, in as many messages as the default limits allow, stays within the bound', () => {
  const messages = DEFAULT_LIMITS.maxFiles + DEFAULT_LIMITS.maxTotalBytes / COMPRESSED_CHUNK_BYTES;
  const sealing = 64; // a message's kind, tag and frame header, generously
  assert.ok(WINDOW_BYTES + messages * (FRAME_COST_BYTES + sealing) < MOST_UNREAD_BYTES);
});
