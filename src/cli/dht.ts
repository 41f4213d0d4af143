import { networkInterfaces } from 'node:os';
import { BeamError } from '../errors.js';
import { startDhtNode } from '../transport/dht-node.js';
import type { CommandContext } from './context.js';
import { parsePort } from './options.js';

export interface DhtCommandOptions {
  readonly port: string;
  readonly host?: string;
  readonly nodes: string;
  readonly json?: boolean;
}

/** The first IPv4 address that is not loopback: what other machines on the network can reach. */
function defaultHost(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

function parseNodeCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new BeamError('usage', `--nodes must be a whole number from 1 to 16, not "${text}"`);
  return count;
}

/** `copilot-beam dht`: a bootstrap node for a private or air-gapped network, until Ctrl-C. */
export async function runDht(options: DhtCommandOptions, context: CommandContext): Promise<void> {
  const port = parsePort(options.port, '--port');
  const host = options.host ?? defaultHost();
  let node;
  try {
    node = await startDhtNode({ port, host, nodes: parseNodeCount(options.nodes) });
  } catch (error) {
    throw new BeamError('network', `cannot run a DHT node on ${host}:${port}: ${(error as Error).message} (is the port taken, or the address not this machine's?)`, {
      cause: error,
    });
  }
  context.cleanup.add(() => node.close());
  const address = `${host}:${node.port}`;
  context.ui.result('listening', { host, port: node.port, nodes: node.nodes }, [
    `DHT bootstrap node running on ${address} (UDP), with ${node.nodes - 1} more node(s) on the next port(s).`,
    '',
    'On every machine of this network, point copilot-beam at it:',
    `    export COPILOT_BEAM_BOOTSTRAP=${address}`,
    `    copilot-beam send --bootstrap ${address}`,
    '',
    'Keep it running; Ctrl-C stops it.',
  ]);
  await new Promise<never>(() => undefined); // the node's socket keeps the process alive until a signal
}
