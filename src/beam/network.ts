import { loadSodium, type Sodium } from '../crypto/sodium.js';
import { resolveBootstrap, type BootstrapNode } from '../transport/bootstrap.js';
export { BOOTSTRAP_ENV } from '../transport/bootstrap-env.js';
import { resolveRelay } from '../transport/relay-key.js';
import type { PeerSwarm } from '../transport/rendezvous.js';
import { BeamSwarm } from '../transport/swarm.js';
import type { Lifetime } from './lifetime.js';

/** How a beam reaches the other side. Everything is optional: the public DHT is the default. */
export interface NetworkSettings {
  /** DHT bootstrap nodes instead of hyperdht's public ones. */
  readonly bootstrap?: readonly BootstrapNode[];
  /** A blind relay's 32-byte public key: every connection goes through it. */
  readonly relay?: Uint8Array;
  /** Opens the swarm in place of Hyperswarm (tests use an in-memory one). */
  readonly openSwarm?: () => Promise<PeerSwarm>;
}

/** Network settings from the command line's texts, falling back to the environment's variables. */
export function networkSettings(texts: { readonly bootstrap?: string; readonly relay?: string }, env: NodeJS.ProcessEnv): NetworkSettings {
  const bootstrap = resolveBootstrap(texts.bootstrap, env);
  const relay = resolveRelay(texts.relay, env);
  return { ...(bootstrap ? { bootstrap } : {}), ...(relay ? { relay } : {}) };
}

/**
 * Starts joining the network for this beam: the swarm is destroyed when the beam ends, and at
 * once when it is cancelled (every wait on a connection then fails instead of hanging).
 */
export function joinNetwork(settings: NetworkSettings, lifetime: Lifetime): Promise<PeerSwarm> {
  const opening = (settings.openSwarm ?? (() => openHyperswarm(settings)))();
  let opened: PeerSwarm | undefined;
  // The beam may stop (a failed scan, Ctrl-C) before anyone awaits the join.
  opening.then((swarm) => (opened = swarm)).catch(() => undefined);
  const destroy = async (): Promise<void> => {
    if (opened) return opened.destroy();
    // Still joining (the DHT can take seconds to answer): nobody waits for that; it is torn
    // down as soon as it is up.
    void opening.then((swarm) => swarm.destroy()).catch(() => undefined);
  };
  lifetime.defer(destroy);
  lifetime.onAbort(destroy);
  return opening;
}

/** libsodium (for the PAKE) loads while the DHT is joined or the code shown; only the pairing needs it. */
export function sodiumForPairing(): Promise<Sodium> {
  const loading = loadSodium();
  // Awaited by the pairing, which may never start (no peer came).
  loading.catch(() => undefined);
  return loading;
}

function openHyperswarm(settings: NetworkSettings): Promise<PeerSwarm> {
  return BeamSwarm.open({ ...(settings.bootstrap ? { bootstrap: settings.bootstrap } : {}), ...(settings.relay ? { relay: settings.relay } : {}) });
}
