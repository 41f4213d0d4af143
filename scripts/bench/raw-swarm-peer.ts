import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import b4a from 'b4a';
import { parseBootstrapList } from '../../src/transport/bootstrap.js';
import type { PeerSocket } from '../../src/transport/rendezvous.js';
import { BeamSwarm } from '../../src/transport/swarm.js';

/**
 * The ceiling for our transport: the same Hyperswarm setup copilot-beam uses (same DHT options,
 * same testnet), moving the same files as one plain byte stream over the Noise socket, with no
 * PAKE, framing, sealing, hashing or fsync of ours on top.
 *
 *   raw-swarm-peer send <bootstrap> <topic-hex> <file>...
 *   raw-swarm-peer receive <bootstrap> <topic-hex> <output-file>
 *
 * RAW_SWARM_IN_FLIGHT (bytes, default 1 MiB) is how much the sender lets the socket hold before
 * it waits for 'drain'; 0 waits after every write that returns false, which with the Noise
 * stream's 16 KiB high-water mark is every 64 KiB write.
 *
 * Prints JSON lines: {"event":"ready"} once announced, and from the receiver
 * {"event":"done","bytes":n,"seconds":s} timed from the first byte to the last one written.
 */
const [role, bootstrapText, topicHex, ...paths] = process.argv.slice(2);
if (!role || !bootstrapText || !topicHex || paths.length === 0) throw new Error('usage: raw-swarm-peer send|receive <bootstrap> <topic-hex> <file>...');
const topic = b4a.from(topicHex, 'hex');
const swarm = await BeamSwarm.open({ bootstrap: parseBootstrapList(bootstrapText) });
const print = (fields: object): void => void process.stdout.write(`${JSON.stringify(fields)}\n`);

const connected = new Promise<PeerSocket>((resolve) => swarm.onConnection((socket) => resolve(socket)));
if (role === 'send') {
  await swarm.announce(topic);
  print({ event: 'ready' });
  const socket = await connected;
  const inFlight = Number(process.env.RAW_SWARM_IN_FLIGHT ?? 1024 * 1024);
  // Counted as copilot-beam's FramedConnection counts it (the streamx socket has no writableLength):
  // bytes written since the socket last reported room, waiting for 'drain' past the window.
  let sinceDrain = 0;
  for (const path of paths) {
    for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
      if (socket.write(chunk as Buffer)) {
        sinceDrain = 0;
        continue;
      }
      sinceDrain += (chunk as Buffer).length;
      if (sinceDrain < inFlight) continue;
      await once(socket, 'drain');
      sinceDrain = 0;
    }
  }
  // The receiver tears its swarm down once the last byte is written: a reset then is the finish.
  socket.on('error', () => undefined);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.end();
  await closed;
} else {
  swarm.lookup(topic);
  const socket = await connected;
  await swarm.lock();
  const out = createWriteStream(paths[0]!);
  let first = 0;
  let bytes = 0;
  const ended = once(socket, 'end');
  socket.on('data', (chunk: Uint8Array) => {
    if (bytes === 0) first = performance.now();
    bytes += chunk.byteLength;
    if (!out.write(chunk)) {
      socket.pause();
      out.once('drain', () => socket.resume());
    }
  });
  await ended;
  out.end();
  await once(out, 'finish');
  print({ event: 'done', bytes, seconds: (performance.now() - first) / 1000 });
}
await swarm.destroy();
