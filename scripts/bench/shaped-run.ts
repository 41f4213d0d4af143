import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runBeam } from './beam-run.js';
import { SENDER_ADDRESS, ShapedLink, type WireBytes } from './shaped-link.js';
import { runWormhole } from './wormhole-run.js';

const SERVICES = fileURLToPath(new URL('./netns-services.js', import.meta.url));
const SERVICES_START_MS = 30_000;

/**
 * A shaped link with its services: the DHT testnet and (when asked) magic-wormhole's mailbox
 * server and transit relay run in the sender's namespace, so everything the receiver says to
 * them crosses the link, as it would cross a real uplink.
 */
export interface ShapedNetwork {
  readonly link: ShapedLink;
  readonly bootstrap: string;
  readonly wormholeArgs: readonly string[] | undefined;
  stop(): Promise<void>;
}

export interface ShapedRun {
  readonly endToEndMs: number;
  readonly pairingMs: number;
  readonly senderToReceiver: number;
  readonly receiverToSender: number;
  readonly senderFrames: number;
  readonly receiverFrames: number;
  readonly senderRss: number | undefined;
  readonly receiverRss: number | undefined;
}

type Services = ChildProcessByStdio<Writable, Readable, Readable>;

async function firstLine(child: Services): Promise<{ bootstrap: string; wormholeArgs: string[] }> {
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  let stdout = '';
  const line = new Promise<string>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
  });
  const failed = once(child, 'exit').then(([code]) => Promise.reject(new Error(`the namespace's services exited with ${String(code)}: ${stderr.trim()}`)));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the namespace's services did not start in ${SERVICES_START_MS / 1000} s`)), SERVICES_START_MS)));
  try {
    return JSON.parse(await Promise.race([line, failed, late])) as { bootstrap: string; wormholeArgs: string[] };
  } finally {
    clearTimeout(timer);
    failed.catch(() => undefined);
  }
}

/** Makes the link and starts its services; throws (having cleaned up) when either fails. */
export async function startShapedNetwork(work: string, megabytesPerSecond: number, withWormhole: boolean): Promise<ShapedNetwork> {
  const link = ShapedLink.create(megabytesPerSecond);
  const args = [...link.wrap(link.sender), process.execPath, SERVICES, SENDER_ADDRESS, work, ...(withWormhole ? ['wormhole'] : [])];
  const child = spawn(args[0]!, args.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.stdin.end(); // the helper stops its services when its stdin closes
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    link.destroy();
  };
  try {
    const ready = await firstLine(child);
    return { link, bootstrap: ready.bootstrap, wormholeArgs: withWormhole ? ready.wormholeArgs : undefined, stop };
  } catch (error) {
    child.kill('SIGKILL');
    link.destroy();
    throw error;
  }
}

/** Bytes each end put on the link while `transfer` ran. */
async function onWire<T>(link: ShapedLink, transfer: () => Promise<T>): Promise<{ result: T; wire: WireBytes }> {
  const before = link.wireBytes();
  const result = await transfer();
  const after = link.wireBytes();
  return {
    result,
    wire: {
      senderToReceiver: after.senderToReceiver - before.senderToReceiver,
      receiverToSender: after.receiverToSender - before.receiverToSender,
      senderFrames: after.senderFrames - before.senderFrames,
      receiverFrames: after.receiverFrames - before.receiverFrames,
    },
  };
}

/** copilot-beam send in the sender's namespace, receive in the receiver's. */
export async function shapedBeam(network: ShapedNetwork, sessionId: string, senderHome: string, receiverHome: string, homeRoot: string): Promise<ShapedRun> {
  const { link } = network;
  const placement = { sender: link.wrap(link.sender), receiver: link.wrap(link.receiver) };
  const { result, wire } = await onWire(link, () => runBeam(sessionId, senderHome, receiverHome, network.bootstrap, homeRoot, placement));
  return { endToEndMs: result.endToEndMs, pairingMs: result.pairingMs, ...wire, senderRss: result.senderRss, receiverRss: result.receiverRss };
}

/** wormhole send in the sender's namespace, receive in the receiver's. */
export async function shapedWormhole(network: ShapedNetwork, folder: string, work: string): Promise<ShapedRun> {
  const { link } = network;
  if (!network.wormholeArgs) throw new Error('this shaped network has no magic-wormhole services');
  const placement = { sender: link.wrap(link.sender), receiver: link.wrap(link.receiver) };
  const { result, wire } = await onWire(link, () => runWormhole(folder, work, { args: network.wormholeArgs! }, placement));
  return { endToEndMs: result.endToEndMs, pairingMs: result.pairingMs, ...wire, senderRss: result.senderRss, receiverRss: result.receiverRss };
}
