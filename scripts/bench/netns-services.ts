import { startDhtNode } from '../../src/transport/dht-node.js';
import { startWormholeServices, type WormholeServices } from './wormhole-run.js';

/**
 * The services of a shaped-link run, started inside a network namespace (a Node process cannot
 * enter one, so the bench runs this with `ip netns exec <ns> node netns-services.js`):
 *
 *   netns-services <host> <work-folder> [wormhole]
 *
 * Three DHT nodes bound to <host> (what `copilot-beam dht` runs; the namespace tests use it too)
 * and, with `wormhole`, magic-wormhole's mailbox server and transit relay bound to <host>. Prints
 * one JSON line, {"bootstrap":"host:port","wormholeArgs":[...]}, once all of them listen, and
 * stops them when its stdin closes (so a bench that dies takes them with it) or on SIGTERM.
 */
const [host, work, withWormhole] = process.argv.slice(2);
/** The namespace is new, so the usual DHT port is free. */
const DHT_PORT = 49737;
if (!host || !work) throw new Error('usage: netns-services <host> <work-folder> [wormhole]');

// Not hyperdht/testnet.js: with its nodes here (they bind 0.0.0.0 once the host is not loopback)
// the receiver kept "looking" for the sender until it gave up, twice in two tries; with these
// nodes, bound to the namespace's address, the peers paired within 0.1 s.
const dht = await startDhtNode({ port: DHT_PORT, host, nodes: 3 });
let wormhole: WormholeServices | undefined;
const stop = async (): Promise<void> => {
  wormhole?.stop();
  await dht.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
try {
  if (withWormhole === 'wormhole') wormhole = await startWormholeServices(work, host);
} catch (error) {
  await dht.close();
  throw error;
}
const bootstrap = `${dht.host}:${dht.port}`;
process.stdout.write(`${JSON.stringify({ bootstrap, wormholeArgs: wormhole?.args ?? [] })}\n`);
