import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCode } from '../src/code/index.js';
import { loadSodium, type Sodium } from '../src/crypto/index.js';
import { BeamError } from '../src/errors.js';
import { rendezvous, type AttemptEvent, type BeamSwarm, type SecureChannel } from '../src/transport/index.js';
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
