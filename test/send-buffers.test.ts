import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCode } from '../src/code/index.js';
import { loadSodium } from '../src/crypto/index.js';
import { rendezvous, type SecureChannel } from '../src/transport/index.js';
import { GENERATION_BYTES, SendBuffers, VERIFIED_VERSIONS } from '../src/transport/send-buffers.js';
import { netnsUnavailable } from './helpers/netns.js';
import { useTestnetSwarms } from './helpers/testnet-swarms.js';

const sodium = await loadSodium();
const swarms = useTestnetSwarms();

async function pairedOverHyperswarm(code: string): Promise<{ sender: SecureChannel; receiver: SecureChannel }> {
  const [senderSwarm, receiverSwarm] = [await swarms.open(), await swarms.open()];
  const options = { sodium, code: parseCode(code), deadlineMs: 20_000, stepTimeoutMs: 5000 };
  const sending = rendezvous({ swarm: senderSwarm, role: 'sender', ...options });
  await sending.ready;
  const receiving = rendezvous({ swarm: receiverSwarm, role: 'receiver', ...options });
  const [sender, receiver] = await Promise.all([sending.paired, receiving.paired]);
  return { sender, receiver };
}

/** Message `index`: 64 KiB (or a compressed block's odd size) no other message equals. */
function message(index: number): Buffer {
  const size = index % 3 === 0 ? 64 * 1024 : 5000 + ((index * 7919) % 250_000);
  const bytes = Buffer.alloc(size);
  for (let at = 0; at < size; at += 32) createHash('sha256').update(`${index}:${at}`).digest().copy(bytes, at);
  return bytes;
}

test('over a real Noise stream, large messages are sent from buffers used again, and every one arrives as it was sent', async () => {
  const { sender, receiver } = await pairedOverHyperswarm('31-abyss-zucchini');
  const count = 160; // about 20 MiB: many generations, each buffer used many times
  const received = (async () => {
    for (let index = 0; index < count; index++) {
      const { kind, body } = await receiver.receive(10_000);
      assert.equal(kind, 7);
      assert.ok(Buffer.from(body).equals(message(index)), `message ${index} arrived as it was sent`);
    }
  })();
  for (let index = 0; index < count; index++) await sender.send(7, message(index));
  await received;
  const counts = sender.sendBufferCounts;
  assert.ok(counts, 'hyperswarm connections have send buffers (a secret-stream or udx-native upgrade broke what they rely on?)');
  assert.ok(counts.recycled >= count / 2, `${counts.recycled} of ${count} buffers came back for reuse`);
  assert.ok(counts.made < count / 2, `${counts.made} buffers made for ${count} messages`);
  assert.equal(counts.inPlace, count, 'every message was encrypted where it lay, none copied, though many waited in the queue');
  await Promise.all([sender.finish(), receiver.finish()]);
});

/** Just what SendBuffers relies on, as @hyperswarm/secret-stream does it. */
class LendingSocket extends EventEmitter {
  _outgoingWrapped: Uint8Array | null = null;
  _outgoingPlain: Uint8Array | null = null;
  readonly sentFromLent: Uint8Array[] = [];
  readonly flushes: Array<(acknowledged: boolean) => void> = [];
  rawStream: { flush?: unknown; destroying?: boolean } | null = { flush: () => Promise.resolve(true) };

  constructor(private readonly layout = { offset: 4, overhead: 20 }) {
    super();
  }

  alloc(length: number): Uint8Array {
    const wrapped = Buffer.alloc(length + this.layout.overhead);
    this._outgoingWrapped = wrapped;
    this._outgoingPlain = wrapped.subarray(this.layout.offset, this.layout.offset + length);
    return this._outgoingPlain;
  }

  /** As streamx does, here at once: the stream takes each write up in its _write. */
  write(data: Uint8Array): boolean {
    this._write(data, () => undefined);
    return true;
  }

  _write(data: Uint8Array, done: () => void): void {
    if (data === this._outgoingPlain && this._outgoingWrapped) {
      // In place: the length goes before the message, in the lent buffer.
      const length = this._outgoingWrapped.length - 3;
      this._outgoingWrapped.set([length & 0xff, (length >> 8) & 0xff, length >> 16]);
      this.sentFromLent.push(data);
    }
    this._outgoingWrapped = this._outgoingPlain = null;
    done();
  }

  flush(): Promise<boolean> {
    return new Promise((resolve) => this.flushes.push(resolve));
  }
}

const frameBytes = 64 * 1024 + 40;

function sendGeneration(buffers: SendBuffers): ArrayBufferLike[] {
  const used: ArrayBufferLike[] = [];
  for (let sent = 0; sent < GENERATION_BYTES; sent += frameBytes) {
    const frame = buffers.take(frameBytes)!;
    used.push(frame.buffer);
    buffers.write(frame);
  }
  return used;
}

test('a buffer is used again only once a flush after its write said everything before it was acknowledged', async () => {
  const socket = new LendingSocket();
  const buffers = SendBuffers.for(socket)!;
  assert.ok(buffers);
  const first = sendGeneration(buffers);
  assert.equal(socket.sentFromLent.length, first.length, 'every frame was sent from its own buffer, not copied');
  assert.equal(buffers.counts.inPlace, first.length, 'and counted as such');
  assert.equal(socket.flushes.length, 1, 'a flush after each generation');
  const second = sendGeneration(buffers);
  assert.ok(second.every((buffer) => !first.includes(buffer)), 'nothing is used again while its flush is pending');
  socket.flushes[0]!(true);
  await Promise.resolve();
  await Promise.resolve();
  const third = sendGeneration(buffers);
  assert.ok(third.every((buffer) => first.includes(buffer)), 'acknowledged buffers are used again');
  socket.flushes[1]!(false);
  await Promise.resolve();
  await Promise.resolve();
  socket.flushes[2]!(true);
  await Promise.resolve();
  await Promise.resolve();
  const fourth = sendGeneration(buffers);
  const fifth = sendGeneration(buffers);
  assert.ok([...fourth, ...fifth].every((buffer) => !second.includes(buffer)), 'a flush that failed frees nothing');
  assert.ok(fourth.every((buffer) => third.includes(buffer)));
});

test('a flush that resolves true as the stream goes away, or after the connection ended, frees nothing', async () => {
  for (const ending of ['destroying', 'rawDestroying', 'closed'] as const) {
    const socket = new LendingSocket();
    const buffers = SendBuffers.for(socket)!;
    const first = sendGeneration(buffers);
    if (ending === 'destroying') Object.assign(socket, { destroying: true });
    if (ending === 'rawDestroying') socket.rawStream = { flush: () => Promise.resolve(true), destroying: true };
    if (ending === 'closed') buffers.close();
    socket.flushes[0]!(true); // what UDX's flush says when a destroy cancels its writes
    await Promise.resolve();
    await Promise.resolve();
    if (ending !== 'closed') {
      const second = sendGeneration(buffers);
      assert.ok(second.every((buffer) => !first.includes(buffer)), `${ending}: nothing is used again`);
    }
    assert.equal(buffers.counts.recycled, 0, ending);
  }
});

test('frames are sent as before where a buffer cannot be vouched for', () => {
  assert.equal(SendBuffers.for(new EventEmitter()), undefined, 'a plain stream');
  const moved = new LendingSocket({ offset: 8, overhead: 20 });
  assert.equal(SendBuffers.for(moved), undefined, 'a version that lays its buffer out otherwise');
  assert.equal(moved._outgoingPlain, null, 'the probe lends nothing');
  const unflushable = new LendingSocket();
  unflushable.rawStream = {};
  assert.equal(SendBuffers.for(unflushable), undefined, 'a raw stream that cannot tell what was acknowledged');
  const buffers = SendBuffers.for(new LendingSocket())!;
  assert.equal(buffers.take(100), undefined, 'a small frame');
  assert.equal(buffers.take(2 * 1024 * 1024), undefined, 'a frame larger than any buffer');
  assert.equal(buffers.owns(Buffer.alloc(frameBytes)), false);
});

test('send buffers rely on the very versions of secret-stream and udx-native whose code was read for them', () => {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
  for (const [name, version] of Object.entries(VERIFIED_VERSIONS)) {
    const installed = JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string };
    const advice = `read src/transport/send-buffers.ts's premises again in ${name}'s code before changing its version`;
    assert.equal(manifest.dependencies[name], version, `package.json pins ${name}: ${advice}`);
    assert.equal(installed.version, version, `installed ${name}: ${advice}`);
  }
});

test('with some large packets lost on the way, every message still arrives as sent: a buffer waits for its resends too', { skip: netnsUnavailable() }, async (t) => {
  const ns = `cbloss${process.pid % 100000}`;
  const inNs = (...command: string[]): string => execFileSync('ip', ['netns', 'exec', ns, ...command], { encoding: 'utf8' });
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    inNs('ip', 'link', 'set', 'lo', 'up');
    // Large packets only (UDX's data), so the DHT's small messages get through and the beam pairs.
    inNs('iptables', '-A', 'INPUT', '-i', 'lo', '-p', 'udp', '-m', 'length', '--length', '1000:65535', '-m', 'statistic', '--mode', 'random', '--probability', '0.03', '-j', 'DROP');
    const helper = fileURLToPath(new URL('./helpers/lossy-send.js', import.meta.url));
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, helper, '200'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number];
    const last = output.trim().split('\n').at(-1);
    const report = (last ? JSON.parse(last) : { intact: 0, failure: `the helper printed nothing (exit code ${code})` }) as { intact: number; failure?: string; counts?: { made: number; recycled: number; inPlace: number } };
    const dropped = Number(/^\s*(\d+)/m.exec(inNs('iptables', '-L', 'INPUT', '-v', '-n', '-x').split('\n').slice(2).join('\n'))?.[1] ?? 0);
    t.diagnostic(`${dropped} large packets dropped; send buffers ${JSON.stringify(report.counts)}`);
    assert.equal(code, 0, report.failure ?? output);
    assert.equal(report.intact, 200);
    assert.ok(dropped > 50, `${dropped} packets dropped: the loss must have happened for this to say anything`);
    assert.ok(report.counts && report.counts.recycled > 100, `buffers came back for reuse: ${JSON.stringify(report.counts)}`);
    assert.equal(report.counts.inPlace, 200);
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
});
