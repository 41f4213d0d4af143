import { performance, type EventLoopUtilityFunction } from 'node:perf_hooks';

/** The share (0 to 1) of the time since its previous call that something was idle. */
export type IdleMeter = () => number;

/**
 * How idle an event loop was since the previous call: the time it sat waiting for I/O, over the
 * time that passed. This thread's by default, or a worker's (`worker.performance`). Time spent
 * awaiting the network is not idleness on its own: on one machine the packets' own processing
 * (UDX, Noise) runs in this loop while our code awaits them, so a process could look idle while
 * its only core was busy.
 */
export function loopIdleMeter(loop: { readonly eventLoopUtilization: EventLoopUtilityFunction } = performance): IdleMeter {
  let last = loop.eventLoopUtilization();
  return () => {
    const now = loop.eventLoopUtilization();
    const since = loop.eventLoopUtilization(now, last);
    last = now;
    return since.active + since.idle > 0 ? 1 - since.utilization : 1;
  };
}
