import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import { BeamError } from '../errors.js';
import { encodeFrame, FrameDecoder, FrameType, frameWithRoom, type Frame } from './framing.js';
import { SendBuffers, type SendBufferCounts } from './send-buffers.js';
import { YoungGarbagePacer } from './young-garbage.js';

/** What a framed connection needs from a socket: hyperswarm's Noise stream, or a test pipe. */
export interface ByteStream extends EventEmitter {
  write(data: Uint8Array): boolean;
  end(): void;
  destroy(error?: Error): void;
  /** Not used by FramedConnection (see MOST_UNREAD_BYTES); a plain reader of the socket may. */
  pause(): void;
  resume(): void;
  readonly destroyed: boolean;
}

/**
 * What frames waiting to be read may cost before the peer is taken to ignore flow control. We do
 * not pause the socket: UDX keeps accepting packets for a paused reader, so pausing only moved a
 * flood into buffers we could not see. A paired peer of ours keeps far less than this unread: a
 * sender at most its credit window (16 MiB of DATA bodies) in at most some 28,000 messages at the
 * default limits (one per file and per compressed block), anyone else a few small messages.
 */
export const MOST_UNREAD_BYTES = 32 * 1024 * 1024;
/** Before pairing a peer has sent nothing but its key share and confirmation: a few dozen bytes. */
export const UNPAIRED_UNREAD_BYTES = 1024 * 1024;
/**
 * What a queued frame costs beyond its body (its object, its place in the queue), so that a
 * flood of empty frames is bounded too: 28,000 of them cost 7 MiB.
 */
export const FRAME_COST_BYTES = 256;
/**
 * Bytes we keep writing past the socket's own (16 KiB) high-water mark before waiting for it to
 * drain: waiting at every full buffer empties the pipe and stalls the link between frames.
 */
const WRITE_WINDOW_BYTES = 1024 * 1024;

type Waiter = { resolve: (frame: Frame) => void; reject: (error: BeamError) => void };

/**
 * Turns a byte stream into an ordered queue of frames with timeouts, backpressure on what we
 * write, and a bound on what waits to be read. Any decoding error, close or socket error, or a
 * peer that sends more than MOST_UNREAD_BYTES we have not read, ends the connection and fails
 * every pending read.
 */
export class FramedConnection {
  private readonly decoder = new FrameDecoder();
  /** Buffers large frames are sent from and used again, when the socket allows it (looked for on the first sealed frame). */
  private sendBuffers: SendBuffers | undefined | null = null;
  private readonly queue: Frame[] = [];
  private waiter: Waiter | undefined;
  private failure: BeamError | undefined;
  private unreadBytes = 0;
  private closedByUs = false;
  private bytesSinceDrain = 0;
  private markEnded: (reason: BeamError) => void = () => undefined;
  /** Resolves with the reason once the connection has ended, for whoever is not reading it. */
  readonly ended = new Promise<BeamError>((resolve) => (this.markEnded = resolve));

  constructor(
    readonly socket: ByteStream,
    /** A write that cannot drain for this long means the peer stopped reading. */
    private readonly drainTimeoutMs = 30_000,
    /** What unread frames may cost (FRAME_COST_BYTES each, plus their bodies): raised once paired. */
    private mostUnreadBytes = MOST_UNREAD_BYTES,
    /** Keeps the dead Buffers each sent message leaves from piling up (see young-garbage.ts). */
    private readonly garbage = new YoungGarbagePacer(),
  ) {
    socket.on('data', (chunk: Uint8Array) => this.onData(chunk));
    socket.on('end', () => this.fail(this.peerClosedError()));
    socket.on('close', () => this.fail(this.peerClosedError()));
    socket.on('error', (error: Error) => this.fail(new BeamError('network', `connection failed: ${error.message}`, { cause: error })));
  }

  async send(type: FrameType, body: Uint8Array): Promise<void> {
    await this.sendFrame(encodeFrame(type, body));
  }

  /**
   * A frame whose body the caller fills, then sends with sendFrame(): a large one lies in a
   * buffer the socket sends it from and that is used again once acknowledged (send-buffers.ts).
   */
  frameWithRoom(type: FrameType, bodyLength: number): { readonly frame: Uint8Array; readonly body: Uint8Array } {
    // Sealed frames only: a send buffer then never holds anything but ciphertext.
    if (type !== FrameType.Sealed) return frameWithRoom(type, bodyLength);
    if (this.sendBuffers === null) this.sendBuffers = SendBuffers.for(this.socket);
    const buffers = this.sendBuffers;
    return frameWithRoom(type, bodyLength, buffers ? (length) => buffers.take(length) : undefined);
  }

  /** What the send buffers made and got back, if this connection has them: for tests and measurements. */
  get sendBufferCounts(): SendBufferCounts | undefined {
    return this.sendBuffers?.counts;
  }

  /** Sends a frame already encoded (see frameWithRoom); the socket owns it from now on. */
  async sendFrame(frame: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.writeFrame(frame)) {
      this.bytesSinceDrain = 0;
      return;
    }
    this.bytesSinceDrain += frame.length;
    if (this.bytesSinceDrain < WRITE_WINDOW_BYTES) return;
    await this.waitForDrain();
    this.bytesSinceDrain = 0;
  }

  /** Returns what the socket's write returned. */
  private writeFrame(frame: Uint8Array): boolean {
    // Paced for frames in send buffers too: without it the sender's peak RSS was 4-7 MiB higher
    // at 1 GiB (what each message still leaves, small objects and the views of its buffer).
    this.garbage.sent(frame.length);
    if (this.sendBuffers?.owns(frame)) return this.sendBuffers.write(frame as Buffer);
    return this.socket.write(frame);
  }

  /** The peer has proved it holds the code: it may now send as much as a paired peer may. */
  allowPairedUnread(): void {
    this.mostUnreadBytes = Math.max(this.mostUnreadBytes, MOST_UNREAD_BYTES);
  }

  /** A frame has arrived and waits to be received: receive() would answer at once. */
  get hasQueued(): boolean {
    return this.queue.length > 0;
  }

  /** Waits at most timeoutMs for the next frame; fails with the reason the connection ended. */
  receive(timeoutMs: number, whatWeWaitFor = 'the other side'): Promise<Frame> {
    const queued = this.queue.shift();
    if (queued) {
      this.unreadBytes -= frameCost(queued);
      return Promise.resolve(queued);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        const error = new BeamError(
          'timeout',
          `${whatWeWaitFor} sent nothing for ${Math.round(timeoutMs / 1000)} s: the connection looks dead`,
        );
        this.close(error);
        reject(error);
      }, timeoutMs);
      this.waiter = {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  /** Ends our side after everything written so far has been flushed, then waits for the close. */
  async finish(timeoutMs = 2000): Promise<void> {
    this.closedByUs = true;
    this.sendBuffers?.close();
    if (this.socket.destroyed) return;
    const closed = once(this.socket, 'close').catch(() => undefined);
    this.socket.end();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([closed, gaveUp]);
    clearTimeout(timer);
    if (!this.socket.destroyed) this.socket.destroy();
  }

  close(reason?: BeamError): void {
    this.closedByUs = true;
    this.sendBuffers?.close();
    this.fail(reason ?? new BeamError('network', 'connection closed'));
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private onData(chunk: Uint8Array): void {
    if (this.failure) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.close(error as BeamError);
      return;
    }
    for (const frame of frames) {
      if (this.failure) return; // cut off by an earlier frame of the same chunk
      this.deliver(frame);
    }
  }

  private deliver(frame: Frame): void {
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve(frame);
      return;
    }
    this.queue.push(frame);
    this.unreadBytes += frameCost(frame);
    if (this.unreadBytes > this.mostUnreadBytes) {
      // What is queued is dropped with the connection: holding a flood to deliver it first is what it wants.
      this.queue.length = 0;
      this.unreadBytes = 0;
      this.close(
        new BeamError('protocol', `the other side sent more than ${this.mostUnreadBytes / 1024 / 1024} MiB before it was read (it ignores flow control): the connection was closed`),
      );
    }
  }

  private fail(error: BeamError): void {
    if (this.failure) return;
    this.failure = error;
    this.markEnded(error);
    if (this.waiter) {
      const { reject } = this.waiter;
      this.waiter = undefined;
      // Frames that arrived before the end are still delivered first by receive().
      reject(error);
    }
  }

  private peerClosedError(): BeamError {
    if (this.closedByUs) return new BeamError('network', 'connection closed');
    const cut = this.decoder.bufferedBytes > 0 ? ' in the middle of a message' : '';
    return new BeamError('network', `the other side closed the connection${cut}`);
  }

  private async waitForDrain(): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        const error = new BeamError(
          'timeout',
          `the other side stopped reading for ${Math.round(this.drainTimeoutMs / 1000)} s: the connection looks dead`,
        );
        this.close(error);
        reject(error);
      }, this.drainTimeoutMs);
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onGone = (): void => {
        cleanup();
        reject(this.failure ?? this.peerClosedError());
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.socket.off('drain', onDrain);
        this.socket.off('close', onGone);
        this.socket.off('error', onGone);
      };
      this.socket.on('drain', onDrain);
      this.socket.on('close', onGone);
      this.socket.on('error', onGone);
    });
  }
}

function frameCost(frame: Frame): number {
  return frame.body.length + FRAME_COST_BYTES;
}
