/**
 * Buffers a connection's large frames are sent from, used again once the peer has acknowledged
 * them, so that sending a session leaves no dead Buffer per message.
 *
 * Hyperswarm's Noise stream (@hyperswarm/secret-stream) copies every message into a buffer of its
 * own, encrypts it there and hands it to UDX, which holds it until every packet of it is
 * acknowledged. That buffer is the garbage of a beam: one per message, alive for a round trip
 * and more, long enough to be promoted out of V8's young generation. On an incompressible
 * session the sender spent 1-2 s of CPU per GiB collecting them (docs/BENCHMARKS.md, step 36).
 *
 * The Noise stream's `alloc(length)` is how a writer avoids its copy: it returns a view into the
 * buffer the next write of exactly that view is encrypted in and sent from. It makes a new buffer
 * each time, and remembers only the last: a frame that waits in the stream's queue behind others
 * (whenever UDX is not drained, which on loopback was six frames in seven) is copied after all.
 * So this lends its own buffers where the stream takes a frame up, in its `_write` (streamx's
 * hook for a stream's implementation, wrapped on this one socket): each frame of ours is then
 * encrypted in place and sent from its buffer. It learns when UDX is done with a buffer from the
 * stream's `flush()`, which waits for the stream's own queue and then for UDX's `flush()`
 * (documented by udx-native: it resolves once everything written before it is acknowledged).
 * None of secret-stream's `alloc`, the two fields it sets, or its `_write` taking the lent view in
 * place is documented, nor that streamx calls `_write` through the instance and counts writes in
 * `Writable.drained` as it does; so this relies on the installed code: `SendBuffers.for` checks the
 * layout, package.json pins the three packages to the versions whose code was read for this, and
 * test/send-buffers.test.ts fails on others. Anything this cannot vouch for is sent as before.
 */

/**
 * The versions whose code the premises above were checked against (secret-stream's `_write`,
 * `alloc` and `flush`; streamx's write queue and `drained`; udx-native's `flush` and
 * acknowledgements). package.json pins them, and a test fails if one differs: read that code
 * again before moving them.
 */
export const VERIFIED_VERSIONS = { '@hyperswarm/secret-stream': '6.9.2', streamx: '2.28.1', 'udx-native': '1.21.3' } as const;

/** The parts of @hyperswarm/secret-stream's NoiseSecretStream this relies on. */
interface LendingSocket {
  alloc(length: number): Uint8Array;
  write(data: Uint8Array): boolean;
  _write(data: Uint8Array, done: (error?: Error | null) => void): void;
  flush(): Promise<boolean>;
  readonly destroying?: boolean;
  readonly destroyed?: boolean;
  readonly rawStream: { readonly flush?: unknown; readonly destroying?: boolean } | null;
  _outgoingWrapped: Uint8Array | null;
  _outgoingPlain: Uint8Array | null;
}

/**
 * Where the message lies in the Noise stream's buffer (after its 3-byte length and a byte it
 * keeps free so that it encrypts in place) and what the buffer holds beyond it (its MAC).
 * Checked against the installed version by `SendBuffers.for`.
 */
const PLAIN_OFFSET = 4;
const WRAP_OVERHEAD = 3 + 17;

/**
 * Buffer sizes: a frame gets the smallest that holds it. Each is a power of two plus room for the
 * frame and stream headers, so a whole DATA chunk of 64 KiB fits a 64 KiB class, not a 128 KiB one.
 */
const SMALLEST_CLASS = 4 * 1024;
const LARGEST_CLASS = 512 * 1024;
const CLASS_HEADROOM = 2048;
/** Bytes of frames sent between two flushes: each flush frees the frames sent before it. */
export const GENERATION_BYTES = 512 * 1024;
/** Free buffers kept per size, in bytes: beyond that a buffer is left to the collector. */
const KEPT_BYTES_PER_CLASS = 8 * 1024 * 1024;

function sizeClass(bytes: number): number | undefined {
  for (let size = SMALLEST_CLASS; size <= LARGEST_CLASS; size *= 2) {
    if (bytes <= size + CLASS_HEADROOM) return size + CLASS_HEADROOM;
  }
  return undefined;
}

export interface SendBufferCounts {
  readonly made: number;
  readonly recycled: number;
  readonly inPlace: number;
}

export class SendBuffers {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly ours = new WeakSet<ArrayBuffer>();
  /** Buffers sent since the last flush, and their bytes. */
  private generation: ArrayBuffer[] = [];
  private generationBytes = 0;
  private made = 0;
  private recycled = 0;
  /** Set once the connection ends: nothing is used again after that (see close()). */
  private closed = false;
  /** Frames written and not yet taken up by the stream, each with the whole buffer it lies in. */
  private readonly lent = new WeakMap<Uint8Array, Buffer>();
  private inPlace = 0;

  private constructor(private readonly socket: LendingSocket) {
    const takeUp = socket._write;
    const lent = this.lent;
    // What alloc() would have set, set as the stream takes the frame up: its _write then finds
    // the frame is the lent view, and encrypts it where it lies.
    socket._write = (data, done) => {
      const wrapped = lent.get(data);
      if (wrapped) {
        lent.delete(data);
        socket._outgoingWrapped = wrapped;
        socket._outgoingPlain = data;
        // A length no message of ours has: the stream writes the real one here only if it
        // encrypts in this buffer (a copy goes to a buffer of its own).
        wrapped.fill(0xff, 0, 3);
      }
      takeUp.call(socket, data, done);
      // The stream's 3-byte little-endian length before each message.
      if (wrapped && wrapped.readUIntLE(0, 3) === wrapped.length - 3) this.inPlace++;
    };
  }

  /**
   * Send buffers for `socket` when it is a Noise stream that lends its send buffer as this
   * expects, over a raw stream that can tell when what was written is acknowledged (UDX);
   * undefined otherwise (a test pipe, or another version of either), and frames go as before.
   */
  static for(socket: unknown): SendBuffers | undefined {
    if (!looksLending(socket)) return undefined;
    try {
      // Ask for a buffer as a writer would, and check that it sets what we will set, as we will.
      const plain = socket.alloc(5);
      const wrapped = socket._outgoingWrapped;
      const fits =
        socket._outgoingPlain === plain &&
        wrapped !== null &&
        wrapped.buffer === plain.buffer &&
        plain.byteOffset - wrapped.byteOffset === PLAIN_OFFSET &&
        wrapped.byteLength === plain.byteLength + WRAP_OVERHEAD;
      // As the stream's own write does once it has used them: nothing is lent now.
      socket._outgoingWrapped = socket._outgoingPlain = null;
      return fits ? new SendBuffers(socket) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A buffer for a frame of `length` bytes, to be filled and then sent with write(), or
   * undefined for a frame too small or too large to be worth one (it is sent as before).
   */
  take(length: number): Buffer | undefined {
    const size = sizeClass(length + WRAP_OVERHEAD);
    if (size === undefined || length < SMALLEST_CLASS) return undefined;
    const buffer = this.free.get(size)?.pop() ?? this.make(size);
    return Buffer.from(buffer, PLAIN_OFFSET, length);
  }

  /** Whether `frame` came from take() (write() then sends it from its own buffer). */
  owns(frame: Uint8Array): boolean {
    return frame.byteOffset === PLAIN_OFFSET && frame.buffer instanceof ArrayBuffer && this.ours.has(frame.buffer);
  }

  /**
   * Writes a frame from take() through the socket, which encrypts it where it lies and sends it
   * from there. Returns what the socket's write returned.
   */
  write(frame: Buffer): boolean {
    const buffer = frame.buffer as ArrayBuffer;
    this.lent.set(frame, Buffer.from(buffer, 0, frame.length + WRAP_OVERHEAD));
    const ready = this.socket.write(frame);
    this.generation.push(buffer);
    this.generationBytes += frame.length;
    if (this.generationBytes >= GENERATION_BYTES) this.freeWhenAcknowledged();
    return ready;
  }

  /**
   * The connection is ending (its last message written, or it is torn down): buffers still out
   * are never used again. UDX's own end request counts against every pending flush, so a flush
   * may resolve before the data written ahead of it is acknowledged once the stream is ended.
   */
  close(): void {
    this.closed = true;
    this.generation = [];
  }

  /** Buffers made, buffers that came back for reuse, frames encrypted in place: for tests and measurements. */
  get counts(): SendBufferCounts {
    return { made: this.made, recycled: this.recycled, inPlace: this.inPlace };
  }

  /**
   * flush() resolves true once every message written before it was taken up by the Noise stream
   * (encrypted in place and handed to UDX; a frame not lent would have been copied) and UDX has
   * every packet of it acknowledged: nothing will read those buffers again. UDX's flush() also
   * resolves true when UDX is destroyed meanwhile (its pending writes are cancelled through the same callback), which is
   * safe, as a destroyed stream sends nothing more, but is no acknowledgement: so buffers come
   * back only while neither stream is going away and the connection has not ended. Anything else
   * (false, a failure, a raw stream that cannot tell) and they are never reused.
   */
  private freeWhenAcknowledged(): void {
    const generation = this.generation;
    this.generation = [];
    this.generationBytes = 0;
    if (typeof this.socket.rawStream?.flush !== 'function') return;
    this.socket.flush().then(
      (acknowledged) => {
        if (acknowledged && this.streamsAlive()) for (const buffer of generation) this.giveBack(buffer);
      },
      () => undefined,
    );
  }

  private streamsAlive(): boolean {
    const { socket } = this;
    return !this.closed && socket.destroying !== true && socket.destroyed !== true && socket.rawStream?.destroying !== true;
  }

  private make(size: number): ArrayBuffer {
    // Not zeroed: every byte of a frame is written before it is sent (frameWithRoom's contract).
    const buffer = Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
    this.ours.add(buffer);
    this.made++;
    return buffer;
  }

  private giveBack(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    let free = this.free.get(size);
    if (!free) this.free.set(size, (free = []));
    if ((free.length + 1) * size > KEPT_BYTES_PER_CLASS) return;
    free.push(buffer);
    this.recycled++;
  }
}

function looksLending(socket: unknown): socket is LendingSocket {
  if (typeof socket !== 'object' || socket === null) return false;
  const candidate = socket as Partial<Record<keyof LendingSocket, unknown>>;
  return (
    typeof candidate.alloc === 'function' &&
    typeof candidate.write === 'function' &&
    typeof candidate.flush === 'function' &&
    typeof candidate._write === 'function' &&
    '_outgoingWrapped' in socket &&
    '_outgoingPlain' in socket &&
    typeof (candidate.rawStream as { flush?: unknown } | null | undefined)?.flush === 'function'
  );
}
