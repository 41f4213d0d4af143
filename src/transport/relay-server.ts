import { Server as BlindRelay } from 'blind-relay';
import HyperDHT, { type KeyPair } from 'hyperdht';
import type { BootstrapNode } from './bootstrap.js';
import { dhtOptionsFor } from './swarm.js';

/**
 * A blind relay (the `blind-relay` package, as hyperdht's relayThrough expects): two peers that
 * cannot reach each other directly both connect here and the relay splices their UDX streams.
 * What passes is the peers' Noise stream carrying copilot-beam's sealed stream, so the relay sees
 * sizes and timing, never a key or a byte of the session.
 */
export interface RunningRelay {
  readonly publicKey: Uint8Array;
  close(): Promise<void>;
}

export async function startRelay(options: { bootstrap?: readonly BootstrapNode[]; keyPair: KeyPair; host?: string; port?: number }): Promise<RunningRelay> {
  const dht = new HyperDHT({
    ...(options.bootstrap ? { bootstrap: options.bootstrap.map((node) => ({ host: node.host, port: node.port })), ...dhtOptionsFor(options.bootstrap) } : {}),
    ...(options.host ? { host: options.host } : {}),
    ...(options.port ? { port: options.port } : {}),
  });
  const relay = new BlindRelay({ createStream: (streamOptions) => dht.createRawStream({ ...streamOptions, framed: true }) });
  const server = dht.createServer((socket) => {
    const session = relay.accept(socket, { id: socket.remotePublicKey });
    session.on('error', () => undefined); // a peer that vanishes mid-pairing is routine here
    socket.on('error', () => undefined);
  });
  try {
    await server.listen(options.keyPair);
  } catch (error) {
    await dht.destroy();
    throw error;
  }
  return {
    publicKey: options.keyPair.publicKey,
    close: async () => {
      await relay.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      await dht.destroy();
    },
  };
}
