import HyperDHT from 'hyperdht';
import Hyperswarm, { type PeerDiscovery } from 'hyperswarm';
import { BeamError } from '../errors.js';
import { allLoopback, describeNodes, publicBootstrapNodes, type BootstrapNode } from './bootstrap.js';
import { PeerAnswers } from './peer-answers.js';
import type { PeerHandle, PeerSocket, PeerSwarm } from './rendezvous.js';

export interface SwarmOptions {
  /** Undefined means hyperdht's public bootstrap nodes. */
  readonly bootstrap?: readonly BootstrapNode[];
  /** How long to wait for any bootstrap node to answer before calling the DHT unreachable. */
  readonly reachabilityTimeoutMs?: number;
  /** A blind relay's public key: every connection goes through it (and upgrades to direct when it can). */
  readonly relay?: Uint8Array;
}

/** Discovery refreshes only every few minutes by default; a receiver polls until it connects. */
const LOOKUP_REFRESH_MS = 500;
const DEFAULT_REACHABILITY_TIMEOUT_MS = 8000;
const DESTROY_GRACE_MS = 2000;

/**
 * A DHT whose bootstrap nodes are all on loopback is a one-machine network (a testnet, or a
 * private node for tests). Bound to 0.0.0.0 it offers addresses loopback peers cannot reach; left
 * "firewalled" it holepunches between two loopback sockets, which we measured failing about half
 * the time (the client sees a connection, the server never does). Neither applies on loopback.
 */
const LOOPBACK_DHT = { host: '127.0.0.1', firewalled: false } as const;

/** The DHT options for these bootstrap nodes: the loopback settings above when they all are. */
export function dhtOptionsFor(nodes: readonly BootstrapNode[]): { host?: string; firewalled?: boolean } {
  return allLoopback(nodes) ? LOOPBACK_DHT : {};
}

/** hyperdht, watched: how each attempt to reach a peer ends tells a departed peer from an unreachable one. */
class WatchedDHT extends HyperDHT {
  answers = new PeerAnswers();

  override connect(publicKey: Uint8Array, options?: object): ReturnType<HyperDHT['connect']> {
    const socket = super.connect(publicKey, options);
    const peer = Buffer.from(publicKey).toString('hex');
    socket.once('open', () => this.answers.opened(peer));
    socket.on('error', (error: unknown) => this.answers.failed(peer, error));
    return socket;
  }
}

/**
 * A Hyperswarm for exactly one rendezvous: the sender announces the topic, the receiver looks it
 * up, and once a peer has proven the code, `lock()` turns every other peer away.
 */
export class BeamSwarm implements PeerSwarm {
  private locked = false;
  private discovery: PeerDiscovery | undefined;
  private topic: Uint8Array | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private destroyed = false;
  private destroying: Promise<void> | undefined;
  private markClosed: () => void = () => undefined;
  /** Resolves when destroy() starts, so waits on this swarm can end. */
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  private constructor(
    readonly swarm: Hyperswarm,
    private readonly answers: PeerAnswers,
  ) {}

  static async open(options: SwarmOptions): Promise<BeamSwarm> {
    const nodes = options.bootstrap ?? publicBootstrapNodes();
    const dht = new WatchedDHT({
      bootstrap: nodes.map((node) => ({ host: node.host, port: node.port })),
      ...dhtOptionsFor(nodes),
    });
    let beam: BeamSwarm | undefined;
    const relay = options.relay;
    if (relay) dht.answers = new PeerAnswers(new Set([Buffer.from(relay).toString('hex')]));
    // Always, not only after a failed holepunch: when UDP between the peers is blocked, the
    // direct attempt would cost a long timeout first, and either side alone may name the relay.
    const swarm = new Hyperswarm({ dht, firewall: () => beam?.locked ?? false, ...(relay ? { relayThrough: () => relay } : {}) });
    beam = new BeamSwarm(swarm, dht.answers);
    try {
      await ensureReachable(dht, nodes, options.reachabilityTimeoutMs ?? DEFAULT_REACHABILITY_TIMEOUT_MS);
    } catch (error) {
      await beam.destroy();
      throw error;
    }
    return beam;
  }

  /** Peers the DHT has told us about on our topic, connected or not. */
  get discoveredPeers(): number {
    return this.swarm.peers.size;
  }

  foundOnlySilentPeers(times: number): boolean {
    return this.answers.onlySilentPeers(this.swarm.peers.keys(), times);
  }

  onConnection(handler: (socket: PeerSocket, peer: PeerHandle) => void): void {
    this.swarm.on('connection', handler);
  }

  /** Resolves once the announce has reached the DHT: only then may the code be shown. */
  async announce(topic: Uint8Array): Promise<void> {
    this.topic = topic;
    this.discovery = this.swarm.join(topic, { server: true, client: false });
    const flushed = await this.discovery.flushed();
    if (!flushed && !this.destroyed) {
      throw new BeamError('network', 'could not announce on the DHT: no DHT node accepted the announcement');
    }
  }

  lookup(topic: Uint8Array): void {
    this.topic = topic;
    this.discovery = this.swarm.join(topic, { server: false, client: true });
    const refresh = (): void => {
      this.discovery?.refresh({ client: true, server: false }).catch(() => undefined);
    };
    this.refreshTimer = setInterval(refresh, LOOKUP_REFRESH_MS);
  }

  /** Stops discovery and refuses every further peer: the code is single use. */
  async lock(): Promise<void> {
    this.locked = true;
    this.stopRefreshing();
    if (this.topic && !this.destroyed) await this.swarm.leave(this.topic).catch(() => undefined);
  }

  /** Every caller waits for the same teardown (the first call starts it). */
  destroy(): Promise<void> {
    this.destroying ??= this.tearDown();
    return this.destroying;
  }

  private async tearDown(): Promise<void> {
    this.destroyed = true;
    this.locked = true;
    this.markClosed();
    this.stopRefreshing();
    for (const socket of this.swarm.connections) socket.destroy();
    // A graceful destroy also stops discovery (a forced one leaves its timers running, and the
    // process alive); it unannounces over the network, so it gets a bounded time.
    let timer: NodeJS.Timeout | undefined;
    const graceful = this.swarm.destroy().then(
      () => true,
      () => true,
    );
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), DESTROY_GRACE_MS)));
    const finished = await Promise.race([graceful, timedOut]);
    clearTimeout(timer);
    if (!finished) await this.swarm.destroy({ force: true }).catch(() => undefined);
  }

  private stopRefreshing(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }
}

/**
 * With no reachable bootstrap node hyperdht stays silent for tens of seconds; pinging the
 * bootstrap nodes ourselves turns that into a clear error within seconds.
 */
async function ensureReachable(dht: HyperDHT, nodes: readonly BootstrapNode[], timeoutMs: number): Promise<void> {
  const pings = nodes.map((node) => dht.ping({ host: node.host, port: node.port }));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.any(pings).then(() => 'ok' as const), timeout]);
    if (result === 'ok') return;
  } catch {
    // every ping failed: fall through to the error
  } finally {
    clearTimeout(timer);
    for (const ping of pings) ping.catch(() => undefined);
  }
  throw new BeamError(
    'network',
    `DHT unreachable: no bootstrap node answered (${describeNodes(nodes)}); check the network, UDP, or --bootstrap`,
  );
}
