// hyperswarm and hyperdht ship no TypeScript types: these declare only the parts copilot-beam uses.

declare module 'hyperdht' {
  import { EventEmitter } from 'node:events';

  export interface DhtNodeAddress {
    host: string;
    port: number;
  }

  export interface DhtOptions {
    bootstrap?: Array<string | DhtNodeAddress>;
    host?: string;
    port?: number;
    ephemeral?: boolean;
    firewalled?: boolean;
  }

  export interface KeyPair {
    publicKey: Uint8Array;
    secretKey: Uint8Array;
  }

  export interface DhtServer extends EventEmitter {
    listen(keyPair: KeyPair): Promise<void>;
    close(): Promise<void>;
    readonly publicKey: Uint8Array;
  }

  export default class HyperDHT extends EventEmitter {
    static BOOTSTRAP: string[];
    /** A node that needs no other node to start: host and port are what others reach it at. */
    static bootstrapper(port: number, host: string, options?: DhtOptions): HyperDHT;
    static keyPair(seed?: Uint8Array): KeyPair;
    constructor(options?: DhtOptions);
    readonly host: string | null;
    readonly port: number;
    createServer(onconnection: (socket: EventEmitter & { remotePublicKey: Uint8Array }) => void): DhtServer;
    /** A Noise connection to the peer listening on that public key ('open' or 'error'). */
    connect(publicKey: Uint8Array, options?: object): EventEmitter & { destroy(error?: Error): void };
    createRawStream(options?: object): unknown;
    readonly destroyed: boolean;
    readonly firewalled: boolean;
    ready(): Promise<void>;
    fullyBootstrapped(): Promise<void>;
    ping(node: DhtNodeAddress, options?: { retry?: boolean }): Promise<unknown>;
    address(): { host: string; port: number };
    toArray(): DhtNodeAddress[];
    destroy(options?: { force?: boolean }): Promise<void>;
  }
}

declare module 'hyperdht/testnet.js' {
  import HyperDHT, { DhtNodeAddress } from 'hyperdht';

  export interface Testnet {
    nodes: HyperDHT[];
    bootstrap: DhtNodeAddress[];
    createNode(options?: object): HyperDHT;
    destroy(): Promise<void>;
  }

  export default function createTestnet(size?: number, options?: { host?: string; port?: number }): Promise<Testnet>;
}

declare module 'hyperswarm' {
  import { EventEmitter } from 'node:events';
  import HyperDHT from 'hyperdht';

  /** The encrypted Noise stream hyperswarm hands out (a streamx Duplex). */
  export interface NoiseSecretStream extends EventEmitter {
    readonly publicKey: Uint8Array;
    readonly remotePublicKey: Uint8Array;
    readonly handshakeHash: Uint8Array;
    readonly isInitiator: boolean;
    readonly destroyed: boolean;
    write(data: Uint8Array): boolean;
    end(): void;
    destroy(error?: Error): void;
    pause(): void;
    resume(): void;
  }

  export interface PeerInfo {
    readonly publicKey: Uint8Array;
    ban(value: boolean): void;
    reconnect(value: boolean): void;
  }

  export interface PeerDiscovery {
    flushed(): Promise<boolean>;
    refresh(options?: { client?: boolean; server?: boolean }): Promise<void>;
    destroy(): Promise<void>;
  }

  export interface SwarmOptions {
    dht?: HyperDHT;
    /** A blind relay's public key, or a function choosing one per connection (null: direct). */
    relayThrough?: Uint8Array | ((force: boolean) => Uint8Array | null);
    bootstrap?: Array<string | { host: string; port: number }>;
    firewall?: (remotePublicKey: Uint8Array, payload: unknown) => boolean;
    maxPeers?: number;
  }

  export default class Hyperswarm extends EventEmitter {
    constructor(options?: SwarmOptions);
    readonly dht: HyperDHT;
    readonly keyPair: { publicKey: Uint8Array; secretKey: Uint8Array };
    readonly connections: Set<NoiseSecretStream>;
    /** Every peer discovered on a joined topic, keyed by hex public key. */
    readonly peers: Map<string, PeerInfo>;
    readonly destroyed: boolean;
    join(topic: Uint8Array, options?: { server?: boolean; client?: boolean }): PeerDiscovery;
    leave(topic: Uint8Array): Promise<void>;
    flush(): Promise<void>;
    destroy(options?: { force?: boolean }): Promise<void>;
    on(event: 'connection', listener: (socket: NoiseSecretStream, info: PeerInfo) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}

declare module 'qrcode-terminal' {
  export function generate(text: string, options: { small?: boolean }, callback: (qr: string) => void): void;
}

declare module 'blind-relay' {
  import { EventEmitter } from 'node:events';

  /** A blind relay: pairs two peers by token and forwards their (already encrypted) UDX streams. */
  export class Server extends EventEmitter {
    constructor(options: { createStream: (options: object) => unknown });
    accept(stream: unknown, options?: { id?: Uint8Array }): EventEmitter;
    close(): Promise<void>;
  }
}
