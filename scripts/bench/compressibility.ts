import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import { BlockCompressor, MAX_LEVEL, MIN_LEVEL } from '../../src/bundle/codec.js';
import { COMPRESSED_CHUNK_BYTES } from '../../src/bundle/limits.js';

const deflateRawAsync = promisify(deflateRaw);

/** Issue 16 defines the kinds by raw deflate of 256 KiB blocks; copilot-beam's blocks are that size too. */
const BLOCK_BYTES = 256 * 1024;
/** Enough of each file to know its ratio; a 1 GiB history is the same text all the way. */
const SAMPLE_BYTES = 16 * 1024 * 1024;
/** Files sampled per folder: the rest of a folder of 8 MiB rewind backups are like the first ones. */
const FILES_PER_FOLDER = 4;

export interface Compressibility {
  /** events.jsonl, raw deflate level 1 on 256 KiB blocks: the measure issue 16 gives the kinds in. */
  readonly eventsDeflate1: number;
  /** The whole session at deflate level 6, zlib's default and what magic-wormhole's zip uses (one stream per file). */
  readonly sessionDeflate6: number;
  /** The whole session as copilot-beam's codec packs it (zstd, flushed blocks) at its lowest and highest level. */
  readonly sessionZstdLowest: number;
  readonly sessionZstdHighest: number;
}

/** Packs one file's blocks in order; returns the packed size of each. */
type Packer = () => { pack(block: Buffer, last: boolean): Promise<number> };

const deflateBlocks =
  (level: number): Packer =>
  () => ({ pack: async (block) => (await deflateRawAsync(block, { level })).length });

/** A zip member is one deflate stream: blocks share the 32 KiB window, as one stream's would. */
const deflateStream =
  (level: number): Packer =>
  () => {
    const parts: Buffer[] = [];
    return {
      pack: async (block, last) => {
        parts.push(Buffer.from(block));
        return last ? (await deflateRawAsync(Buffer.concat(parts), { level })).length : 0;
      },
    };
  };

const zstdBlocks =
  (level: number): Packer =>
  () => {
    const compressor = new BlockCompressor(level, COMPRESSED_CHUNK_BYTES);
    return { pack: async (block, last) => compressor.compress(block, last).length };
  };

/** Ratio of a file's first SAMPLE_BYTES, block by block. */
async function fileRatio(path: string, packer: Packer): Promise<number> {
  const handle = await open(path);
  try {
    const { size } = await handle.stat();
    const sample = Math.min(size, SAMPLE_BYTES);
    const packing = packer();
    let plain = 0;
    let packed = 0;
    while (plain < sample) {
      const buffer = Buffer.alloc(Math.min(BLOCK_BYTES, sample - plain));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, plain);
      if (bytesRead === 0) break;
      plain += bytesRead;
      packed += await packing.pack(buffer.subarray(0, bytesRead), plain >= sample);
    }
    return plain === 0 ? 1 : plain / packed;
  } finally {
    await handle.close();
  }
}

/** Each file's ratio from its sample (or its folder's last sampled file's), weighted by its full size. */
async function sessionRatio(dir: string, files: readonly { path: string; size: number }[], packer: Packer): Promise<number> {
  let plain = 0;
  let packed = 0;
  const sampled = new Map<string, { count: number; ratio: number }>();
  for (const file of files) {
    const folder = dirname(file.path);
    const seen = sampled.get(folder);
    const ratio = seen && seen.count >= FILES_PER_FOLDER ? seen.ratio : await fileRatio(join(dir, file.path), packer);
    sampled.set(folder, { count: (seen?.count ?? 0) + 1, ratio });
    plain += file.size;
    packed += file.size / ratio;
  }
  return plain / packed;
}

/**
 * How well a generated session compresses, so the report says what each kind is and what each
 * tool could make of it. Samples (the first 16 MiB of each file) keep this to seconds even for
 * 1 GiB sessions.
 */
export async function measureCompressibility(dir: string, files: readonly { path: string; size: number }[]): Promise<Compressibility> {
  return {
    eventsDeflate1: await fileRatio(join(dir, 'events.jsonl'), deflateBlocks(1)),
    sessionDeflate6: await sessionRatio(dir, files, deflateStream(6)),
    sessionZstdLowest: await sessionRatio(dir, files, zstdBlocks(MIN_LEVEL)),
    sessionZstdHighest: await sessionRatio(dir, files, zstdBlocks(MAX_LEVEL)),
  };
}
