import type { Code } from '../code/code.js';
import { topicForNameplate } from '../crypto/key-schedule.js';
import type { Sodium } from '../crypto/sodium.js';
import { BeamError } from '../errors.js';
import { formatDuration } from '../format.js';
import { FramedConnection, UNPAIRED_UNREAD_BYTES, type ByteStream } from './connection.js';
import { AttemptBudget, pair, refuse, RefuseReason, spentError, type NoiseBinding, type Role } from './pairing.js';
import type { SecureChannel } from './secure-channel.js';

/** A connection as the swarm hands it out: bytes both ways, and what its Noise handshake proved. */
export type PeerSocket = ByteStream & NoiseBinding;

/** What the swarm knows of the peer behind a connection. */
export interface PeerHandle {
  /** Never connect to this peer again (a receiver does this after a failed PAKE). */
  ban(banned: boolean): void;
}

/**
 * What a rendezvous needs of a swarm: BeamSwarm over Hyperswarm, or an in-memory stand-in that
 * hands out paired streams (the choreography's tests).
 */
export interface PeerSwarm {
  onConnection(handler: (socket: PeerSocket, peer: PeerHandle) => void): void;
  /** Resolves once peers looking up the topic can find us. */
  announce(topic: Uint8Array): Promise<void>;
  lookup(topic: Uint8Array): void;
  /** Stops discovery and turns every further peer away. */
  lock(): Promise<void>;
  /** Resolves when the swarm is being destroyed. */
  readonly closed: Promise<void>;
  /** Peers discovery told us about, connected or not. */
  readonly discoveredPeers: number;
  /**
   * Peers were found and none ever answered: each failed to answer through the DHT at least
   * `times` times (an announcement that outlived the process that made it).
   */
  foundOnlySilentPeers(times: number): boolean;
  destroy(): Promise<void>;
}

export interface Rendezvous {
  /**
   * Sender: resolves once the announcement reached the DHT (only then may the code be shown).
   * Receiver: resolves once the lookup has started.
   */
  readonly ready: Promise<void>;
  /** The channel of the peer that proved the code; the swarm is locked by then. */
  readonly paired: Promise<SecureChannel>;
}

export interface RendezvousOptions {
  readonly swarm: PeerSwarm;
  /** May still be loading: connections wait for it, the DHT join does not. */
  readonly sodium: Sodium | Promise<Sodium>;
  readonly role: Role;
  readonly code: Code;
  /** How long the whole search may take (the code's lifetime on the sender). */
  readonly deadlineMs: number;
  /** How long one pairing exchange may stall. */
  readonly stepTimeoutMs: number;
  /** Attempts one code allows: tags the sender checks, or the receiver reveals. */
  readonly maxFailures?: number;
  readonly onAttempt?: (event: AttemptEvent) => void;
}

/** A peer connected, or a counted attempt failed (a wrong code, or a guess). */
export type AttemptEvent = { readonly kind: 'connected' } | { readonly kind: 'failed'; readonly attemptsLeft: number };

/** PAKE runs one side keeps going at once; more connections are turned away as busy. */
export const MAX_PAIRINGS_AT_ONCE = 8;

export const DEFAULT_MAX_FAILURES = 3;
/**
 * After every peer found so far failed, a receiver keeps looking this long before it reports the
 * failure: a stranger sharing the nameplate may have answered before the real sender.
 */
export const RECEIVER_GRACE_MS = 2000;
/**
 * Attempts a found sender must fail to answer (about 8 s each) before a receiver calls it gone:
 * one could be a packet lost on the way, two are a process that is not there.
 */
export const SILENT_ATTEMPTS_FOR_GONE = 2;
const GONE_CHECK_MS = 1000;

/**
 * Meets the other side on the code's topic: the sender announces it, the receiver looks it up.
 * Pairs with the first peer that proves the code, then locks the swarm. Strangers can share a
 * nameplate, so every connection gets its own PAKE run; the first success wins and every other
 * peer is turned away. Both sides allow `maxFailures` attempts in all, counted the moment a tag is
 * checked (sender) or revealed (receiver): then the code is burned.
 */
export function rendezvous(options: RendezvousOptions): Rendezvous {
  const { swarm, role, code } = options;
  // Listening starts before the topic is announced, so no early connection is missed.
  const paired = pairWithFirstPeer(options).then(async (channel) => {
    await swarm.lock();
    return channel;
  });
  const topic = topicForNameplate(code.nameplate);
  let ready: Promise<void>;
  if (role === 'sender') {
    ready = swarm.announce(topic);
  } else {
    swarm.lookup(topic);
    ready = Promise.resolve();
  }
  // A caller that stops when one of these fails may never await the other.
  paired.catch(() => undefined);
  ready.catch(() => undefined);
  return { ready, paired };
}

function pairWithFirstPeer(options: RendezvousOptions): Promise<SecureChannel> {
  const { swarm, sodium, role, code } = options;
  const budget = new AttemptBudget(options.maxFailures ?? DEFAULT_MAX_FAILURES);
  const attempts = new Set<FramedConnection>();
  let winner: SecureChannel | undefined;
  let settled = false;
  /** A peer proved the code and is finishing its pairing: a late failure must not burn the code under it. */
  let provenBy: FramedConnection | undefined;
  let lastError: BeamError | undefined;
  /** Counted attempts that failed: what people are told, as "attempts left" before the code burns. */
  let failures = 0;

  return new Promise<SecureChannel>((resolve, reject) => {
    const deadline = setTimeout(() => finish(undefined, expiredError(role, options.deadlineMs, swarm)), options.deadlineMs);
    let grace: NodeJS.Timeout | undefined;
    // A sender whose process ended leaves its announcement behind for minutes: say so early
    // instead of waiting out the deadline and blaming the network.
    const goneCheck =
      role === 'receiver'
        ? setInterval(() => {
            if (attempts.size === 0 && swarm.foundOnlySilentPeers(SILENT_ATTEMPTS_FOR_GONE)) finish(undefined, senderGoneError());
          }, GONE_CHECK_MS)
        : undefined;
    void swarm.closed.then(() => finish(undefined, new BeamError('network', 'stopped before a peer paired')));

    const finish = (channel: SecureChannel | undefined, error?: BeamError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(grace);
      clearInterval(goneCheck);
      for (const other of attempts) void refuse(other, error ? RefuseReason.CodeBurned : RefuseReason.CodeUsed);
      attempts.clear();
      if (channel) resolve(channel);
      else reject(error);
    };

    swarm.onConnection((socket, peer) => {
      // Unpaired, a peer may leave little unread: it could be anyone who knows the nameplate.
      const connection = new FramedConnection(socket, options.stepTimeoutMs, UNPAIRED_UNREAD_BYTES);
      if (settled) {
        void refuse(connection, winner ? RefuseReason.CodeUsed : RefuseReason.CodeBurned);
        return;
      }
      // A guesser opening many connections at once gets no more checks (the budget sees to that)
      // and no more of our memory and CPU than this.
      if (attempts.size >= MAX_PAIRINGS_AT_ONCE) {
        void refuse(connection, RefuseReason.Busy);
        return;
      }
      attempts.add(connection);
      clearTimeout(grace);
      options.onAttempt?.({ kind: 'connected' });
      let counted = false;
      Promise.resolve(sodium).then((ready) => pair(connection, {
        sodium: ready,
        role,
        code,
        binding: socket,
        timeoutMs: options.stepTimeoutMs,
        mayProceed: () => {
          if (settled || provenBy) return false;
          provenBy = connection;
          return true;
        },
        budget,
        onAttemptCounted: () => (counted = true),
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
          if (provenBy === connection) provenBy = undefined;
          if (role === 'receiver') peer.ban(true);
          lastError = error instanceof BeamError ? error : new BeamError('network', String(error));
          const reportFailure = (): void => options.onAttempt?.({ kind: 'failed', attemptsLeft: budget.limit - ++failures });
          if (counted && !settled) reportFailure();
          if (budget.left === 0 && !settled && !provenBy && (role === 'sender' || attempts.size === 0)) {
            // Every attempt the code allows was checked (sender) or revealed (receiver) and failed:
            // a check is never awaited after its reservation, so the sender's are all done by now,
            // and those whose connections are still closing are reported with this one.
            while (failures < budget.limit) reportFailure();
            finish(undefined, spentError(role, budget.limit, code.nameplate));
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

/**
 * A record nobody answers: most often a sender that was killed. A sender that already paired
 * with someone else turns further handshakes away at the DHT, which looks the same from here.
 */
function senderGoneError(): BeamError {
  return new BeamError(
    'timeout',
    'the sender is gone: its code is still listed on the DHT, but nothing answers there. It was stopped, crashed or ' +
      'lost its network, or it already paired with another receiver (check the code). Ask for a new code',
  );
}

function expiredError(role: Role, deadlineMs: number, swarm: PeerSwarm): BeamError {
  if (role === 'receiver' && swarm.foundOnlySilentPeers(SILENT_ATTEMPTS_FOR_GONE)) return senderGoneError();
  if (role === 'receiver' && swarm.discoveredPeers > 0) {
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
