import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { epochMs } from './measure.js';
import { spawnPlaced, type MeasuredProcess, type Placement } from './spawn-measured.js';

/**
 * magic-wormhole 0.12 (Debian's `magic-wormhole`) with its own mailbox server and transit relay
 * on loopback: the tool copilot-beam's user would otherwise reach for. The bench installs none
 * of it; `missingWormhole()` says what is absent so the run can skip it.
 */
export function missingWormhole(): string | undefined {
  const checks: Array<[string, string[], string]> = [
    ['wormhole', ['--version'], 'magic-wormhole (apt install magic-wormhole)'],
    ['twistd3', ['wormhole-mailbox', '--help'], 'the mailbox server (apt install python3-magic-wormhole-mailbox-server)'],
    ['twistd3', ['transitrelay', '--help'], 'the transit relay (apt install magic-wormhole-transit-relay)'],
  ];
  for (const [command, args, name] of checks) {
    if (spawnSync(command, args, { stdio: 'ignore' }).status !== 0) return name;
  }
  return undefined;
}

export interface WormholeServices {
  readonly args: readonly string[];
  stop(): void;
}

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function waitForPort(host: string, port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`twistd3 exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listened on ${host}:${port}`);
}

/**
 * Starts the mailbox server and the transit relay, both bound to `host` (loopback, or the
 * address of the network namespace this process runs in).
 */
export async function startWormholeServices(root: string, host = '127.0.0.1'): Promise<WormholeServices> {
  await mkdir(root, { recursive: true });
  const mailboxPort = await freePort(host);
  const relayPort = await freePort(host);
  const mailbox = spawn('twistd3', ['-n', '--pidfile=', 'wormhole-mailbox', `--port=tcp:${mailboxPort}:interface=${host}`, `--channel-db=${join(root, 'relay.sqlite')}`], {
    cwd: root,
    stdio: 'ignore',
  });
  const relay = spawn('twistd3', ['-n', '--pidfile=', 'transitrelay', `--port=tcp:${relayPort}:interface=${host}`], { cwd: root, stdio: 'ignore' });
  const stop = (): void => {
    mailbox.kill();
    relay.kill();
  };
  try {
    await waitForPort(host, mailboxPort, mailbox);
    await waitForPort(host, relayPort, relay);
  } catch (error) {
    stop();
    throw error;
  }
  return { args: wormholeArgs(host, mailboxPort, relayPort), stop };
}

/** The client options that point `wormhole` at our own mailbox server and transit relay. */
export function wormholeArgs(host: string, mailboxPort: number, relayPort: number): string[] {
  return ['--relay-url', `ws://${host}:${mailboxPort}/v1`, '--transit-helper', `tcp:${host}:${relayPort}`];
}

export interface WormholeRun {
  readonly endToEndMs: number;
  readonly pairingMs: number;
  /** The receiver's "rx file": the (deflated) zip over transit. */
  readonly transferMs: number;
  /** The sender's "Building zipfile" and the receiver's "unpack zip". */
  readonly zipMs: number;
  readonly unzipMs: number;
  readonly senderRss: number | undefined;
  readonly receiverRss: number | undefined;
  readonly senderCpuMs: number | undefined;
  readonly receiverCpuMs: number | undefined;
}

interface TimingEvent {
  readonly name: string;
  readonly start: number;
  readonly stop: number | null;
  readonly details: { readonly _side?: string; readonly message?: { readonly phase?: string; readonly side?: string } };
}

/** Wormhole's key is confirmed on a side when the peer's encrypted "version" message arrives and opens. */
function keyConfirmedAt(events: readonly TimingEvent[]): number {
  const confirmed = events.find(
    (event) => event.name === 'ws_receive' && event.details.message?.phase === 'version' && event.details.message.side !== event.details._side,
  );
  return confirmed ? confirmed.start * 1000 : Number.NaN;
}

function duration(events: readonly TimingEvent[], name: string): number {
  const event = events.find((candidate) => candidate.name === name);
  return event && event.stop !== null ? (event.stop - event.start) * 1000 : Number.NaN;
}

/**
 * Sends `folder` with `wormhole send` and receives it with `wormhole receive --accept-file`,
 * each side where `placement` puts it (this host, or a network namespace).
 */
export async function runWormhole(folder: string, work: string, services: Pick<WormholeServices, 'args'>, placement: Placement = {}): Promise<WormholeRun> {
  await mkdir(work, { recursive: true });
  const senderTiming = join(work, 'send-timing.json');
  const receiverTiming = join(work, 'receive-timing.json');
  const started = epochMs();
  let codeAt = Number.NaN;
  let zipStartedAt = Number.NaN;
  let zipMs = Number.NaN;
  let receiver: MeasuredProcess | undefined;
  const sender = spawnPlaced(placement.sender, 'wormhole', [...services.args, '--dump-timing', senderTiming, 'send', '--hide-progress', folder], {
    env: process.env,
    onLine: (_stream, line, at) => {
      if (line.startsWith('Building zipfile')) zipStartedAt = at;
      if (line.startsWith('Sending directory')) zipMs = at - zipStartedAt;
      const match = /^Wormhole code is: (\S+)/.exec(line);
      if (!match) return;
      codeAt = at;
      receiver = spawnPlaced(
        placement.receiver,
        'wormhole',
        [...services.args, '--dump-timing', receiverTiming, 'receive', '--accept-file', '--hide-progress', '-o', join(work, 'received'), match[1]!],
        { env: process.env, cwd: work },
      );
    },
  });
  const senderExit = await sender.exited;
  const receiverExit = receiver ? await receiver.exited : undefined;
  if (senderExit.status !== 0 || receiverExit?.status !== 0) {
    receiver?.kill();
    throw new Error(`wormhole run failed: ${sender.output()} ${receiver?.output() ?? ''}`);
  }
  const sent = JSON.parse(await readFile(senderTiming, 'utf8')) as TimingEvent[];
  const received = JSON.parse(await readFile(receiverTiming, 'utf8')) as TimingEvent[];
  return {
    endToEndMs: Math.max(senderExit.endedAt, receiverExit.endedAt) - started,
    pairingMs: Math.max(keyConfirmedAt(sent), keyConfirmedAt(received)) - codeAt,
    transferMs: duration(received, 'rx file'),
    zipMs,
    unzipMs: duration(received, 'unpack zip'),
    senderRss: senderExit.peakRss,
    receiverRss: receiverExit.peakRss,
    senderCpuMs: senderExit.cpuMs,
    receiverCpuMs: receiverExit.cpuMs,
  };
}
