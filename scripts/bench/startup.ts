import { spawnSync } from 'node:child_process';
import { BEAM_BIN } from '../spawn-beam.js';
import { median } from './measure.js';

/** Median wall time of a copilot-beam command that needs no network, each run a fresh process. */
export function startupMs(args: readonly string[], env: NodeJS.ProcessEnv, runs: number): number {
  return medianRunMs([BEAM_BIN, ...args], env, runs);
}

/** Median wall time of Node starting and doing nothing, each run a fresh process. */
export function nodeStartMs(env: NodeJS.ProcessEnv, runs: number): number {
  return medianRunMs(['-e', '0'], env, runs);
}

function medianRunMs(nodeArgs: readonly string[], env: NodeJS.ProcessEnv, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, nodeArgs, { env, stdio: 'ignore' });
    times.push(performance.now() - start);
    if (result.status !== 0) throw new Error(`node ${nodeArgs.join(' ')} exited with ${result.status}`);
  }
  return median(times);
}
