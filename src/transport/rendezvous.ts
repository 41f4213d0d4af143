import type { Code } from '../code/code.js';
import type { Sodium } from '../crypto/sodium.js';
import { BeamError } from '../errors.js';
import { formatDuration } from '../format.js';
import { FramedConnection } from './connection.js';
import { pair, refuse, RefuseReason, type Role } from './pairing.js';
import type { SecureChannel } from './secure-channel.js';
import type { BeamSwarm } from './swarm.js';

export interface RendezvousOptions {
  readonly swarm: BeamSwarm;
  /** May still be loading: connections wait for it, the DHT join does not. */
  readonly sodium: Sodium | Promise<Sodium>;
  readonly role: Role;
  readonly code: Code;
  /** How long the whole search may take (the code's lifetime on the sender). */
  readonly deadlineMs: number;
  /** How long one pairing exchange may stall. */
  readonly stepTimeoutMs: number;
  /** Sender: wrong codes tolerated before the code is burned. */
  readonly maxFailures?: number;
  readonly onAttempt?: (event: 'connected' | 'wrong-code') => void;
}

export const DEFAULT_MAX_FAILURES = 3;
/**
 * After every peer found so far failed, a receiver keeps looking this long before it reports the
 * failure: a stranger sharing the nameplate may have answered before the real sender.
 */
export const RECEIVER_GRACE_MS = 2000;

/**
 * Pairs with the first peer on the topic that proves the code. Strangers can share a nameplate,
 * so every connection gets its own PAKE run; the first success wins and every other peer is
 * turned away. The sender burns the code after `maxFailures` wrong codes.
 */
export function rendezvous(options: RendezvousOptions): Promise<SecureChannel> {
  const { swarm, sodium, role, code } = options;
  const maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES;
  const attempts = new Set<FramedConnection>();
  let winner: SecureChannel | undefined;
  let settled = false;
  let failures = 0;
  let lastError: BeamError | undefined;

  return new Promise<SecureChannel>((resolve, reject) => {
    const deadline = setTimeout(() => finish(undefined, expiredError(role, options.deadlineMs, swarm.discoveredPeers)), options.deadlineMs);
    let grace: NodeJS.Timeout | undefined;
    void swarm.closed.then(() => finish(undefined, new BeamError('network', 'stopped before a peer paired')));

    const finish = (channel: SecureChannel | undefined, error?: BeamError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(grace);
      for (const other of attempts) void refuse(other, error ? RefuseReason.CodeBurned : RefuseReason.CodeUsed);
      attempts.clear();
      if (channel) resolve(channel);
      else reject(error);
    };

    swarm.onConnection((socket, peer) => {
      const connection = new FramedConnection(socket, options.stepTimeoutMs);
      if (settled) {
        void refuse(connection, winner ? RefuseReason.CodeUsed : RefuseReason.CodeBurned);
        return;
      }
      attempts.add(connection);
      clearTimeout(grace);
      options.onAttempt?.('connected');
      Promise.resolve(sodium).then((ready) => pair(connection, {
        sodium: ready,
        role,
        code,
        binding: socket,
        timeoutMs: options.stepTimeoutMs,
        mayProceed: () => !settled,
      })).then(
        (channel) => {
          attempts.delete(connection);
          if (settled) {
            channel.close();
            return;
          }
          winner = channel;
          finish(channel);
        },
        (error: unknown) => {
          attempts.delete(connection);
          connection.close();
          const failure = error instanceof BeamError ? error : new BeamError('network', String(error));
          if (role === 'receiver') peer.ban(true);
          if (failure.kind === 'wrong-code') {
            options.onAttempt?.('wrong-code');
            failures++;
          }
          lastError = failure;
          if (role === 'sender' && failures >= maxFailures) {
            finish(undefined, new BeamError('wrong-code', `code burned after ${failures} wrong attempts: nothing was sent; start a new send`));
          } else if (role === 'receiver' && attempts.size === 0) {
            // Every peer found so far failed; unless another turns up, say why the last one did.
            clearTimeout(grace);
            grace = setTimeout(() => {
              if (attempts.size === 0) finish(undefined, lastError);
            }, RECEIVER_GRACE_MS);
          }
        },
      );
    });
  });
}

function expiredError(role: Role, deadlineMs: number, discoveredPeers: number): BeamError {
  if (role === 'receiver' && discoveredPeers > 0) {
    // The DHT knew the sender, so the code was right and the sender alive: the path between us failed.
    return new BeamError(
      'network',
      `found the sender on the DHT but could not connect to it within ${formatDuration(deadlineMs)}: UDP between the two machines is ` +
        'probably blocked, or both sit behind firewalls or NATs that defeat holepunching. Try a relay ' +
        '("copilot-beam relay" somewhere both can reach, then --relay <key> on either side), and run "copilot-beam doctor" on both machines',
    );
  }
  if (role === 'sender') {
    return new BeamError('timeout', `the code expired after ${formatDuration(deadlineMs)} with nobody paired: nothing was sent`);
  }
  return new BeamError(
    'timeout',
    `no sender answered within ${formatDuration(deadlineMs)}: check the code, and that "copilot-beam send" is still running on the other machine`,
  );
}
