import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { epochMs } from './measure.js';
import { spawnMeasured, type MeasuredProcess } from './spawn-measured.js';

const PEER = fileURLToPath(new URL('./raw-swarm-peer.js', import.meta.url));

export interface RawRun {
  readonly endToEndMs: number;
  readonly transferMs: number;
  readonly bytes: number;
  readonly senderRss: number | undefined;
  readonly receiverRss: number | undefined;
  readonly senderCpuMs: number | undefined;
  readonly receiverCpuMs: number | undefined;
}

/**
 * The sender's write window, as copilot-beam's: against waiting for 'drain' at every full buffer
 * it measured faster at 1 GiB (median 13.7 against 19.2 s end to end, 7 interleaved runs each,
 * incompressible session) and level at 100 MiB (2.70 against 2.67 s, 14 runs each).
 */
export const RAW_IN_FLIGHT_BYTES = 1024 * 1024;

/** The same files through a bare Hyperswarm socket between two processes on the same testnet. */
export async function runRawSwarm(files: readonly string[], outputFile: string, bootstrap: string, inFlightBytes = RAW_IN_FLIGHT_BYTES): Promise<RawRun> {
  const topic = randomBytes(32).toString('hex');
  const started = epochMs();
  let receiver: MeasuredProcess | undefined;
  let transferMs = Number.NaN;
  let bytes = 0;
  const sender = spawnMeasured(process.execPath, [PEER, 'send', bootstrap, topic, ...files], {
    env: { ...process.env, RAW_SWARM_IN_FLIGHT: String(inFlightBytes) },
    onLine: (stream, line) => {
      if (stream !== 'stdout' || !line.includes('"ready"')) return;
      receiver = spawnMeasured(process.execPath, [PEER, 'receive', bootstrap, topic, outputFile], {
        env: process.env,
        onLine: (innerStream, innerLine) => {
          if (innerStream !== 'stdout') return;
          const done = JSON.parse(innerLine) as { bytes: number; seconds: number };
          transferMs = done.seconds * 1000;
          bytes = done.bytes;
        },
      });
    },
  });
  const senderExit = await sender.exited;
  const receiverExit = receiver ? await receiver.exited : undefined;
  if (senderExit.status !== 0 || receiverExit?.status !== 0) {
    receiver?.kill();
    throw new Error(`raw swarm run failed: ${sender.output()} ${receiver?.output() ?? ''}`);
  }
  return {
    endToEndMs: Math.max(senderExit.endedAt, receiverExit.endedAt) - started,
    transferMs,
    bytes,
    senderRss: senderExit.peakRss,
    receiverRss: receiverExit.peakRss,
    senderCpuMs: senderExit.cpuMs,
    receiverCpuMs: receiverExit.cpuMs,
  };
}
