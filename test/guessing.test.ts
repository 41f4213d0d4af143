import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCode } from '../src/code/index.js';
import { loadSodium, topicForNameplate } from '../src/crypto/index.js';
import {
  FramedConnection,
  FrameType,
  MAX_PAIRINGS_AT_ONCE,
  rendezvous,
  RefuseReason,
  type AttemptEvent,
  type Frame,
  type PeerSocket,
} from '../src/transport/index.js';
import { exchangeShares } from './helpers/guesser.js';
import { useTestnetSwarms } from './helpers/testnet-swarms.js';

const WRONG_WORDS = ['abandoned', 'abbreviate', 'abdomen', 'abhorrence', 'abiding', 'abnormal', 'abrasion', 'absorbing'];

/**
 * An online attacker gets at most three guesses per code, on either side, however it connects:
 * over the real transport (Hyperswarm on a loopback testnet), with many connections at once.
 */
const sodium = await loadSodium();

describe('guessing the code', () => {
  const swarms = useTestnetSwarms();
  const openSwarm = (): ReturnType<typeof swarms.open> => swarms.open();

  /** An attacker with a key pair of its own (Hyperswarm keeps one connection per peer key). */
  async function attackerConnection(nameplate: string): Promise<{ connection: FramedConnection; socket: PeerSocket }> {
    const swarm = await openSwarm();
    const connected = new Promise<PeerSocket>((resolve) => swarm.onConnection((socket) => resolve(socket)));
    swarm.lookup(topicForNameplate(nameplate));
    const socket = await connected;
    return { connection: new FramedConnection(socket, 20_000), socket };
  }

  function refusal(frame: Frame): string {
    if (frame.type !== FrameType.Refuse) return `frame ${frame.type}`;
    return RefuseReason[frame.body[0]!] ?? `reason ${frame.body[0]}`;
  }

  /** The real sender's rendezvous; resolves once the code's topic is announced. */
  async function realSender(code: string, events: AttemptEvent[]): Promise<{ paired: Promise<unknown> }> {
    const meeting = rendezvous({
      swarm: await openSwarm(),
      sodium,
      role: 'sender',
      code: parseCode(code),
      deadlineMs: 60_000,
      stepTimeoutMs: 20_000,
      onAttempt: (event) => events.push(event),
    });
    await meeting.ready;
    return { paired: meeting.paired };
  }

  test('many connections released at once get three tags checked, a right guess after them is refused, and more are turned away', async () => {
    const code = '8101-aardvark-zucchini';
    const events: AttemptEvent[] = [];
    const { paired } = await realSender(code, events);
    paired.catch(() => undefined);
    // One connection more than the sender keeps in the key exchange at once.
    const attackers = await Promise.all(Array.from({ length: MAX_PAIRINGS_AT_ONCE + 1 }, () => attackerConnection('8101')));
    const firstFrames = await Promise.all(attackers.map(({ connection }) => connection.receive(20_000)));
    const busy = attackers.filter((_, i) => firstFrames[i]!.type === FrameType.Refuse);
    assert.equal(busy.length, 1, 'one connection over the limit is turned away');
    assert.equal(refusal(firstFrames.find((frame) => frame.type === FrameType.Refuse)!), 'Busy');
    const guessing = attackers.filter((_, i) => firstFrames[i]!.type === FrameType.PakeShare);

    // The key exchange done with a guess on each; the sender's share already arrived (put back for exchangeShares).
    const held = await Promise.all(
      guessing.map(async ({ connection, socket }, i) => {
        const right = i === guessing.length - 1;
        const share = firstFrames[attackers.findIndex((attacker) => attacker.connection === connection)]!;
        return exchangeShares(connection, sodium, 'receiver', right ? code : `8101-abyss-${WRONG_WORDS[i]}`, socket, share);
      }),
    );
    const wrong = held.slice(0, -1);
    const right = held.at(-1)!;
    // Every wrong CONFIRM in the same tick: the sender must not check more than three.
    for (const guess of wrong) void guess.connection.send(FrameType.Confirm, guess.confirm);
    const answers = (await Promise.all(wrong.map((guess) => guess.connection.receive(20_000)))).map(refusal);
    // Three were checked (the sender's failed attempts below say so): two are told "wrong code",
    // the one that used the last attempt, and every unchecked one, "code burned".
    assert.equal(answers.filter((answer) => answer === 'WrongCode').length, 2, answers.join(', '));
    assert.equal(answers.filter((answer) => answer === 'CodeBurned').length, wrong.length - 2, answers.join(', '));
    // The right guess comes after three wrong ones: refused, unchecked.
    void right.connection.send(FrameType.Confirm, right.confirm).catch(() => undefined);
    assert.equal(refusal(await right.connection.receive(20_000)), 'CodeBurned');
    await assert.rejects(paired, /code burned after 3 wrong attempts/);
    assert.deepEqual(
      events.filter((event) => event.kind === 'failed'),
      [2, 1, 0].map((attemptsLeft) => ({ kind: 'failed', attemptsLeft })),
    );
  });

  test('many fake senders on the topic see at most three of the receiver\'s tags, and the receiver says someone may be guessing', async () => {
    const nameplate = '8102';
    let revealed = 0;
    const fakes = 6;
    for (let i = 0; i < fakes; i++) {
      const swarm = await openSwarm();
      swarm.onConnection((socket) => {
        const connection = new FramedConnection(socket, 20_000);
        void (async () => {
          await exchangeShares(connection, sodium, 'sender', `${nameplate}-abyss-acid`, socket);
          const frame = await connection.receive(20_000);
          if (frame.type === FrameType.Confirm) revealed++;
          // A guesser that learned its guess was wrong pretends the receiver's code was wrong.
          await connection.send(FrameType.Refuse, Uint8Array.of(RefuseReason.WrongCode));
        })().catch(() => undefined);
      });
      await swarm.announce(topicForNameplate(nameplate));
    }
    const events: AttemptEvent[] = [];
    const meeting = rendezvous({
      swarm: await openSwarm(),
      sodium,
      role: 'receiver',
      code: parseCode(`${nameplate}-aardvark-zucchini`),
      deadlineMs: 60_000,
      stepTimeoutMs: 20_000,
      onAttempt: (event) => events.push(event),
    });
    await assert.rejects(meeting.paired, /3 key confirmations with code 8102 failed: someone may be guessing the code/);
    assert.equal(revealed, 3, 'exactly three tags left the receiver');
    assert.deepEqual(
      events.filter((event) => event.kind === 'failed'),
      [2, 1, 0].map((attemptsLeft) => ({ kind: 'failed', attemptsLeft })),
    );
  });
});

