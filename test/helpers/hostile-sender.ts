import { createHash } from 'node:crypto';
import { parseCode } from '../../src/code/index.js';
import { loadSodium } from '../../src/crypto/index.js';
import { DATA_CHUNK_BYTES, encodeJson, MANIFEST_FORMAT, MessageKind } from '../../src/bundle/index.js';
import { BeamSwarm, parseBootstrapList, rendezvous, type PeerSocket } from '../../src/transport/index.js';
import { zstdFrame } from './zstd-frames.js';

/**
 * A sender that pairs through the real library (rendezvous, PAKE, sealed channel) and then
 * misbehaves as the scenario says. Run as a process by test/hostile.test.ts. Only reordering and
 * replaying sealed frames need more than the channel offers: a tap on the socket's writes.
 */
const [scenario, bootstrap, codeText] = process.argv.slice(2) as [string, string, string];
const swarm = await BeamSwarm.open({ bootstrap: parseBootstrapList(bootstrap) });

/** Holds back or repeats the next frame written to the socket (each frame is one write). */
class WriteTap {
  private mode: 'pass' | 'hold' | 'repeat' = 'pass';
  private held: Uint8Array | undefined;

  attach(socket: PeerSocket): void {
    const write = socket.write.bind(socket);
    socket.write = (data: Uint8Array): boolean => {
      if (this.mode === 'hold') {
        this.mode = 'pass';
        this.held = Uint8Array.from(data);
        return true;
      }
      if (this.mode === 'repeat') {
        this.mode = 'pass';
        // From a copy: the socket may encrypt the frame where it lies (src/transport/send-buffers.ts).
        write(Uint8Array.from(data));
      }
      const result = write(data);
      if (this.held) write(this.held);
      this.held = undefined;
      return result;
    };
  }

  /** The next frame goes out after the one that follows it. */
  holdNext(): void {
    this.mode = 'hold';
  }

  /** The next frame goes out twice. */
  repeatNext(): void {
    this.mode = 'repeat';
  }
}

const tap = new WriteTap();
// Registered before the rendezvous' own handler, so the tap is in place before any frame.
swarm.onConnection((socket) => tap.attach(socket));
const meeting = rendezvous({ swarm, sodium: loadSodium(), role: 'sender', code: parseCode(codeText), deadlineMs: 60_000, stepTimeoutMs: 10_000 });
await meeting.ready;
process.stdout.write('ready\n');
const channel = await meeting.paired;

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const content = Buffer.from('{"type":"session.start","data":{}}\n');
const file = (path: string, bytes = content, extra: object = {}): object => ({ path, size: bytes.length, mode: 0o600, sha256: sha(bytes), ...extra });
/** Terminal control sequences: clear screen, set the window title, hide the cursor, a bell. */
const ESCAPES = '\u001b[2J\u001b]0;owned\u0007\u001b[?25l\u0007';
function manifest(files: object[], directories: string[] = [], totalBytes?: number): object {
  const total = files.reduce((sum: number, entry) => sum + (entry as { size: number }).size, 0);
  const loud = scenario === 'terminal-escapes';
  return {
    format: MANIFEST_FORMAT,
    sessionId: '0badbeef-0000-4000-8000-000000000000',
    ...(loud ? { sessionName: `name${ESCAPES}` } : {}),
    source: loud
      ? { hostname: `host${ESCAPES}`, platform: `linux${ESCAPES}`, cwd: `/home/x${ESCAPES}`, git: { remote: `https://github.com/a/b${ESCAPES}` } }
      : { hostname: 'hostile', platform: 'linux' },
    directories,
    files,
    totalBytes: totalBytes ?? total,
  };
}
const send = (kind: MessageKind, body: Uint8Array | string, final = false): Promise<void> =>
  channel.send(kind, typeof body === 'string' ? Buffer.from(body) : body, final);
const offer = (value: object): Promise<void> => send(MessageKind.Offer, encodeJson(value));
const nothing = new Uint8Array(0);

try {
  await channel.receive(10_000); // the receiver's hello
  await send(MessageKind.Hello, encodeJson({ verify: false }));
  await channel.receive(10_000); // the receiver's environment
  await misbehave();
  // Stay until the receiver hangs up, so that our own exit cuts nothing off.
  for (;;) await channel.receive(30_000);
} catch {
  // The receiver hung up on us: that is what the test expects of it.
}
await swarm.destroy();

async function misbehave(): Promise<void> {
  switch (scenario) {
    case 'skips-phrase':
      // HELLO said the phrase check is off, whatever the receiver asked for: nothing more to do.
      return;
    case 'dotdot':
      return offer(manifest([file('../escaped.txt')]));
    case 'absolute':
      return offer(manifest([file('/tmp/copilot-beam-absolute-escape.txt')]));
    case 'link':
      return offer(manifest([file('events.jsonl', content, { type: 'symlink', target: '/etc/passwd' })]));
    case 'device':
      return offer(manifest([file('dev-null', Buffer.alloc(0), { type: 'char-device', rdev: 259 })]));
    case 'duplicate':
      return offer(manifest([file('events.jsonl'), file('events.jsonl')]));
    case 'over-limit':
      return offer(manifest([{ path: 'events.jsonl', size: 3 * 1024 ** 3, mode: 0o600, sha256: sha(content) }]));
    case 'many-files':
      return offer(manifest(Array.from({ length: 100_000 }, (_, i) => file(`f${i}`, Buffer.alloc(0)))));
  }

  // The remaining scenarios offer a plausible manifest and misbehave in the data stream.
  // A file of two DATA messages where the stream itself is cut, reordered or replayed: each
  // message must be the file's next 64 KiB (or its end), so only the transport's checks can object.
  const twoMessages = scenario === 'truncated' || scenario === 'out-of-order' || scenario === 'replay';
  const declared = scenario === 'lying-hash' ? Buffer.from('something else entirely\n') : twoMessages ? Buffer.concat([content, Buffer.alloc(DATA_CHUNK_BYTES, 0x0a)]) : content;
  const [firstPart, secondPart] = [declared.subarray(0, DATA_CHUNK_BYTES), declared.subarray(DATA_CHUNK_BYTES)];
  const bomb = scenario === 'zstd-bomb' || scenario === 'zstd-window' || scenario === 'zstd-tiny-blocks';
  await offer(manifest([file('events.jsonl', declared, bomb ? { compressed: true } : {})]));
  await channel.receive(10_000); // ACCEPT
  switch (scenario) {
    case 'zstd-bomb':
      // 64 MiB of zeros compress to a few KB: one small block claiming to be part of a 35-byte file,
      // in a window the receiver allows, so that only the output limit can stop it.
      await send(MessageKind.Data, zstdFrame(Buffer.alloc(64 * 1024 ** 2), 3, 22));
      return send(MessageKind.End, nothing, true);
    case 'zstd-tiny-blocks':
      // Blocks of one byte each: every one would pin a block-sized buffer on a lax receiver.
      for (const byte of content.subarray(0, 8)) await send(MessageKind.Data, zstdFrame(Buffer.of(byte), 1));
      return send(MessageKind.End, nothing, true);
    case 'tiny-data':
      // Bytes one at a time: every one would be a write request and a buffer on a lax receiver.
      for (const byte of content) await send(MessageKind.Data, Buffer.of(byte));
      return send(MessageKind.End, nothing, true);
    case 'zstd-window':
      // A frame that asks the receiver to keep 128 MiB of history for back-references.
      await send(MessageKind.Data, zstdFrame(content, 1, 27));
      return send(MessageKind.End, nothing, true);
    case 'lying-hash':
      await send(MessageKind.Data, Buffer.alloc(declared.length, 0x41));
      return send(MessageKind.End, nothing, true);
    case 'lying-size':
      await send(MessageKind.Data, Buffer.concat([content, content]));
      return send(MessageKind.End, nothing, true);
    case 'truncated':
      await send(MessageKind.Data, firstPart);
      return channel.finish();
    case 'terminal-escapes':
      await send(MessageKind.Data, content);
      await send(MessageKind.End, nothing, true);
      await channel.receive(10_000); // INSTALLED
      return channel.finish();
    case 'no-final':
      await send(MessageKind.Data, content);
      await send(MessageKind.End, nothing);
      return channel.finish();
    case 'out-of-order':
      tap.holdNext();
      await send(MessageKind.Data, firstPart);
      return send(MessageKind.Data, secondPart);
    case 'replay':
      tap.repeatNext();
      return send(MessageKind.Data, firstPart);
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

