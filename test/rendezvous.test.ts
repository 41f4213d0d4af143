import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCode } from '../src/code/index.js';
import { loadSodium, type Sodium } from '../src/crypto/index.js';
import { BeamError } from '../src/errors.js';
import { rendezvous, type AttemptEvent, type BeamSwarm, type SecureChannel } from '../src/transport/index.js';
import { PeerAnswers } from '../src/transport/peer-answers.js';
import { useTestnetSwarms } from './helpers/testnet-swarms.js';

const sodium = await loadSodium();
const swarms = useTestnetSwarms();
const openSwarm = (): Promise<BeamSwarm> => swarms.open();

interface SenderOptions {
  readonly onAttempt?: (event: AttemptEvent) => void;
  /** Connections wait for this before their key exchange starts. */
  readonly sodium?: Promise<Sodium>;
}

/** A sender whose rendezvous announced the code's topic itself. */
async function sender(code: string, options: SenderOptions = {}): Promise<{ paired: Promise<SecureChannel>; swarm: BeamSwarm }> {
  const swarm = await openSwarm();
  const meeting = rendezvous({
    swarm, sodium: options.sodium ?? sodium, role: 'sender', code: parseCode(code), deadlineMs: 20_000, stepTimeoutMs: 5000,
    ...(options.onAttempt ? { onAttempt: options.onAttempt } : {}),
  });
  await meeting.ready;
  return { paired: meeting.paired, swarm };
}

/** A receiver whose rendezvous looks the code's topic up itself. */
async function receiver(code: string, deadlineMs = 20_000): Promise<{ paired: Promise<SecureChannel> }> {
  const swarm = await openSwarm();
  const meeting = rendezvous({ swarm, sodium, role: 'receiver', code: parseCode(code), deadlineMs, stepTimeoutMs: 5000 });
  await meeting.ready;
  return { paired: meeting.paired };
}

test('a stranger on the same nameplate does not stop the receiver finding its sender', async () => {
  // The receiver meets the stranger first (and fails the PAKE with it); the real sender only
  // appears after that, within the receiver's grace period.
  let strangerRejected: () => void = () => undefined;
  const strangerSawWrongCode = new Promise<void>((resolve) => (strangerRejected = resolve));
  const stranger = await sender('77-abyss-acid', { onAttempt: (event) => event.kind === 'failed' && strangerRejected() });
  const looking = await receiver('77-aardvark-zucchini');
  await strangerSawWrongCode;
  const real = await sender('77-aardvark-zucchini');
  const [receiverChannel, senderChannel] = await Promise.all([looking.paired, real.paired]);
  await senderChannel.send(1, Uint8Array.of(42));
  assert.deepEqual([...(await receiverChannel.receive(2000)).body], [42]);
  await stranger.swarm.destroy();
});

test('two receivers racing for one code: exactly one wins, the other is told the code was used', async () => {
  // The sender's key exchanges wait until both receivers are connected, so both really race
  // (otherwise the second might only find a locked swarm and report that nobody answered).
  let connections = 0;
  let bothConnected: () => void = () => undefined;
  const racing = new Promise<void>((resolve) => (bothConnected = resolve));
  const { paired } = await sender('78-aardvark-zucchini', {
    sodium: racing.then(() => sodium),
    onAttempt: (event) => {
      if (event.kind === 'connected' && ++connections === 2) bothConnected();
    },
  });
  const first = await receiver('78-aardvark-zucchini', 10_000);
  const second = await receiver('78-aardvark-zucchini', 10_000);
  const results = await Promise.allSettled([first.paired, second.paired]);
  await paired;
  const winners = results.filter((result) => result.status === 'fulfilled');
  assert.equal(winners.length, 1);
  const loser = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
  assert.ok(loser.reason instanceof BeamError);
  assert.match(loser.reason.message, /this code was already used by another receiver/);
});

test('peer answers: only peers that never answered, each failing often enough, make a gone sender', () => {
  const silent = Object.assign(new Error('Could not connect to peer'), { code: 'PEER_CONNECTION_FAILED' });
  const holepunch = Object.assign(new Error('Holepunching probe did not finish in time'), { code: 'HOLEPUNCH_PROBE_TIMEOUT' });
  const answers = new PeerAnswers();
  assert.equal(answers.onlySilentPeers([], 1), false, 'nobody found is not a gone sender');
  answers.failed('a', silent);
  assert.equal(answers.onlySilentPeers(['a'], 1), true);
  assert.equal(answers.onlySilentPeers(['a'], 2), false, 'one failure is not enough for two');
  assert.equal(answers.onlySilentPeers(['a', 'b'], 1), false, 'b has not been tried yet');
  answers.failed('b', silent);
  answers.failed('a', silent);
  answers.failed('b', silent);
  assert.equal(answers.onlySilentPeers(['b'], 2), true, 'a peer discovery dropped still counts');
  answers.failed('c', holepunch);
  assert.equal(answers.onlySilentPeers(['a', 'b'], 2), false, 'a peer that answered and failed at holepunching is alive');

  const opened = new PeerAnswers();
  opened.failed('a', silent);
  opened.opened('a');
  opened.failed('a', silent);
  assert.equal(opened.onlySilentPeers(['a'], 1), false, 'a peer that once connected is not gone');
});

test('peer answers: a blind relay reached through the same connect is not a peer', () => {
  const silent = Object.assign(new Error('Could not connect to peer'), { code: 'PEER_CONNECTION_FAILED' });
  const answers = new PeerAnswers(new Set(['relay']));
  answers.failed('relay', silent);
  answers.failed('relay', silent);
  assert.equal(answers.onlySilentPeers([], 1), false);
});
