import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdaptiveLevel, firstLevel } from '../src/bundle/adaptive-level.js';
import { loopIdleMeter } from '../src/bundle/loop-idle.js';
import { BlockCompressor, BlockDecompressor, CorruptBlockError, MAX_LEVEL, MIN_LEVEL } from '../src/bundle/codec.js';
import { zstdFrame } from './helpers/zstd-frames.js';
import { CompressibilityProbe, SAMPLE_BYTES } from '../src/bundle/compressibility.js';
import { randomBytes, randomFillSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const BLOCK = 256 * 1024;

/** Text with some repetition and some variety, like a session's history (mulberry32 for the choices). */
function sampleText(bytes: number, seed = 1): Buffer {
  const words = ['const', 'value', 'return', 'events', 'tool.execution_complete', '"type":', 'parentId', '\n', '{', '}'];
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    const random = next();
    const part = `${words[random % words.length]}${(random >>> 8).toString(36).slice(0, random % 4)} `;
    parts.push(part);
    length += part.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

function compressAll(data: Buffer, levels: (block: number) => number): Uint8Array[] {
  const compressor = new BlockCompressor(levels(0), BLOCK);
  const blocks: Uint8Array[] = [];
  for (let at = 0, index = 0; at < data.length; at += BLOCK, index++) {
    compressor.setLevel(levels(index));
    blocks.push(compressor.compress(data.subarray(at, at + BLOCK), at + BLOCK >= data.length));
  }
  return blocks;
}

function decompressAll(blocks: readonly Uint8Array[], size: number): Buffer {
  const decompressor = new BlockDecompressor(BLOCK);
  const parts: Buffer[] = [];
  let remaining = size;
  for (const block of blocks) {
    const plain = decompressor.decompress(block, Math.min(remaining, BLOCK));
    parts.push(plain);
    remaining -= plain.length;
  }
  return Buffer.concat(parts);
}

describe('the block codec', () => {
  test('every block decodes on its own into exactly its part of the file, across level changes', () => {
    const data = sampleText(3 * BLOCK + 1234);
    const blocks = compressAll(data, (index) => [1, 1, 5, 2][index] ?? 2);
    const decompressor = new BlockDecompressor(BLOCK);
    for (const [index, block] of blocks.entries()) {
      const expected = data.subarray(index * BLOCK, (index + 1) * BLOCK);
      assert.deepEqual(decompressor.decompress(block, expected.length), expected);
    }
  });

  test('a higher level takes effect (a new frame) and compresses better', () => {
    const data = sampleText(16 * BLOCK, 7);
    const low = compressAll(data, () => MIN_LEVEL).reduce((sum, block) => sum + block.length, 0);
    const high = compressAll(data, () => MAX_LEVEL).reduce((sum, block) => sum + block.length, 0);
    const switched = compressAll(data, (index) => (index < 8 ? MIN_LEVEL : MAX_LEVEL));
    assert.ok(high < low, `level ${MAX_LEVEL} gave ${high} bytes, level ${MIN_LEVEL} ${low}`);
    const switchedBytes = switched.reduce((sum, block) => sum + block.length, 0);
    assert.ok(switchedBytes < low, `switching levels half way gave ${switchedBytes} bytes, level ${MIN_LEVEL} alone ${low}`);
    assert.deepEqual(decompressAll(switched, data.length), data);
  });

  test('a block is copied out of the compressor by the copier it is given, and still decodes', () => {
    const data = sampleText(BLOCK);
    const compressor = new BlockCompressor(1, BLOCK);
    const homes: Uint8Array[] = [];
    const body = compressor.compress(data, true, (bytes) => {
      const home = new Uint8Array(bytes.length + 10).subarray(5, 5 + bytes.length);
      home.set(bytes);
      homes.push(home);
      return home;
    });
    assert.deepEqual(homes, [body]);
    assert.ok(Buffer.from(new BlockDecompressor(BLOCK).decompress(body, BLOCK)).equals(data));
  });

  test('a block that decodes into more than the receiver allows is refused at the limit', () => {
    const [block] = compressAll(Buffer.alloc(BLOCK, 0x61), () => 3);
    const decompressor = new BlockDecompressor(BLOCK);
    assert.throws(() => decompressor.decompress(block!, 1000), CorruptBlockError);
  });

  test('bytes that are not zstd, or a block cut short, are refused', () => {
    const decompressor = new BlockDecompressor(BLOCK);
    assert.throws(() => decompressor.decompress(Buffer.from('not zstd at all, just text'), BLOCK), CorruptBlockError);
    const [block] = compressAll(sampleText(BLOCK), () => 1);
    assert.throws(() => new BlockDecompressor(BLOCK).decompress(block!.subarray(0, block!.length - 10), BLOCK), CorruptBlockError);
  });

  test('a block that decodes into less than its share of the file is refused (tiny blocks would each pin a buffer)', () => {
    const compressor = new BlockCompressor(1, BLOCK);
    const tiny = compressor.compress(Buffer.from('a'), false);
    assert.throws(() => new BlockDecompressor(BLOCK).decompress(tiny, BLOCK), /decodes into 1 bytes, not the 262144 it must/);
  });

  test('a frame that asks for a window beyond 4 MiB is refused', () => {
    const frame = zstdFrame(Buffer.from('hello'), 3, 27);
    assert.ok(frame.length > 0);
    assert.throws(() => new BlockDecompressor(BLOCK).decompress(frame, 5), CorruptBlockError);
  });
});

describe('the adaptive level', () => {
  /** A sender whose event loop is as idle as the test says, asked once per decision. */
  const senderIdle = (): { meter: () => number; set: (share: number) => void; asked: () => number } => {
    let share = 0;
    let asked = 0;
    return {
      meter: () => {
        asked++;
        return share;
      },
      set: (next) => (share = next),
      asked: () => asked,
    };
  };
  const blocks = (level: AdaptiveLevel, decisions: number, receiverIdle: number | undefined): void => {
    for (let i = 0; i < 32 * decisions; i++) level.record(BLOCK, receiverIdle);
  };
  /** Three rounds of one decision with the receiver this idle, then one with it that idle. */
  const alternating = (level: AdaptiveLevel, first: number, then: number): void => {
    for (let round = 0; round < 3; round++) {
      blocks(level, 1, first);
      blocks(level, 1, then);
    }
  };

  test('climbs while both sides are mostly idle (a slow link), and steps down once the sender is busy', () => {
    const sender = senderIdle();
    const level = new AdaptiveLevel(1, sender.meter);
    sender.set(0.6);
    blocks(level, 4, 0.6);
    assert.equal(level.level, 4, 'two judgements to leave level 1, then one per step');
    assert.equal(sender.asked(), 4, 'the sender is measured once per decision, every 32 blocks');
    sender.set(0.01);
    blocks(level, 4, 0.6);
    assert.equal(level.level, 2, 'one step down per two busy judgements');
  });

  test('one idle judgement between busy ones does not lift the level from 1 (which starts the compression thread)', () => {
    const sender = senderIdle();
    const level = new AdaptiveLevel(1, sender.meter);
    sender.set(0.6);
    alternating(level, 0.6, 0.2);
    assert.equal(level.level, 1);
    blocks(level, 2, 0.6);
    assert.equal(level.level, 2);
  });

  test('one busy judgement between idle ones does not step down', () => {
    const sender = senderIdle();
    const level = new AdaptiveLevel(5, sender.meter);
    sender.set(0.2);
    alternating(level, 0.05, 0.2);
    assert.equal(level.level, 5);
    blocks(level, 2, 0.05);
    assert.equal(level.level, 4);
  });

  test('does not climb for a busy receiver, and steps down for it', () => {
    const sender = senderIdle();
    const level = new AdaptiveLevel(3, sender.meter);
    sender.set(0.8);
    blocks(level, 4, 0.01);
    assert.equal(level.level, 1);
    blocks(level, 2, 0.1);
    assert.equal(level.level, 1);
  });

  test('stays within the codec levels', () => {
    const sender = senderIdle();
    const level = new AdaptiveLevel(MAX_LEVEL, sender.meter);
    sender.set(0.9);
    blocks(level, 20, 0.9);
    assert.equal(level.level, MAX_LEVEL);
    sender.set(0);
    blocks(level, 20, 0.9);
    assert.equal(level.level, MIN_LEVEL);
  });

  test('does not climb before the receiver has said how idle it is, but steps down for a busy sender', () => {
    const sender = senderIdle();
    const level = new AdaptiveLevel(3, sender.meter);
    sender.set(0.9);
    blocks(level, 4, undefined);
    assert.equal(level.level, 3);
    sender.set(0.05);
    blocks(level, 2, undefined);
    assert.equal(level.level, 2);
  });

  test('decides every 8 MiB of files, however small the blocks', () => {
    const sender = senderIdle();
    const level = new AdaptiveLevel(3, sender.meter);
    sender.set(0.9);
    for (let i = 0; i < 8 * 1024 - 1; i++) level.record(1024, 0.9);
    assert.equal(level.level, 3, 'a file of 1 KiB blocks has not reached 8 MiB');
    level.record(1024, 0.9);
    assert.equal(level.level, 4);
    assert.equal(sender.asked(), 1);
  });

  test('starts at 1, or at 7 for a beam too short to adapt', () => {
    assert.equal(firstLevel(8 * 1024 * 1024), 7);
    assert.equal(firstLevel(8 * 1024 * 1024 + 1), 1);
  });

  test('holds its level between the thresholds', () => {
    const sender = senderIdle();
    const level = new AdaptiveLevel(3, sender.meter);
    sender.set(0.2);
    blocks(level, 5, 0.5);
    assert.equal(level.level, 3);
  });
});

test('the loop idle meter sees a busy loop as busy and a waiting one as idle', async () => {
  // Measured on a thread of its own: in the test runner's loop, work left by earlier tests (V8's
  // garbage collection tasks, late callbacks) ran during the wait and made it look busy on CI.
  const { spinning, waiting } = await measureInFreshThread();
  assert.ok(spinning < 0.3, `a loop spinning in our code is not idle (idle share ${spinning})`);
  assert.ok(waiting > 0.7, `a loop waiting for a timer is idle (idle share ${waiting})`);
});

/** Runs the meter in a new worker thread: 100 ms spinning, then 200 ms waiting for a timer. */
async function measureInFreshThread(): Promise<{ spinning: number; waiting: number }> {
  const meterModule = new URL('../src/bundle/loop-idle.js', import.meta.url).href;
  const probe = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(meterModule)}).then(async ({ loopIdleMeter }) => {
      const idle = loopIdleMeter();
      const until = performance.now() + 100;
      while (performance.now() < until) Math.sqrt(until);
      const spinning = idle();
      await new Promise((resolve) => setTimeout(resolve, 200));
      parentPort.postMessage({ spinning, waiting: idle() });
    });`;
  const worker = new Worker(probe, { eval: true });
  try {
    const [result] = (await once(worker, 'message')) as [{ spinning: number; waiting: number }];
    return result;
  } finally {
    await worker.terminate();
  }
}

describe('which binary files travel compressed', () => {
  test('a file whose start shrinks does (a SQLite database: mostly empty pages), a random or empty one does not', async () => {
    const probe = new CompressibilityProbe();
    const dir = await mkdtemp(join(tmpdir(), 'copilot-beam-probe-'));
    try {
      const database = Buffer.alloc(20 * 1024);
      database.write('SQLite format 3\0', 0, 'latin1');
      randomFillSync(database, 100, 400); // a page header and a few rows
      const random = randomBytes(200 * 1024);
      // Judged by its start: random bytes after 64 KiB of zeros still count as compressible.
      const randomTail = Buffer.concat([Buffer.alloc(SAMPLE_BYTES), randomBytes(SAMPLE_BYTES)]);
      await writeFile(join(dir, 'session.db'), database);
      await writeFile(join(dir, 'backup'), random);
      await writeFile(join(dir, 'tail'), randomTail);
      await writeFile(join(dir, 'empty'), '');
      assert.equal(await probe.fileCompresses(join(dir, 'session.db')), true);
      assert.equal(await probe.fileCompresses(join(dir, 'backup')), false);
      assert.equal(await probe.fileCompresses(join(dir, 'tail')), true);
      assert.equal(await probe.fileCompresses(join(dir, 'empty')), false);
      // Each sample is a frame of its own: what came before does not help the next.
      assert.equal(probe.compresses(random.subarray(0, SAMPLE_BYTES)), false);
      await assert.rejects(probe.fileCompresses(join(dir, 'gone')), { code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
