import { createRequire } from 'node:module';
import type * as ZstdBinding from 'zstd-napi/binding.js';

/**
 * Zstandard for the compressible files of a bundle (text, and binaries whose start shrinks).
 * Measured on session history and on source code (docs/BENCHMARKS.md, issue 16): at level 1 it
 * compresses JSON history 2-3 times faster than raw deflate level 1 and still smaller than
 * magic-wormhole's deflate level 6, and it decompresses several times faster. zstd-napi is the
 * binding (Node 20 has no zstd of its own): its install step fetches a prebuilt binary, or,
 * offline, builds the zstd sources it ships (that needs a C++ toolchain and Python, as node-gyp
 * does).
 *
 * Each file is one or more zstd frames; each DATA message carries what one flush of the next
 * ≤ COMPRESSED_CHUNK_BYTES of the file produced, so every message decodes on its own into
 * exactly that block (the receiver bounds each one) while the window spans the whole file.
 */
const zstd = loadZstd();

/** The binding exists only once zstd-napi's install step ran: say so rather than fail obscurely. */
function loadZstd(): typeof ZstdBinding {
  try {
    return createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding;
  } catch (error) {
    throw new Error(
      `copilot-beam cannot load zstd (the zstd-napi package's native part is missing: was it installed with scripts disabled, or without a C++ toolchain?): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** 4 MiB: most of the ratio on long histories, and a bound on the receiver's memory per file. */
export const WINDOW_LOG = 22;

/**
 * copilot-beam's levels: zstd settings, each slower than the one before, chosen by measurement.
 * zstd's own levels were no ladder on session history: on source-like history its level 5 was
 * both slower and larger than its 4, and its 6 slower than its 3 with a larger hash table, for
 * the same ratio. Measured alone on 48 MiB of each kind of history (docs/BENCHMARKS.md, step 29),
 * as ratio at speed. On source-like history the ratio rises with every level; on highly
 * compressible history levels 4-6 compress a little less than 2 and 3 (zstd's level 3 finds
 * fewer of its repeats than level 1 with a larger table), and only 7-9 gain. The receiver's work
 * and memory are the same at every level: the window stays WINDOW_LOG.
 */
const LADDER: readonly { readonly zstdLevel: number; readonly hashLog?: number }[] = [
  { zstdLevel: 1 }, //              source 2.81:1 at 330 MiB/s, compressible 13.8:1 at 955 MiB/s
  { zstdLevel: 1, hashLog: 16 }, // 3.08:1 at 277, 14.5:1 at 879
  { zstdLevel: 1, hashLog: 17 }, // 3.22:1 at 242, 14.5:1 at 820
  { zstdLevel: 3 }, //              3.35:1 at 197, 13.7:1 at 642
  { zstdLevel: 3, hashLog: 19 }, // 3.51:1 at 154, 14.0:1 at 616
  { zstdLevel: 3, hashLog: 20 }, // 3.55:1 at 141, 14.1:1 at 549
  { zstdLevel: 7 }, //              3.64:1 at 58, 14.7:1 at 163
  { zstdLevel: 8 }, //              3.77:1 at 47, 15.1:1 at 123
  { zstdLevel: 9 }, //              3.83:1 at 42, 15.1:1 at 104
];
export const MIN_LEVEL = 1;
export const MAX_LEVEL = LADDER.length;
/** The ladder's level with zstd's level 3 settings (what `zstd` uses when given no level), in the beam's window. */
export const ZSTD_DEFAULT_RUNG = rungOf(3);

function rungOf(zstdLevel: number): number {
  const index = LADDER.findIndex((rung) => rung.zstdLevel === zstdLevel && rung.hashLog === undefined);
  if (index < 0) throw new Error(`the compression ladder has no rung with zstd's level ${zstdLevel} as it is`);
  return MIN_LEVEL + index;
}

export class CorruptBlockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptBlockError';
  }
}

/** Copies compressed bytes out of a compressor's buffer (reused by its next block) into a home of their own. */
export type CopyOut = (bytes: Uint8Array) => Uint8Array;

const newBufferOf: CopyOut = (bytes) => Buffer.from(bytes);

/** The most a block of this many bytes can take compressed: room enough for any one flush of it. */
export function compressedBound(blockBytes: number): number {
  return zstd.compressBound(blockBytes);
}

/** Compresses files block by block, a frame at a time; one context may serve many files. */
export class BlockCompressor {
  private readonly context = new zstd.CCtx();
  private output: Buffer;
  private appliedLevel: number;
  private wantedLevel: number;
  private inFrame = false;

  constructor(level: number, blockBytes: number) {
    this.appliedLevel = this.wantedLevel = clampLevel(level);
    this.applyLevel(this.appliedLevel);
    this.context.setParameter(zstd.CParameter.windowLog, WINDOW_LOG);
    this.output = Buffer.allocUnsafe(compressedBound(blockBytes));
  }

  get level(): number {
    return this.wantedLevel;
  }

  /**
   * A new level applies from the next block. zstd applies a level only at a frame's start, so
   * the current frame is ended with the next block and a new one begins at the new level.
   */
  setLevel(level: number): void {
    this.wantedLevel = clampLevel(level);
  }

  /** Drops a frame left unfinished (a file that stopped half way): the next block begins a new one. */
  abandonFrame(): void {
    if (!this.inFrame) return;
    this.context.reset(zstd.ResetDirective.sessionOnly);
    this.inFrame = false;
  }

  /**
   * The compressed form of `block`, flushed so that it decodes completely, always as `copy`
   * returned it: copied out of the context's own buffer in one piece (with room for
   * compressedBound, zstd flushes every block in one call; should it ever need more, the parts
   * are joined first). By default `copy` makes a new Buffer, which for a small block may be a
   * slice of Node's shared pool: pass one that owns its memory to transfer it to a thread.
   */
  compress(block: Uint8Array, lastOfFile: boolean, copy: CopyOut = newBufferOf): Uint8Array {
    if (!this.inFrame && this.wantedLevel !== this.appliedLevel) {
      this.applyLevel(this.wantedLevel);
      this.appliedLevel = this.wantedLevel;
    }
    const endFrame = lastOfFile || this.wantedLevel !== this.appliedLevel;
    const directive = endFrame ? zstd.EndDirective.end : zstd.EndDirective.flush;
    const body = this.flush(block, directive, copy);
    this.inFrame = !endFrame;
    return body;
  }

  private flush(block: Uint8Array, directive: ZstdBinding.EndDirective, copy: CopyOut): Uint8Array {
    const parts: Buffer[] = [];
    let consumed = 0;
    for (;;) {
      const [remaining, written, read] = this.context.compressStream2(this.output, block.subarray(consumed), directive);
      consumed += read;
      const done = remaining === 0 && consumed === block.length;
      if (done && parts.length === 0) return copy(this.output.subarray(0, written));
      parts.push(Buffer.from(this.output.subarray(0, written)));
      if (done) return copy(Buffer.concat(parts));
    }
  }

  private applyLevel(level: number): void {
    const rung = LADDER[level - MIN_LEVEL]!;
    this.context.setParameter(zstd.CParameter.compressionLevel, rung.zstdLevel);
    // A hash size set once stays until it is set again: 0 gives the level back its own.
    this.context.setParameter(zstd.CParameter.hashLog, rung.hashLog ?? 0);
  }
}

/** Decompresses one file's blocks, each into exactly its share of the file. */
export class BlockDecompressor {
  private readonly context = new zstd.DCtx();

  constructor(private readonly blockBytes: number) {
    // A sender cannot make us hold more than this window for back-references.
    this.context.setParameter(zstd.DParameter.windowLogMax, WINDOW_LOG);
  }

  /**
   * The bytes one DATA message decodes into: exactly `size` (at most the block size: the next
   * block of the file, or what is left of it), or a CorruptBlockError. A block that would decode
   * into more stops at size + 1 bytes, so no message makes the receiver produce more than one
   * block; one that decodes into less is refused too, so every message holds a whole block and
   * no tiny message can pin a block-sized buffer.
   */
  decompress(block: Uint8Array, size: number, into?: Buffer): Buffer {
    if (size > this.blockBytes) throw new RangeError('size beyond the block size');
    // Decoded straight into the buffer handed out (the caller keeps it until it is written, and
    // may hand it back for a later block), with one byte beyond the size, to notice a block that
    // decodes into more.
    const output = into ? into.subarray(0, size + 1) : Buffer.allocUnsafe(size + 1);
    if (output.length < size + 1) throw new RangeError('the output buffer must hold one byte beyond the size');
    let produced = 0;
    let consumed = 0;
    try {
      while (consumed < block.length || produced === 0) {
        const room = output.subarray(produced);
        const [, written, read] = this.context.decompressStream(room, block.subarray(consumed));
        consumed += read;
        produced += written;
        if (produced > size) throw new CorruptBlockError('a block decodes into more than it may (a decompression bomb?)');
        if (written === 0 && read === 0) break;
      }
    } catch (error) {
      if (error instanceof CorruptBlockError) throw error;
      throw new CorruptBlockError((error as Error).message);
    }
    if (consumed < block.length) throw new CorruptBlockError('a block holds more than one flush');
    if (produced < size) throw new CorruptBlockError(`a block decodes into ${produced} bytes, not the ${size} it must`);
    return output.subarray(0, produced);
  }
}

function clampLevel(level: number): number {
  if (!Number.isFinite(level)) throw new RangeError(`no compression level ${level}`);
  return Math.min(MAX_LEVEL, Math.max(MIN_LEVEL, Math.round(level)));
}
