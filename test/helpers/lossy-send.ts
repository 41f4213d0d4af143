import { createHash } from 'node:crypto';
import createTestnet from 'hyperdht/testnet.js';
import { parseCode } from '../../src/code/index.js';
import { loadSodium } from '../../src/crypto/index.js';
import { BeamSwarm, parseBootstrapList, rendezvous } from '../../src/transport/index.js';

/**
 * Run by test/send-buffers.test.ts inside a network namespace whose loopback drops some large
 * UDP packets: a testnet, two swarms, one paired channel, and `count` messages of large, varied
 * content sent and checked one by one. Prints one JSON line: how many arrived intact, and what
 * the sender's send buffers made and got back.
 */
const count = Number(process.argv[2] ?? 200);

export function lossyMessage(index: number): Buffer {
  const size = index % 3 === 0 ? 64 * 1024 : 5000 + ((index * 7919) % 250_000);
  const bytes = Buffer.alloc(size);
  for (let at = 0; at < size; at += 32) createHash('sha256').update(`${index}:${at}`).digest().copy(bytes, at);
  return bytes;
}

const testnet = await createTestnet(3, { host: '127.0.0.1' });
const bootstrap = parseBootstrapList(testnet.bootstrap.map((node) => `${node.host}:${node.port}`).join(','));
const [senderSwarm, receiverSwarm] = [await BeamSwarm.open({ bootstrap }), await BeamSwarm.open({ bootstrap })];
const sodium = await loadSodium();
const options = { sodium, code: parseCode('41-abyss-zucchini'), deadlineMs: 60_000, stepTimeoutMs: 20_000 };
let intact = 0;
let failure: string | undefined;
try {
  const sending = rendezvous({ swarm: senderSwarm, role: 'sender', ...options });
  await sending.ready;
  const receiving = rendezvous({ swarm: receiverSwarm, role: 'receiver', ...options });
  const [sender, receiver] = await Promise.all([sending.paired, receiving.paired]);
  let stop: ((error: Error) => void) | undefined;
  const stopped = new Promise<never>((_resolve, reject) => (stop = reject));
  const received = (async () => {
    for (let index = 0; index < count; index++) {
      const { body } = await receiver.receive(30_000);
      if (!Buffer.from(body).equals(lossyMessage(index))) throw new Error(`message ${index} arrived altered`);
      intact++;
    }
  })();
  received.catch((error: Error) => stop?.(error));
  // A receiver that fails stops the sending too (its error is the one reported).
  for (let index = 0; index < count; index++) await Promise.race([sender.send(7, lossyMessage(index)), stopped]);
  await received;
  process.stdout.write(`${JSON.stringify({ intact, counts: sender.sendBufferCounts ?? null })}\n`);
  await Promise.all([sender.finish(), receiver.finish()]);
} catch (error) {
  failure = (error as Error).message;
  process.stdout.write(`${JSON.stringify({ intact, failure })}\n`);
} finally {
  await Promise.all([senderSwarm.destroy(), receiverSwarm.destroy()]);
  await testnet.destroy();
}
process.exit(failure ? 1 : 0);
