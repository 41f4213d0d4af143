import { after, before } from 'node:test';
import type { Testnet } from 'hyperdht/testnet.js';
import { BeamSwarm, parseBootstrapList } from '../../src/transport/index.js';
import { startTestnet } from './e2e.js';

/**
 * A loopback DHT testnet for the tests of the current file or suite, and a way to open swarms on
 * it; every swarm and the testnet are destroyed when the tests end.
 */
export function useTestnetSwarms(): { open(): Promise<BeamSwarm> } {
  let testnet: Testnet | undefined;
  let bootstrap = '';
  const swarms: BeamSwarm[] = [];
  before(async () => {
    ({ testnet, bootstrap } = await startTestnet());
  });
  after(async () => {
    await Promise.all(swarms.map((swarm) => swarm.destroy()));
    await testnet?.destroy();
  });
  return {
    async open(): Promise<BeamSwarm> {
      const swarm = await BeamSwarm.open({ bootstrap: parseBootstrapList(bootstrap) });
      swarms.push(swarm);
      return swarm;
    },
  };
}
