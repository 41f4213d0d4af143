import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { PeerHandle, PeerSocket, PeerSwarm } from '../../src/transport/rendezvous.js';
import { duplexPair } from './duplex-pair.js';

type ConnectionHandler = (socket: PeerSocket, peer: PeerHandle) => void;

const LOOKUP_RETRY_MS = 10;

/**
 * A one-process stand-in for the DHT: swarms announce topics in a shared map, and a lookup
 * connects to the announcer with an in-memory stream pair that carries the Noise facts the
 * pairing binds to (random keys, one shared handshake hash). Everything above the swarm, the
 * rendezvous, PAKE, sealed channel and both choreographies, runs for real.
 */
export class MemoryNetwork {
  readonly announced = new Map<string, MemorySwarm>();
  readonly swarms: MemorySwarm[] = [];

  /** Opens a swarm on this network; `gate` holds back its announcement until it resolves. */
  open(options: { readonly announceGate?: Promise<void> } = {}): Promise<PeerSwarm> {
    const swarm = new MemorySwarm(this, options.announceGate);
    this.swarms.push(swarm);
    return Promise.resolve(swarm);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.swarms.map((swarm) => swarm.destroy()));
  }
}

class MemorySwarm implements PeerSwarm {
  private readonly handlers: ConnectionHandler[] = [];
  private readonly sockets: Duplex[] = [];
  private readonly publicKey = randomBytes(32);
  private locked = false;
  private destroyed = false;
  private topic: string | undefined;
  private retry: NodeJS.Timeout | undefined;
  private markClosed: () => void = () => undefined;
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));
  discoveredPeers = 0;

  constructor(
    private readonly network: MemoryNetwork,
    private readonly announceGate: Promise<void> | undefined,
  ) {}

  /** Every peer here answers: no announcement outlives its swarm. */
  foundOnlySilentPeers(): boolean {
    return false;
  }

  onConnection(handler: ConnectionHandler): void {
    this.handlers.push(handler);
  }

  async announce(topic: Uint8Array): Promise<void> {
    await this.announceGate;
    this.topic = Buffer.from(topic).toString('hex');
    if (!this.destroyed) this.network.announced.set(this.topic, this);
  }

  lookup(topic: Uint8Array): void {
    this.topic = Buffer.from(topic).toString('hex');
    const attempt = (): void => {
      if (this.locked || this.destroyed) return;
      const host = this.network.announced.get(this.topic!);
      if (host && !host.locked) {
        this.discoveredPeers++;
        this.connectTo(host);
        return;
      }
      this.retry = setTimeout(attempt, LOOKUP_RETRY_MS);
    };
    attempt();
  }

  async lock(): Promise<void> {
    this.locked = true;
    clearTimeout(this.retry);
    if (this.topic && this.network.announced.get(this.topic) === this) this.network.announced.delete(this.topic);
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.lock();
    this.markClosed();
    for (const socket of this.sockets) socket.destroy();
  }

  private connectTo(host: MemorySwarm): void {
    const [hostSide, clientSide] = duplexPair();
    const handshakeHash = randomBytes(64);
    const hostSocket = Object.assign(hostSide, { publicKey: host.publicKey, remotePublicKey: this.publicKey, handshakeHash });
    const clientSocket = Object.assign(clientSide, { publicKey: this.publicKey, remotePublicKey: host.publicKey, handshakeHash });
    host.sockets.push(hostSide);
    this.sockets.push(clientSide);
    const ignoreBans: PeerHandle = { ban: () => undefined };
    for (const handler of host.handlers) handler(hostSocket, ignoreBans);
    for (const handler of this.handlers) handler(clientSocket, ignoreBans);
  }
}
