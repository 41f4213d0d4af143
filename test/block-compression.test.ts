import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { BLOCKS_AHEAD, BODY_BUFFER_BYTES, BUFFERS_IN_TURN, InlineCompression, ReusedCompressor, type BlockCompression } from '../src/bundle/block-compression.js';
import { BufferPool } from '../src/bundle/buffer-pool.js';
import { BlockDecompressor } from '../src/bundle/codec.js';
import { CompressionThread } from '../src/bundle/compression-thread.js';
import { COMPRESSED_CHUNK_BYTES } from '../src/bundle/limits.js';
import { PlacedCompression, THREAD_FROM_LEVEL } from '../src/bundle/placed-compression.js';
import { BeamError } from '../src/errors.js';

const BLOCK = COMPRESSED_CHUNK_BYTES;

/** History-like text, different in every block, with some repetition for zstd to find. */
function history(blocks: number, seed: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let line = 0; length < blocks * BLOCK; line++) {
    const text = `{"type":"tool.execution_complete","id":${seed * 1_000_000 + line},"output":"line ${line % 97} of ${seed}"}\n`;
    lines.push(text);
    length += text.length;
  }
  return Buffer.from(lines.join('')).subarray(0, blocks * BLOCK - 1000); // the last block is short
}

interface Step {
  readonly file: number;
  readonly level: number;
}

/** Two files, the level changing within each: down to the fastest and back up, across the threshold. */
const STEPS: readonly Step[] = [3, 3, 1, 1, 4, 4, 1, 2].map((level) => ({ file: 0, level })).concat([2, 1, 1, 5].map((level) => ({ file: 1, level })));

/** Compresses both files block by block as a sender does, and returns each file's blocks. */
async function compressFiles(compression: BlockCompression, files: readonly Buffer[]): Promise<Uint8Array[][]> {
  const blocks: Uint8Array[][] = files.map(() => []);
  const offsets = files.map(() => 0);
  const pending: Promise<void>[] = [];
  for (const step of STEPS) {
    const file = files[step.file]!;
    const start = offsets[step.file]!;
    const block = Buffer.from(file.subarray(start, start + BLOCK));
    offsets[step.file] = start + block.length;
    const index = blocks[step.file]!.length;
    blocks[step.file]!.push(new Uint8Array(0));
    const body = compression.compress(block, step.level, start === 0, offsets[step.file] === file.length);
    block.fill(0); // the caller may reuse its buffer as soon as compress() returns
    pending.push(body.then((compressed) => void (blocks[step.file]![index] = Buffer.from(compressed))));
  }
  await Promise.all(pending);
  return blocks;
}

function decodeFile(blocks: readonly Uint8Array[], size: number): Buffer {
  const decompressor = new BlockDecompressor(BLOCK);
  const parts = blocks.map((block, index) => Buffer.from(decompressor.decompress(block, Math.min(BLOCK, size - index * BLOCK))));
  return Buffer.concat(parts);
}

const files = [history(8, 1), history(4, 2)];

test('the compression thread makes the same blocks as the sending thread, in order, across files and levels', async () => {
  const inline = await compressFiles(new InlineCompression(), files);
  const thread = new CompressionThread();
  try {
    assert.deepEqual(await compressFiles(thread, files), inline);
  } finally {
    await thread.close();
  }
  files.forEach((file, index) => assert.ok(decodeFile(inline[index]!, file.length).equals(file)));
});

test('placed compression moves frames between the threads at level changes, and every block still decodes in order', async () => {
  assert.ok(STEPS.some((step) => step.level < THREAD_FROM_LEVEL) && STEPS.some((step) => step.level >= THREAD_FROM_LEVEL));
  const placed = new PlacedCompression();
  try {
    const blocks = await compressFiles(placed, files);
    assert.ok(placed.threadStarted, 'levels from THREAD_FROM_LEVEL up went to the thread');
    // Frames are independent of where they were made: the same bytes as on one thread.
    assert.deepEqual(blocks, await compressFiles(new InlineCompression(), files));
    files.forEach((file, index) => assert.ok(decodeFile(blocks[index]!, file.length).equals(file)));
  } finally {
    await placed.close();
  }
});

test('a failure on the compression thread rejects that block and every later one with a one-line error', async () => {
  const thread = new CompressionThread();
  try {
    const block = files[0]!.subarray(0, BLOCK);
    await assert.rejects(thread.compress(block, Number.NaN, true, false), (error: unknown) => error instanceof BeamError && error.kind === 'internal' && /compression failed/.test(error.message));
    await assert.rejects(thread.compress(block, 1, true, false), /compression failed/);
  } finally {
    await thread.close();
  }
});

test('closing the thread settles every block it holds: compressed, or rejected as stopped, none left hanging', async () => {
  const thread = new CompressionThread();
  const bodies = [0, 1, 2, 3].map((index) => thread.compress(randomBytes(BLOCK), 9, index === 0, false));
  const results = Promise.allSettled(bodies);
  await thread.close();
  const settled = await results;
  assert.ok(settled.every((result) => result.status === 'fulfilled' || (result.reason instanceof BeamError && /stopped/.test(result.reason.message))));
});

test('a frame left half way does not reach into the next: the fresh block decodes on its own', () => {
  const compressor = new ReusedCompressor();
  const [first, second] = [files[0]!.subarray(0, BLOCK), files[0]!.subarray(BLOCK, 2 * BLOCK)];
  compressor.compress(first, 3, true, false);
  const fresh = compressor.compress(second, 3, true, true);
  assert.ok(Buffer.from(new BlockDecompressor(BLOCK).decompress(fresh, BLOCK)).equals(second));
});

test("the sending thread's bodies go round: a released body's buffer serves a later block, one still held is never reused", async () => {
  const compression = new InlineCompression();
  const blocks = [0, 1, 2].map((index) => files[0]!.subarray(index * BLOCK, (index + 1) * BLOCK));
  const sent: Buffer[] = []; // each body as it was when it was sent
  const one = await compression.compress(blocks[0]!, 1, true, false);
  sent.push(Buffer.from(one));
  const two = await compression.compress(blocks[1]!, 1, false, false);
  sent.push(Buffer.from(two));
  assert.notEqual(two.buffer, one.buffer, 'the first body is still held: the second gets a buffer of its own');
  compression.release(two);
  const three = await compression.compress(blocks[2]!, 1, false, true);
  sent.push(Buffer.from(three));
  assert.equal(three.buffer, two.buffer, 'the released buffer serves again');
  assert.ok(Buffer.from(one).equals(sent[0]!), 'a body still held is not overwritten');
  const decompressor = new BlockDecompressor(BLOCK);
  sent.forEach((body, index) => assert.ok(Buffer.from(decompressor.decompress(body, BLOCK)).equals(blocks[index]!)));
  await compression.close();
});

test('placed compression hands each body back to where it was made', async () => {
  const compression = new PlacedCompression();
  try {
    const blocks = [0, 1, 2, 3, 4].map((index) => files[0]!.subarray(index * BLOCK, (index + 1) * BLOCK));
    const inline = await compression.compress(blocks[0]!, 1, true, true);
    compression.release(inline);
    assert.equal((await compression.compress(blocks[1]!, 1, true, true)).buffer, inline.buffer, 'a level-1 body, released, serves again');
    const threaded = await compression.compress(blocks[2]!, THREAD_FROM_LEVEL, true, true);
    compression.release(threaded);
    assert.notEqual((await compression.compress(blocks[3]!, 1, true, true)).buffer, threaded.buffer, "the thread's body is not taken in on the sending thread");
    const next = await compression.compress(blocks[4]!, THREAD_FROM_LEVEL, true, true);
    assert.equal(threaded.buffer.byteLength, 0, "it went back to the thread with the thread's next block");
    assert.ok(Buffer.from(new BlockDecompressor(BLOCK).decompress(next, BLOCK)).equals(blocks[4]!));
  } finally {
    await compression.close();
  }
});

test("the compression thread's bodies go back to it with the next block; a body released twice, or not its own, is left alone", async () => {
  const thread = new CompressionThread();
  try {
    const blocks = [0, 1, 2, 3].map((index) => files[0]!.subarray(index * BLOCK, (index + 1) * BLOCK));
    const first = await thread.compress(blocks[0]!, 3, true, false);
    const kept = Buffer.from(first);
    const stranger = new Uint8Array(first.buffer.byteLength);
    assert.ok(thread.owns(first) && !thread.owns(stranger));
    thread.release(first);
    thread.release(first);
    thread.release(stranger);
    assert.notEqual(first.buffer.byteLength, 0, 'nothing leaves before the next block');
    const second = await thread.compress(blocks[1]!, 3, false, false);
    assert.equal(first.buffer.byteLength, 0, 'the released body went back with the next block');
    assert.equal(stranger.buffer.byteLength, BODY_BUFFER_BYTES, 'a body it did not make stays here');
    thread.release(first); // already gone back: nothing to do
    const keptSecond = Buffer.from(second);
    thread.release(second);
    const third = await thread.compress(blocks[2]!, 3, false, false);
    assert.equal(second.buffer.byteLength, 0);
    const fourth = await thread.compress(blocks[3]!, 3, false, true);
    const decompressor = new BlockDecompressor(BLOCK);
    [kept, keptSecond, third, fourth].forEach((body, index) => assert.ok(Buffer.from(decompressor.decompress(body, BLOCK)).equals(blocks[index]!), `block ${index}`));
  } finally {
    await thread.close();
  }
});

test('the compression thread fills the bodies it gets back: as many buffers as go round, however many blocks', async () => {
  const blocks = history(24, 3);
  /** Compresses every block with BLOCKS_AHEAD in flight, as sendFiles does, releasing each body once used, or not. */
  const run = async (release: boolean): Promise<{ made: number; sizes: Set<number> }> => {
    const thread = new CompressionThread();
    try {
      const sizes = new Set<number>();
      const ahead: Promise<Uint8Array>[] = [];
      const use = async (body: Promise<Uint8Array>): Promise<void> => {
        const compressed = await body;
        sizes.add(compressed.buffer.byteLength);
        if (release) thread.release(compressed);
      };
      for (let start = 0; start < blocks.length; start += BLOCK) {
        const block = blocks.subarray(start, start + BLOCK);
        ahead.push(thread.compress(block, 3, start === 0, start + BLOCK >= blocks.length));
        if (ahead.length > BLOCKS_AHEAD) await use(ahead.shift()!);
      }
      while (ahead.length > 0) await use(ahead.shift()!);
      return { made: thread.bodyBuffersMade, sizes };
    } finally {
      await thread.close();
    }
  };
  const released = await run(true);
  assert.ok(released.made <= BUFFERS_IN_TURN, `${released.made} body buffers for 24 blocks`);
  assert.deepEqual([...released.sizes], [BODY_BUFFER_BYTES], 'every body in a pooled buffer');
  assert.equal((await run(false)).made, 24, 'bodies never released: one buffer each');
});

test('a buffer given back twice goes to one taker only', () => {
  const pool = new BufferPool(64, 4);
  const taken = pool.take();
  pool.giveBack(taken);
  pool.giveBack(taken);
  assert.equal(pool.take().buffer, taken.buffer);
  assert.notEqual(pool.take().buffer, taken.buffer);
});
