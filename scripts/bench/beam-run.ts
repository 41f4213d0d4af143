import { join } from 'node:path';
import { BEAM_BIN } from '../spawn-beam.js';
import { epochMs } from './measure.js';
import { spawnPlaced, type MeasuredProcess, type Placement } from './spawn-measured.js';

export interface BeamRun {
  /** `send` started to both processes exited. */
  readonly endToEndMs: number;
  /** Code printed to both sides holding the confirmed key. */
  readonly pairingMs: number;
  /** The receiver's own account of streaming, verifying and writing the files. */
  readonly transferMs: number;
  readonly bytes: number;
  readonly senderRss: number | undefined;
  readonly receiverRss: number | undefined;
  readonly senderCpuMs: number | undefined;
  readonly receiverCpuMs: number | undefined;
}

interface JsonLine {
  readonly event: string;
  readonly phase?: string;
  readonly code?: string;
  readonly bytes?: number;
  readonly seconds?: number;
}

function parse(line: string): JsonLine | undefined {
  try {
    return JSON.parse(line) as JsonLine;
  } catch {
    return undefined;
  }
}

/**
 * One beam of the session in `senderHome` to a fresh home, two real processes (each where
 * `placement` puts it), timestamps from their JSON lines.
 */
export async function runBeam(sessionId: string, senderHome: string, receiverHome: string, bootstrap: string, homeRoot: string, placement: Placement = {}): Promise<BeamRun> {
  const env = (copilotHome: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: homeRoot, COPILOT_HOME: copilotHome, COPILOT_BEAM_BOOTSTRAP: bootstrap });
  const started = epochMs();
  let codeAt = Number.NaN;
  let senderPaired = Number.NaN;
  let receiverPaired = Number.NaN;
  let transferMs = Number.NaN;
  let bytes = 0;
  let receiver: MeasuredProcess | undefined;
  const sender = spawnPlaced(placement.sender, process.execPath, [BEAM_BIN, 'send', sessionId, '--yes', '--json'], {
    env: env(senderHome),
    onLine: (stream, line, at) => {
      const event = stream === 'stdout' ? parse(line) : undefined;
      if (event?.event === 'code' && event.code) {
        codeAt = at;
        receiver = spawnPlaced(placement.receiver, process.execPath, [BEAM_BIN, 'receive', event.code, '--yes', '--json'], {
          env: env(receiverHome),
          cwd: homeRoot,
          onLine: (innerStream, innerLine, innerAt) => {
            const inner = innerStream === 'stdout' ? parse(innerLine) : undefined;
            if (inner?.event === 'status' && inner.phase === 'paired') receiverPaired = innerAt;
            if (inner?.event === 'status' && inner.phase === 'received') {
              transferMs = (inner.seconds ?? Number.NaN) * 1000;
              bytes = inner.bytes ?? 0;
            }
          },
        });
      }
      if (event?.event === 'status' && event.phase === 'paired') senderPaired = at;
    },
  });
  const senderExit = await sender.exited;
  const receiverExit = receiver ? await receiver.exited : undefined;
  if (senderExit.status !== 0 || receiverExit?.status !== 0) {
    receiver?.kill();
    throw new Error(`beam failed (sender ${senderExit.status}, receiver ${receiverExit?.status ?? 'never started'}): ${lastLine(sender.output())} ${lastLine(receiver?.output() ?? '')}`);
  }
  return {
    endToEndMs: Math.max(senderExit.endedAt, receiverExit.endedAt) - started,
    pairingMs: Math.max(senderPaired, receiverPaired) - codeAt,
    transferMs,
    bytes,
    senderRss: senderExit.peakRss,
    receiverRss: receiverExit.peakRss,
    senderCpuMs: senderExit.cpuMs,
    receiverCpuMs: receiverExit.cpuMs,
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}

export function receiverHomeFor(root: string, label: string, run: number): string {
  return join(root, label, `receiver-${run}`, '.copilot');
}
