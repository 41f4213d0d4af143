import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSampleSession } from '../scripts/sample-session.js';
import { assertBeamedCopy, jsonEvents, lastEvent, listOrEmpty, privateHome, spawnBeam, type BeamProcess } from './helpers/e2e.js';
import { LAN, Network, netnsUnavailable } from './helpers/netns.js';

/**
 * Two machines for real: sender, receiver, a private DHT bootstrap node (`copilot-beam dht`) and
 * a blind relay (`copilot-beam relay`), each in its own network namespace on a bridge, with a
 * NAT, a lossy link and blocked UDP. In every case the session arrives byte-identical or nothing
 * is installed. Skipped where namespaces cannot be made (not Linux, not root, no iproute2).
 */
const unavailable = netnsUnavailable();
const BOOTSTRAP = `${LAN}.2:49737`;
const SENDER = `${LAN}.3`;
const RECEIVER = `${LAN}.4`;

interface Started {
  readonly process: BeamProcess;
  readonly first: Record<string, unknown>;
}

/** Starts a long-running command (dht, relay) and waits for its first JSON line. */
async function startService(network: Network, ns: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Started> {
  let resolveFirst: (event: Record<string, unknown>) => void = () => undefined;
  const first = new Promise<Record<string, unknown>>((resolve) => (resolveFirst = resolve));
  const process = spawnBeam([...args, '--json'], env, (stream, line) => {
    if (stream === 'stdout') resolveFirst(JSON.parse(line) as Record<string, unknown>);
  }, undefined, network.wrap(ns));
  const event = await Promise.race([first, process.exited.then((status) => Promise.reject(new Error(`${args[0]} exited ${status}: ${process.stderr}`)))]);
  return { process, first: event };
}

interface Beam {
  readonly sent: number;
  readonly received: number;
  readonly receiverOutput: string;
  readonly source: string;
  readonly receiverHome: string;
  readonly sessionId: string;
}

async function beam(network: Network, senderNs: string, receiverNs: string, options: { receiverArgs?: readonly string[]; senderArgs?: readonly string[] } = {}): Promise<Beam> {
  const laptop = await privateHome();
  const codespace = await privateHome();
  const session = await createSampleSession({ copilotHome: join(laptop, '.copilot'), eventsBytes: 2 * 1024 * 1024, binaryBytes: 512 * 1024 });
  const env = (home: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: home, COPILOT_HOME: join(home, '.copilot'), COPILOT_BEAM_BOOTSTRAP: BOOTSTRAP });
  let resolveCode: (code: string) => void = () => undefined;
  const shown = new Promise<string>((resolve) => (resolveCode = resolve));
  const sender = spawnBeam(['send', session.id, '--json', '--yes', '--timeout', '90s', ...(options.senderArgs ?? [])], env(laptop), (stream, line) => {
    if (stream === 'stdout' && line.includes('"code"')) resolveCode((JSON.parse(line) as { code: string }).code);
  }, undefined, network.wrap(senderNs));
  const code = await Promise.race([shown, sender.exited.then((status) => Promise.reject(new Error(`sender exited ${status}: ${sender.stdout}${sender.stderr}`)))]);
  const receiver = spawnBeam(['receive', code, '--json', '--yes', '--timeout', '40s', ...(options.receiverArgs ?? [])], env(codespace), undefined, codespace, network.wrap(receiverNs));
  const received = await receiver.exited;
  if (received !== 0) sender.child.kill('SIGINT');
  const sent = await sender.exited;
  return { sent, received, receiverOutput: receiver.stdout + receiver.stderr, source: session.dir, receiverHome: join(codespace, '.copilot'), sessionId: session.id };
}

async function assertInstalled(result: Beam): Promise<void> {
  assert.equal(result.received, 0, result.receiverOutput);
  assert.equal(result.sent, 0);
  await assertBeamedCopy(result.source, join(result.receiverHome, 'session-state', result.sessionId));
}

describe('two hosts in network namespaces', { skip: unavailable ? `skipped: ${unavailable}` : false, concurrency: false }, () => {
  let network: Network;
  let dht: Started;
  let relayKey: string;
  let relay: Started;

  before(async () => {
    network = new Network();
    const bootNs = network.host('boot', 2);
    const relayNs = network.host('relay', 5);
    dht = await startService(network, bootNs, ['dht', '--port', '49737', '--host', `${LAN}.2`], process.env);
    relay = await startService(network, relayNs, ['relay', '--bootstrap', BOOTSTRAP, '--key-file', join(await privateHome(), 'relay.key')], process.env);
    relayKey = String(relay.first.publicKey);
  });

  after(async () => {
    for (const service of [relay, dht]) {
      service?.process.child.kill('SIGINT');
      await service?.process.exited;
    }
    network?.destroy();
  });

  test('a private bootstrap node is all two hosts need', async () => {
    assert.equal(dht.first.event, 'listening');
    const sender = network.host('plain-s', 3);
    const receiver = network.host('plain-r', 4);
    await assertInstalled(await beam(network, sender, receiver));
    network.remove(sender, receiver);
  });

  test('the receiver behind a NAT (MASQUERADE)', async () => {
    const sender = network.host('nat-s', 3);
    const receiver = network.natHost('nat-r', 20);
    await assertInstalled(await beam(network, sender, receiver));
    network.remove(sender, receiver, `${receiver}-nat`);
  });

  test('100 ms delay and 2% loss on both hosts', async (t) => {
    const sender = network.host('lossy-s', 3);
    const receiver = network.host('lossy-r', 4);
    t.diagnostic(`sender: ${network.degrade(sender, 100, 2)}`);
    t.diagnostic(`receiver: ${network.degrade(receiver, 100, 2)}`);
    await assertInstalled(await beam(network, sender, receiver));
    network.remove(sender, receiver);
  });

  test('UDP blocked between the peers: the blind relay carries the beam', async () => {
    const sender = network.host('relayed-s', 3);
    const receiver = network.host('relayed-r', 4);
    network.blockUdp(sender, RECEIVER);
    network.blockUdp(receiver, SENDER);
    const doctor = spawnBeam(['doctor', '--json', '--relay', relayKey], { ...process.env, COPILOT_BEAM_BOOTSTRAP: BOOTSTRAP, COPILOT_HOME: join(await privateHome(), '.copilot') }, undefined, undefined, network.wrap(receiver));
    assert.equal(await doctor.exited, 0, doctor.stdout + doctor.stderr);
    assert.deepEqual(lastEvent(doctor.stdout)?.relay, { reachable: true });
    await assertInstalled(await beam(network, sender, receiver, { receiverArgs: ['--relay', relayKey] }));
    network.remove(sender, receiver);
  });

  test('UDP blocked and no relay: the receiver ends within its timeout, names the likely causes, installs nothing', async () => {
    const sender = network.host('cut-s', 3);
    const receiver = network.host('cut-r', 4);
    network.blockUdp(sender, RECEIVER);
    network.blockUdp(receiver, SENDER);
    const result = await beam(network, sender, receiver, { receiverArgs: ['--timeout', '15s'] });
    assert.equal(result.received, 5, result.receiverOutput);
    const error = lastEvent(result.receiverOutput);
    assert.equal(error?.event, 'error');
    assert.match(String(error?.message), /UDP .*blocked/);
    assert.match(String(error?.message), /--relay/);
    assert.match(String(error?.message), /doctor/);
    assert.deepEqual(await listOrEmpty(join(result.receiverHome, 'session-state')), []);
    assert.ok(!jsonEvents(result.receiverOutput).some((event) => event.event === 'done'));
    network.remove(sender, receiver);
  });
});
