import { BeamError } from '../errors.js';
import { PROTOCOL_VERSION } from '../crypto/key-schedule.js';

/**
 * Frames on the wire: a 4-byte big-endian length, then the payload. Every payload starts with the
 * protocol version byte and a frame type byte, so either side can tell a version mismatch from
 * garbage before it tries to interpret anything.
 */
export const FRAME_HEADER_BYTES = 4;
export const FRAME_PREFIX_BYTES = 2;
/** Large enough for a manifest of many thousand files; anything larger is refused unread. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024 + 1024;

export enum FrameType {
  PakeShare = 0x01,
  Confirm = 0x02,
  Sealed = 0x03,
  Refuse = 0x04,
}

export interface Frame {
  readonly type: FrameType;
  readonly body: Uint8Array;
}

export function encodeFrame(type: FrameType, body: Uint8Array): Uint8Array {
  const { frame, body: room } = frameWithRoom(type, body.length);
  room.set(body);
  return frame;
}

/**
 * A frame whose header is written and whose body (`body`, a view into `frame`) the caller fills:
 * what is sealed can be sealed in place, with no buffer of its own to copy and collect. The
 * memory is not cleared first, so every byte of `body` must be written before the frame is sent.
 */
export function frameWithRoom(
  type: FrameType,
  bodyLength: number,
  /** Where the frame is put together when it offers a buffer of that length (see send-buffers.ts). */
  buffer: (frameLength: number) => Buffer | undefined = () => undefined,
): { readonly frame: Uint8Array; readonly body: Uint8Array } {
  const payloadLength = FRAME_PREFIX_BYTES + bodyLength;
  if (payloadLength > MAX_FRAME_BYTES) throw new BeamError('internal', `frame of ${payloadLength} bytes is too large`);
  const frameLength = FRAME_HEADER_BYTES + payloadLength;
  const frame = buffer(frameLength) ?? Buffer.allocUnsafe(frameLength);
  frame.writeUInt32BE(payloadLength, 0);
  frame[FRAME_HEADER_BYTES] = PROTOCOL_VERSION;
  frame[FRAME_HEADER_BYTES + 1] = type;
  return { frame, body: frame.subarray(FRAME_HEADER_BYTES + FRAME_PREFIX_BYTES) };
}

/** Incremental decoder: feed it whatever the socket delivers, get whole frames back. */
export class FrameDecoder {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxFrameBytes: number = MAX_FRAME_BYTES) {}

  push(chunk: Uint8Array): Frame[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      const frame = this.nextFrame();
      if (frame === undefined) return frames;
      frames.push(frame);
    }
  }

  /** Bytes received that do not yet form a whole frame (a stream that ends here was cut). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private nextFrame(): Frame | undefined {
    if (this.pendingBytes < FRAME_HEADER_BYTES) return undefined;
    const header = this.peek(FRAME_HEADER_BYTES);
    const payloadLength = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(0);
    if (payloadLength < FRAME_PREFIX_BYTES || payloadLength > this.maxFrameBytes) {
      throw new BeamError('protocol', `the peer sent a frame of ${payloadLength} bytes, outside the allowed size`);
    }
    if (this.pendingBytes < FRAME_HEADER_BYTES + payloadLength) return undefined;
    const payload = this.take(FRAME_HEADER_BYTES + payloadLength).subarray(FRAME_HEADER_BYTES);
    return parsePayload(payload);
  }

  private peek(length: number): Uint8Array {
    const first = this.pending[0]!;
    if (first.length >= length) return first.subarray(0, length);
    return this.merge().subarray(0, length);
  }

  private take(length: number): Uint8Array {
    if (this.pending[0]!.length < length) this.merge();
    const first = this.pending[0]!;
    const taken = first.subarray(0, length);
    if (first.length === length) this.pending.shift();
    else this.pending[0] = first.subarray(length);
    this.pendingBytes -= length;
    return taken;
  }

  private merge(): Uint8Array {
    const merged = new Uint8Array(this.pendingBytes);
    let offset = 0;
    for (const part of this.pending) {
      merged.set(part, offset);
      offset += part.length;
    }
    this.pending = [merged];
    return merged;
  }
}

function parsePayload(payload: Uint8Array): Frame {
  const version = payload[0]!;
  if (version !== PROTOCOL_VERSION) {
    throw new BeamError(
      'protocol',
      `the other side speaks copilot-beam protocol ${version}, this one speaks ${PROTOCOL_VERSION}: install the same copilot-beam version on both machines`,
    );
  }
  const type = payload[1]!;
  if (!Object.values(FrameType).includes(type)) {
    throw new BeamError('protocol', `the peer sent an unknown frame type ${type}`);
  }
  return { type: type as FrameType, body: payload.subarray(FRAME_PREFIX_BYTES) };
}
