import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdaptiveLevel } from '../src/bundle/adaptive-level.js';
import { BlockCompressor, BlockDecompressor, CorruptBlockError, MAX_LEVEL, MIN_LEVEL } from '../src/bundle/codec.js';
import { zstdFrame } from './helpers/zstd-frames.js';

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

function compressAll(data: Buffer, levels: (block: number) => number): Buffer[] {
  const compressor = new BlockCompressor(levels(0), BLOCK);
  const blocks: Buffer[] = [];
  for (let at = 0, index = 0; at < data.length; at += BLOCK, index++) {
    compressor.setLevel(levels(index));
    blocks.push(compressor.compress(data.subarray(at, at + BLOCK), at + BLOCK >= data.length));
  }
  return blocks;
}

function decompressAll(blocks: readonly Buffer[], size: number): Buffer {
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
  test('climbs while both sides mostly wait (a slow link), and steps down once the sender is busy', () => {
    const level = new AdaptiveLevel(1);
    for (let i = 0; i < 32 * 3; i++) level.record(10, 6, 0.6);
    assert.equal(level.level, 4);
    for (let i = 0; i < 32 * 2; i++) level.record(10, 0.1, 0.6);
    assert.equal(level.level, 2);
  });

  test('does not climb for a busy receiver, and steps down for it', () => {
    const level = new AdaptiveLevel(3);
    for (let i = 0; i < 32 * 2; i++) level.record(10, 8, 0.01);
    assert.equal(level.level, 1);
    for (let i = 0; i < 32 * 2; i++) level.record(10, 8, 0.1);
    assert.equal(level.level, 1);
  });

  test('stays within the codec levels', () => {
    const level = new AdaptiveLevel(MAX_LEVEL);
    for (let i = 0; i < 32 * 20; i++) level.record(10, 9, 0.9);
    assert.equal(level.level, MAX_LEVEL);
    for (let i = 0; i < 32 * 20; i++) level.record(10, 0, 0.9);
    assert.equal(level.level, MIN_LEVEL);
  });

  test('holds its level until the receiver has said how idle it is', () => {
    const level = new AdaptiveLevel(3);
    for (let i = 0; i < 32 * 4; i++) level.record(10, 9, undefined);
    for (let i = 0; i < 32 * 4; i++) level.record(10, 0, undefined);
    assert.equal(level.level, 3);
  });

  test('holds its level between the thresholds', () => {
    const level = new AdaptiveLevel(3);
    for (let i = 0; i < 32 * 5; i++) level.record(10, 1.5, 0.5);
    assert.equal(level.level, 3);
  });
});
