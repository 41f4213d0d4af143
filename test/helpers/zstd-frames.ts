import { createRequire } from 'node:module';

const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');

/**
 * One zstd frame of `data`, built the way a hostile sender could: at any level, and optionally
 * declaring a window of 2^windowLog bytes (the receiver allows 2^22).
 */
export function zstdFrame(data: Buffer, level: number, windowLog?: number): Buffer {
  const context = new zstd.CCtx();
  context.setParameter(zstd.CParameter.compressionLevel, level);
  if (windowLog !== undefined) {
    context.setParameter(zstd.CParameter.windowLog, windowLog);
    // Without this, zstd shrinks the window to the (small) content and says so in the header.
    context.setParameter(zstd.CParameter.contentSizeFlag, 0);
  }
  // Given in two calls, so that zstd cannot shrink the window to the content's size.
  const out = Buffer.alloc(zstd.compressBound(data.length) + 64);
  const [, head] = context.compressStream2(out, data, zstd.EndDirective.continue);
  const [, tail] = context.compressStream2(out.subarray(head), Buffer.alloc(0), zstd.EndDirective.end);
  return out.subarray(0, head + tail);
}
