/** Bounds a receiver enforces on what a peer may ask it to write. */
export interface BundleLimits {
  readonly maxTotalBytes: number;
  readonly maxFiles: number;
  readonly maxDirectories: number;
}

export const DEFAULT_LIMITS: BundleLimits = Object.freeze({
  maxTotalBytes: 2 * 1024 ** 3,
  // Real sessions hold hundreds of files (rewind backups are the bulk); 20,000 leaves room for
  // long sessions while a flood of tiny files is refused before any is written.
  maxFiles: 20_000,
  maxDirectories: 5_000,
});

/** Bytes of file content per DATA message: secretstream and the socket both like 64 KiB. */
export const DATA_CHUNK_BYTES = 64 * 1024;
/**
 * Compressible files (text, and binaries whose start shrinks) travel compressed, each DATA
 * message one flushed zstd block of up to this many bytes of the file: small enough that the
 * receiver can bound every decode by it (no decompression bomb gets past one block); the ratio
 * comes from the window spanning the file.
 */
export const COMPRESSED_CHUNK_BYTES = 256 * 1024;
/** A decoded block's buffer: one byte more than a block, so that a block decoding further is caught. */
export const DECODE_BUFFER_BYTES = COMPRESSED_CHUNK_BYTES + 1;
export const MAX_PATH_LENGTH = 1024;
export const MAX_PATH_DEPTH = 32;
export const MAX_SEGMENT_BYTES = 255;
export const MAX_TEXT_FIELD = 4096;
