import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, appendFile, readFile, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  DEFAULT_LIMITS,
  COMPRESSED_CHUNK_BYTES,
  DATA_CHUNK_BYTES,
  MANIFEST_FORMAT,
  MessageKind,
  encodeCredit,
  FIRST_WINDOW_BYTES,
  WINDOW_BYTES,
  receiveFiles,
  sendFiles,
  SourceChangedError,
  type Manifest,
  type SendOptions,
} from '../src/bundle/index.js';
import type { FileIdentity } from '../src/bundle/pack.js';
import type { FileSink } from '../src/bundle/file-sink.js';
import { BLOCKS_AHEAD, InlineCompression, type BlockCompression } from '../src/bundle/block-compression.js';
import { CompressionThread } from '../src/bundle/compression-thread.js';
import { MIN_LEVEL, ZSTD_DEFAULT_RUNG } from '../src/bundle/codec.js';
import { FLOOR_SAMPLE_BYTES } from '../src/bundle/level-floor.js';
import { scanForSecrets } from '../src/session/secrets/scan.js';
import { validateSessionManifest } from '../src/session/manifest.js';
import { scanSessionFolder } from '../src/session/session-files.js';
import { createSampleSession, type SampleOptions } from '../scripts/sample-session.js';
import { contentOnly, tempDir, treeDigest } from './helpers/e2e.js';
import { pairedChannels } from './helpers/memory-channel.js';
import type { SecureChannel } from '../src/transport/index.js';

/** A sample session and its manifest; `compressed` marks every non-empty file to travel compressed. */
async function sampleManifest(
  session: Omit<SampleOptions, 'copilotHome'> = { eventsBytes: 300 * 1024 },
  options: { compressed?: boolean } = {},
): Promise<{ dir: string; manifest: Manifest }> {
  const home = await tempDir('transfer');
  const { id, dir } = await createSampleSession({ copilotHome: home, ...session });
  const scanned = await scanSessionFolder(dir);
  const manifest = validateSessionManifest(
    {
      format: MANIFEST_FORMAT,
      sessionId: id,
      source: { hostname: 'laptop', platform: 'linux' },
      directories: scanned.directories,
      files: options.compressed ? scanned.files.map((file) => (file.size > 0 ? { ...file, compressed: true } : file)) : scanned.files,
      totalBytes: scanned.files.reduce((sum, file) => sum + file.size, 0),
    },
    DEFAULT_LIMITS,
  );
  return { dir, manifest };
}

async function staging(): Promise<string> {
  const dir = join(await tempDir('staging'), 'incoming');
  await mkdir(dir);
  return dir;
}

test('scanning leaves out lock files and lists folders before their files', async () => {
  const { manifest } = await sampleManifest();
  const paths = manifest.files.map((file) => file.path);
  assert.ok(!paths.some((path) => path.endsWith('.lock')));
  assert.ok(paths.includes('session.db'));
  assert.ok(paths.includes('files/empty.txt'));
  assert.ok(manifest.directories.includes('research/notes'));
});

test('files stream into staging byte-identical', async () => {
  const { dir, manifest } = await sampleManifest();
  const { sender, receiver } = await pairedChannels();
  const target = await staging();
  const progress: number[] = [];
  await Promise.all([
    sendFiles(sender, (file) => join(dir, file.path), manifest),
    receiveFiles(receiver, manifest, target, { idleTimeoutMs: 5000, onProgress: (done) => progress.push(done) }),
  ]);
  assert.deepEqual(contentOnly(await treeDigest(target)), contentOnly(await treeDigest(dir, { skipLocks: true })));
  assert.equal(progress.at(-1), manifest.totalBytes);
});

test('compressed files many blocks long arrive byte-identical, though the receiver reuses its block buffers', async () => {
  // Far more blocks than the receiver keeps buffers for (each block different), so buffers go round.
  const { dir, manifest } = await sampleManifest({ eventsBytes: 12 * 1024 * 1024, kind: 'source' }, { compressed: true });
  const { sender, receiver } = await pairedChannels();
  const target = await staging();
  // Like the history rewrite for unchanged lines: the parts written are views of the block.
  const passThrough = { push: (bytes: Uint8Array) => [bytes.subarray(0, 100), bytes.subarray(100)], finish: () => [] };
  await Promise.all([
    sendFiles(sender, (file) => join(dir, file.path), manifest),
    receiveFiles(receiver, manifest, target, { idleTimeoutMs: 5000, handlingOf: (file) => (file.path === 'events.jsonl' ? { rewriter: passThrough } : undefined) }),
  ]);
  assert.deepEqual(contentOnly(await treeDigest(target)), contentOnly(await treeDigest(dir, { skipLocks: true })));
});

test('a sink that lends the buffers its blocks are decoded into takes each over, and the file arrives byte-identical', async () => {
  const { dir, manifest } = await sampleManifest({ eventsBytes: 3 * 1024 * 1024, kind: 'source' }, { compressed: true });
  const { sender, receiver } = await pairedChannels();
  const target = await staging();
  const counts = { lent: 0, takenOver: 0 };
  const parts: Buffer[] = [];
  let lent: ArrayBuffer | undefined;
  // Like the history thread: the block's buffer is handed away whole, leaving the caller's view of it empty.
  const lending: FileSink = {
    decodeBuffer(bytes) {
      counts.lent++;
      const buffer = Buffer.alloc(bytes);
      lent = buffer.buffer as ArrayBuffer;
      return buffer;
    },
    async write(bytes, released) {
      if (bytes.buffer === lent) counts.takenOver++;
      parts.push(Buffer.from(bytes));
      structuredClone(bytes, { transfer: [bytes.buffer as ArrayBuffer] });
      released();
    },
    close: () => writeFile(join(target, 'events.jsonl'), Buffer.concat(parts)),
    destroy: async () => undefined,
  };
  await Promise.all([
    sendFiles(sender, (file) => join(dir, file.path), manifest),
    receiveFiles(receiver, manifest, target, { idleTimeoutMs: 5000, handlingOf: (file) => (file.path === 'events.jsonl' ? { sink: lending } : undefined) }),
  ]);
  assert.deepEqual(contentOnly(await treeDigest(target)), contentOnly(await treeDigest(dir, { skipLocks: true })));
  assert.ok(counts.lent >= 12, `${counts.lent} blocks decoded into lent buffers`);
  assert.equal(counts.takenOver, counts.lent);
});

/** A sender that follows the pairing but then sends what it likes. */
async function hostileTransfer(manifest: Manifest, script: (send: (kind: number, body: Uint8Array, final?: boolean) => Promise<void>) => Promise<void>): Promise<unknown> {
  const { sender, receiver } = await pairedChannels();
  const target = await staging();
  const received = receiveFiles(receiver, manifest, target, { idleTimeoutMs: 2000 });
  received.catch(() => undefined);
  await script((kind, body, final) => sender.send(kind, body, final)).catch(() => undefined);
  return received.then(
    () => null,
    (error: unknown) => error,
  );
}

const oneFile = (content: Buffer): Manifest =>
  validateSessionManifest(
    {
      format: MANIFEST_FORMAT,
      sessionId: '11111111-2222-4333-8444-555555555555',
      source: { hostname: 'h', platform: 'linux' },
      directories: [],
      files: [{ path: 'events.jsonl', size: content.length, mode: 0o600, sha256: createHash('sha256').update(content).digest('hex') }],
      totalBytes: content.length,
    },
    DEFAULT_LIMITS,
  );

test('a sender whose bytes do not match the manifest hash is refused', async () => {
  const manifest = oneFile(Buffer.from('promised content'));
  const error = await hostileTransfer(manifest, async (send) => {
    await send(MessageKind.Data, Buffer.from('delivered other!'));
    await send(MessageKind.End, new Uint8Array(0), true);
  });
  assert.match(String((error as Error).message), /does not match its SHA-256/);
});

test('a stream that ends early, comes in pieces of the wrong size, carries extra data, or is cut is refused', async () => {
  const content = Buffer.from('0123456789');
  const early = await hostileTransfer(oneFile(content), async (send) => {
    await send(MessageKind.End, new Uint8Array(0), true);
  });
  assert.match(String((early as Error).message), /ended before every file arrived/);

  const short = await hostileTransfer(oneFile(content), async (send) => {
    await send(MessageKind.Data, content.subarray(0, 4));
    await send(MessageKind.Data, content.subarray(4));
    await send(MessageKind.End, new Uint8Array(0), true);
  });
  assert.match(String((short as Error).message), /cut "events\.jsonl" into pieces of the wrong size \(4 bytes where 10 were due\)/);

  const extra = await hostileTransfer(oneFile(content), async (send) => {
    await send(MessageKind.Data, Buffer.concat([content, Buffer.from('more')]));
  });
  assert.match(String((extra as Error).message), /more data than its manifest announced/);

  const long = Buffer.alloc(DATA_CHUNK_BYTES + 10, 0x61);
  const cut = await hostileTransfer(oneFile(long), async (send) => {
    await send(MessageKind.Data, long.subarray(0, DATA_CHUNK_BYTES));
    throw new Error('sender disappears');
  });
  assert.match(String((cut as Error).message), /sent nothing|closed/);

  const unexpected = await hostileTransfer(oneFile(content), async (send) => {
    await send(MessageKind.Offer, Buffer.from('{}'));
  });
  assert.match(String((unexpected as Error).message), /broke the protocol/);
});

test('a file that changes while it is sent stops the stream, naming the file, before END', async () => {
  const { dir, manifest } = await sampleManifest();
  await appendFile(join(dir, 'plan.md'), 'edited after the manifest was made\n');
  assert.equal((await sendUntilStopped(dir, manifest)).path, 'plan.md');
});

test('a file that shrinks while it is sent stops the stream before its short end goes out', async () => {
  const { dir, manifest } = await sampleManifest();
  const events = manifest.files.find((file) => file.path === 'events.jsonl')!;
  assert.ok(events.size > 2 * DATA_CHUNK_BYTES);
  await truncate(join(dir, 'events.jsonl'), DATA_CHUNK_BYTES + 100);
  // The receiver sees the connection close, not a message of the wrong size.
  assert.equal((await sendUntilStopped(dir, manifest)).path, 'events.jsonl');
});

test('compressed on the compression thread, files arrive byte-identical', async () => {
  const { dir, manifest } = await sampleManifest({ eventsBytes: 3 * 1024 * 1024, kind: 'source' }, { compressed: true });
  const { sender, receiver } = await pairedChannels();
  const target = await staging();
  const compression = new CompressionThread();
  try {
    await Promise.all([
      sendFiles(sender, (file) => join(dir, file.path), manifest, { compression }),
      receiveFiles(receiver, manifest, target, { idleTimeoutMs: 5000 }),
    ]);
  } finally {
    await compression.close();
  }
  assert.deepEqual(contentOnly(await treeDigest(target)), contentOnly(await treeDigest(dir, { skipLocks: true })));
});

test('each compressed body is released once it is sealed: the sending thread compresses into a few buffers, over and over', async () => {
  const { dir, manifest } = await sampleManifest({ eventsBytes: 6 * 1024 * 1024, kind: 'source' }, { compressed: true });
  const { sender, receiver } = await pairedChannels();
  const target = await staging();
  const inline = new InlineCompression();
  const buffers = new Set<ArrayBufferLike>();
  const counts = { compressed: 0, released: 0 };
  const compression: BlockCompression = {
    idle: inline.idle,
    compress: async (block, level, fresh, lastOfFile) => {
      const body = await inline.compress(block, level, fresh, lastOfFile);
      counts.compressed++;
      buffers.add(body.buffer);
      return body;
    },
    release: (body) => {
      counts.released++;
      inline.release(body);
    },
    close: () => inline.close(),
  };
  await Promise.all([
    sendFiles(sender, (file) => join(dir, file.path), manifest, { compression }),
    receiveFiles(receiver, manifest, target, { idleTimeoutMs: 5000 }),
  ]);
  assert.ok(counts.compressed >= 24, `${counts.compressed} blocks compressed`);
  assert.equal(counts.released, counts.compressed);
  assert.ok(buffers.size <= BLOCKS_AHEAD + 2, `${buffers.size} buffers for ${counts.compressed} bodies`);
  assert.deepEqual(contentOnly(await treeDigest(target)), contentOnly(await treeDigest(dir, { skipLocks: true })));
});

for (const [kind, floor] of [
  ['source', ZSTD_DEFAULT_RUNG],
  ['compressible', MIN_LEVEL],
] as const) {
  test(`a long beam of ${kind} history never compresses below level ${floor} once a block holds a sample`, async () => {
    const { dir, manifest } = await sampleManifest({ eventsBytes: 10 * 1024 * 1024, kind, seed: 'floor' }, { compressed: true });
    const { sender, receiver } = await pairedChannels();
    const target = await staging();
    const inline = new InlineCompression();
    const levels: { bytes: number; level: number }[] = [];
    const compression: BlockCompression = {
      idle: inline.idle,
      compress: (block, level, fresh, lastOfFile) => {
        levels.push({ bytes: block.length, level });
        return inline.compress(block, level, fresh, lastOfFile);
      },
      release: (body) => inline.release(body),
      close: () => inline.close(),
    };
    await Promise.all([
      sendFiles(sender, (file) => join(dir, file.path), manifest, { compression }),
      receiveFiles(receiver, manifest, target, { idleTimeoutMs: 5000 }),
    ]);
    const first = levels.findIndex((block) => block.bytes >= FLOOR_SAMPLE_BYTES);
    assert.ok(first >= 0 && levels.length - first >= 40, `${levels.length} blocks, the first that holds a sample at ${first}`);
    assert.equal(levels[first]!.level, floor, 'the first block that holds a sample is compressed at the floor it set');
    const below = levels.slice(first).filter((block) => block.level < floor);
    assert.deepEqual(below, [], 'no block after it below the floor');
    assert.deepEqual(contentOnly(await treeDigest(target)), contentOnly(await treeDigest(dir, { skipLocks: true })));
  });
}

for (const where of ['sending thread', 'compression thread'] as const) {
  test(`a compressed file that shrinks stops the stream, though blocks were being compressed ahead (${where})`, async () => {
    const { dir, manifest } = await sampleManifest({ eventsBytes: 12 * 1024 * 1024, kind: 'source' }, { compressed: true });
    await truncate(join(dir, 'events.jsonl'), 5 * COMPRESSED_CHUNK_BYTES + 100);
    const compression = where === 'sending thread' ? undefined : new CompressionThread();
    try {
      assert.equal((await sendUntilStopped(dir, manifest, { compression })).path, 'events.jsonl');
    } finally {
      await compression?.close();
    }
  });
}

/**
 * Sends the manifest's files from `dir` to a receiver and returns the SourceChangedError that must
 * stop the stream. The choreography above tells the receiver why; here the channel just ends
 * without an END, which the receiver must take as a cut.
 */
async function sendUntilStopped(dir: string, manifest: Manifest, options: SendOptions = {}): Promise<SourceChangedError> {
  const { sender, receiver } = await pairedChannels();
  const received = receiveFiles(receiver, manifest, await staging(), { idleTimeoutMs: 5000 });
  received.catch(() => undefined);
  const stopped = await sendFiles(sender, (file) => join(dir, file.path), manifest, options).then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(stopped instanceof SourceChangedError, String(stopped));
  sender.close();
  await assert.rejects(received, /closed the connection/);
  return stopped;
}

/** The identities the sender records for the manifest's files, as its secret scan reads them. */
async function identitiesOf(dir: string, manifest: Manifest): Promise<Map<string, FileIdentity>> {
  const { hashes } = await scanForSecrets(dir, manifest.files, undefined, { hash: true });
  return new Map([...hashes].flatMap(([path, read]) => (read.identity ? [[path, read.identity] as const] : [])));
}

/** Files written a moment ago are "racy" and get no identity: these are dated ten seconds back. */
async function ageFiles(dir: string, manifest: Manifest): Promise<void> {
  const past = new Date(Date.now() - 10_000);
  for (const file of manifest.files) await utimes(join(dir, file.path), past, past);
}

test('a file written within the last second gets no identity, so it is hashed again as it is sent', async () => {
  const { dir, manifest } = await sampleManifest();
  await ageFiles(dir, manifest);
  await utimes(join(dir, 'plan.md'), new Date(), new Date());
  const identities = await identitiesOf(dir, manifest);
  assert.equal(identities.has('plan.md'), false);
  assert.equal(identities.size, manifest.files.length - 1);
});

test('a file whose identity changed since it was hashed stops the stream without reading it again (a touch suffices)', async () => {
  const { dir, manifest } = await sampleManifest();
  await ageFiles(dir, manifest);
  const identities = await identitiesOf(dir, manifest);
  assert.equal(identities.size, manifest.files.length, 'every file held still while it was hashed');
  // Same bytes, new times: only the identity check can see this (a second hash would not). The
  // time is set, not left to the clock, whose ticks are coarser than a fast test.
  await utimes(join(dir, 'plan.md'), new Date(), new Date(Date.now() + 5000));
  const stopped = await sendUntilStopped(dir, manifest, { identityOf: (file) => identities.get(file.path) });
  assert.equal(stopped.path, 'plan.md');
});

test('files unchanged since they were hashed travel on their identity, and arrive verified', async () => {
  const { dir, manifest } = await sampleManifest();
  await ageFiles(dir, manifest);
  const identities = await identitiesOf(dir, manifest);
  assert.equal(identities.size, manifest.files.length);
  const { sender, receiver } = await pairedChannels();
  const target = await staging();
  await Promise.all([
    receiveFiles(receiver, manifest, target, { idleTimeoutMs: 5000 }),
    sendFiles(sender, (file) => join(dir, file.path), manifest, { identityOf: (file) => identities.get(file.path) }),
  ]);
  for (const file of manifest.files) assert.deepEqual(await readFile(join(target, file.path)), await readFile(join(dir, file.path)));
});

test('files are written owner-only', async () => {
  const content = Buffer.from('x');
  const manifest = oneFile(content);
  const { sender, receiver } = await pairedChannels();
  const target = await staging();
  await Promise.all([
    (async () => {
      await sender.send(MessageKind.Data, content);
      await sender.send(MessageKind.End, new Uint8Array(0), true);
    })(),
    receiveFiles(receiver, manifest, target, { idleTimeoutMs: 2000 }),
  ]);
  const digest = await treeDigest(target);
  assert.match(digest.get('events.jsonl') ?? '', /^600 /);
  assert.deepEqual(await readdir(target), ['events.jsonl']);
});

const MiB = 1024 * 1024;
/** Polls without a message before the receiver takes the sender to be waiting for credit. */
const QUIET_POLLS = 3;
const QUIET_POLL_MS = 10;

/** An incompressible session with this many bytes of backups, and its manifest. */
async function windowSetup(name: string, binaryBytes: number): Promise<{ manifest: Manifest; dir: string }> {
  const home = await tempDir(name);
  // Incompressible, so DATA bytes on the wire equal file bytes.
  const { id, dir } = await createSampleSession({ copilotHome: home, eventsBytes: 1024, binaryBytes });
  const scanned = await scanSessionFolder(dir);
  const manifest = validateSessionManifest(
    {
      format: MANIFEST_FORMAT,
      sessionId: id,
      source: { hostname: 'laptop', platform: 'linux' },
      directories: scanned.directories,
      files: scanned.files,
      totalBytes: scanned.files.reduce((sum, file) => sum + file.size, 0),
    },
    DEFAULT_LIMITS,
  );
  return { manifest, dir };
}

/**
 * Takes DATA off the wire in rounds, as a link whose round trip exceeds the window would deliver
 * it: once nothing has arrived for a while (the sender waits for credit), it grants what it owes,
 * 1 MiB per credit with the given idle share, until it has granted `grantBytes`; then it grants
 * nothing more. Resolves with the DATA bytes that arrived, once the sender has given up.
 */
async function receiveInRounds(receiver: SecureChannel, sending: Promise<unknown>, grantBytes: number, receiverIdle: number): Promise<number> {
  let settled = false;
  sending.then(
    () => (settled = true),
    () => (settled = true),
  );
  let dataBytes = 0;
  let owed = 0;
  let granted = 0;
  let quiet = 0;
  const take = async (): Promise<void> => {
    const message = await receiver.receive(5000);
    if (message.kind !== MessageKind.Data) return;
    dataBytes += message.body.length;
    owed += message.body.length;
  };
  while (!settled) {
    if (receiver.hasQueued) {
      await take();
      quiet = 0;
      continue;
    }
    await delay(QUIET_POLL_MS);
    if (++quiet < QUIET_POLLS) continue;
    for (; owed >= MiB && granted < grantBytes; owed -= MiB, granted += MiB) {
      await receiver.send(MessageKind.Credit, encodeCredit({ bytes: MiB, receiverIdle }));
    }
    quiet = 0;
  }
  while (receiver.hasQueued) await take();
  return dataBytes;
}

test('flow control: a sender never gets more than the window ahead of a receiver that stops consuming', async () => {
  const { manifest, dir } = await windowSetup('window', 3 * FIRST_WINDOW_BYTES);
  const { sender, receiver } = await pairedChannels();
  const sending = sendFiles(sender, (file) => join(dir, file.path), manifest, { creditTimeoutMs: 1500 });
  // The receiver takes messages off the wire but grants no credit.
  const dataBytes = await receiveInRounds(receiver, sending, 0, 0);
  await assert.rejects(sending, /the receiver sent nothing for 2 s/);
  receiver.close();
  assert.ok(dataBytes > FIRST_WINDOW_BYTES / 2, `some data flowed (${dataBytes})`);
  assert.ok(dataBytes <= FIRST_WINDOW_BYTES + DATA_CHUNK_BYTES, `at most the first window was sent without credit (${dataBytes})`);
});

for (const [what, receiverIdle, grows] of [
  ['a receiver starved by the window (idle while it waits) lets it grow', 1, true],
  ['a busy receiver keeps the window where it started', 0, false],
] as const) {
  test(`flow control: ${what}`, async () => {
    const granted = 24 * MiB;
    const { manifest, dir } = await windowSetup('window-grows', granted + WINDOW_BYTES + 2 * DATA_CHUNK_BYTES);
    const { sender, receiver } = await pairedChannels();
    const sending = sendFiles(sender, (file) => join(dir, file.path), manifest, { creditTimeoutMs: 1500 });
    const dataBytes = await receiveInRounds(receiver, sending, granted, receiverIdle);
    await assert.rejects(sending, /the receiver sent nothing for 2 s/);
    receiver.close();
    const firstWindowAhead = granted + FIRST_WINDOW_BYTES + DATA_CHUNK_BYTES;
    if (grows) assert.ok(dataBytes > firstWindowAhead, `the sender went beyond its first window (${dataBytes})`);
    else assert.ok(dataBytes <= firstWindowAhead, `the sender kept to its first window (${dataBytes})`);
    assert.ok(dataBytes <= granted + WINDOW_BYTES + DATA_CHUNK_BYTES, `never more than the largest window (${dataBytes})`);
  });
}
