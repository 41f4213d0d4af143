import { stat } from 'node:fs/promises';
import { BeamError } from '../errors.js';
import { listSessionIds } from '../session/find.js';
import { copilotHome } from '../session/home.js';
import { installedCopilotVersion } from '../session/copilot-version.js';
import { describeNodes, publicBootstrapNodes, resolveBootstrap } from '../transport/bootstrap.js';
import { BeamSwarm } from '../transport/swarm.js';
import type { CommandContext } from './context.js';

export interface DoctorOptions {
  readonly bootstrap?: string;
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

  let dht: { reachable: boolean; firewalled?: boolean; randomizedNat?: boolean; error?: string };
  try {
    const swarm = await BeamSwarm.open(bootstrap ? { bootstrap } : {});
    try {
      await swarm.swarm.dht.fullyBootstrapped();
      const node = swarm.swarm.dht as unknown as { firewalled: boolean; randomized?: boolean };
      dht = { reachable: true, firewalled: node.firewalled, randomizedNat: Boolean(node.randomized) };
    } finally {
      await swarm.destroy();
    }
  } catch (error) {
    dht = { reachable: false, error: error instanceof Error ? error.message : String(error) };
  }

  const lines = [
    `Copilot home   ${home} ${homeExists ? `(${sessions} sessions)` : '(not found: set COPILOT_HOME, or run copilot once)'}`,
    `copilot        ${copilot ?? 'not found on PATH (needed to resume a received session)'}`,
    `DHT bootstrap  ${describeNodes(nodes)}: ${dht.reachable ? 'reachable' : `UNREACHABLE (${dht.error})`}`,
    ...(dht.reachable
      ? [
          `firewalled     ${dht.firewalled ? 'yes: peers cannot dial in; holepunching is needed' : 'no: peers can connect directly'}`,
          `NAT            ${dht.randomizedNat ? 'randomizes ports: two such NATs cannot holepunch (try another network)' : 'consistent ports: holepunching can work'}`,
        ]
      : []),
  ];
  ui.result('doctor', { copilotHome: home, homeExists, sessions, copilotVersion: copilot ?? null, bootstrap: describeNodes(nodes), dht }, lines);
  if (!dht.reachable) throw new BeamError('network', 'the DHT is unreachable from here: check the network and UDP, or use --bootstrap');
}
