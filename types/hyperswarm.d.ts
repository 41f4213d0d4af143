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

  export default class HyperDHT extends EventEmitter {
    static BOOTSTRAP: string[];
    constructor(options?: DhtOptions);
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
    bootstrap?: Array<string | { host: string; port: number }>;
    firewall?: (remotePublicKey: Uint8Array, payload: unknown) => boolean;
    maxPeers?: number;
  }

  export default class Hyperswarm extends EventEmitter {
    constructor(options?: SwarmOptions);
    readonly dht: HyperDHT;
    readonly keyPair: { publicKey: Uint8Array; secretKey: Uint8Array };
    readonly connections: Set<NoiseSecretStream>;
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
