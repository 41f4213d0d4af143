import { stat } from 'node:fs/promises';
import { BeamError } from '../errors.js';
import { listSessionIds } from '../session/find.js';
import { copilotHome } from '../session/home.js';
import { installedCopilotVersion } from '../session/copilot-version.js';
import { describeNodes, publicBootstrapNodes, resolveBootstrap } from '../transport/bootstrap.js';
import { resolveRelay } from '../transport/relay-key.js';
import { BeamSwarm } from '../transport/swarm.js';
import type { CommandContext } from './context.js';

export interface DoctorOptions {
  readonly bootstrap?: string;
  readonly relay?: string;
}

const RELAY_CHECK_TIMEOUT_MS = 10_000;

/** Opens (and closes) a connection to the relay: proof that this side can use it. */
async function checkRelay(swarm: BeamSwarm, relay: Uint8Array): Promise<{ reachable: boolean; error?: string }> {
  const socket = swarm.swarm.dht.connect(relay);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise((resolve) => {
      timer = setTimeout(() => resolve({ reachable: false, error: `no answer within ${RELAY_CHECK_TIMEOUT_MS / 1000} s` }), RELAY_CHECK_TIMEOUT_MS);
      socket.once('open', () => resolve({ reachable: true }));
      socket.once('error', (error: Error) => resolve({ reachable: false, error: error.message }));
    });
  } finally {
    clearTimeout(timer);
    socket.on('error', () => undefined);
    socket.destroy();
  }
}

/** Checks what a beam needs on this machine and says what to do about what is missing. */
export async function runDoctor(options: DoctorOptions, context: CommandContext): Promise<void> {
  const { ui, env } = context;
  const home = copilotHome(env);
  const homeExists = (await stat(home).catch(() => undefined))?.isDirectory() ?? false;
  const sessions = homeExists ? (await listSessionIds(home)).length : 0;
  const copilot = await installedCopilotVersion(env);
  const bootstrap = resolveBootstrap(options.bootstrap, env);
  const nodes = bootstrap ?? publicBootstrapNodes();
  const relayKey = resolveRelay(options.relay, env);
  let relay: { reachable: boolean; error?: string } | undefined;

  let dht: { reachable: boolean; firewalled?: boolean; randomizedNat?: boolean; error?: string };
  try {
    const swarm = await BeamSwarm.open(bootstrap ? { bootstrap } : {});
    try {
      await swarm.swarm.dht.fullyBootstrapped();
      const node = swarm.swarm.dht as unknown as { firewalled: boolean; randomized?: boolean };
      dht = { reachable: true, firewalled: node.firewalled, randomizedNat: Boolean(node.randomized) };
      if (relayKey) relay = await checkRelay(swarm, relayKey);
    } finally {
      await swarm.destroy();
    }
  } catch (error) {
    dht = { reachable: false, error: error instanceof Error ? error.message : String(error) };
  }

  const lines = [
    `Copilot home   ${home} ${homeExists ? `(${sessions} session${sessions === 1 ? '' : 's'})` : '(not found: set COPILOT_HOME, or run copilot once)'}`,
    `copilot        ${copilot ?? 'not found on PATH (needed to resume a received session)'}`,
    `DHT bootstrap  ${describeNodes(nodes)}: ${dht.reachable ? 'reachable' : `UNREACHABLE (${dht.error})`}`,
    ...(dht.reachable
      ? [
          `firewalled     ${dht.firewalled ? 'yes: peers cannot dial in; holepunching is needed' : 'no: peers can connect directly'}`,
          `NAT            ${dht.randomizedNat ? 'randomizes ports: two such NATs cannot holepunch (use a relay, --relay, or another network)' : 'consistent ports: holepunching can work'}`,
        ]
      : []),
    ...(relayKey
      ? [`relay          ${relay?.reachable ? 'reachable: --relay will work from here' : `UNREACHABLE (${relay?.error ?? 'the DHT is unreachable'})`}`]
      : []),
  ];
  ui.result('doctor', { copilotHome: home, homeExists, sessions, copilotVersion: copilot ?? null, bootstrap: describeNodes(nodes), dht, relay: relay ?? null }, lines);
  if (!dht.reachable) throw new BeamError('network', 'the DHT is unreachable from here: check the network and UDP, or use --bootstrap');
  if (relayKey && !relay?.reachable) throw new BeamError('network', 'the relay is unreachable from here: check its key, that it runs, and that it uses the same DHT (--bootstrap)');
}
