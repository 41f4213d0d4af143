import { verificationPhrase } from '../code/phrase.js';
import { decodeSenderHello, type ReceiverHello } from '../bundle/hello.js';
import { decodeReason, encodeJson, MessageKind } from '../bundle/messages.js';
import { BeamError } from '../errors.js';
import { receiverEnvironment } from '../session/environment.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import type { ReceiverDecisions } from './decisions.js';
import { withPeerReason } from './peer-leaving.js';
import { askWhileSenderWaits, refuseOnError, refuseSender } from './receiver-replies.js';
import { PERSON_TIMEOUT_MS } from './timeouts.js';

export interface IntroductionSettings {
  readonly verify: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly currentDir: string;
}

/**
 * Before anything about the session: the receiver says whether it wants the phrase check, the
 * sender's HELLO says whether it is on (both people then see the phrase at once), and only after
 * its own person's yes does the receiver describe its machine.
 */
export async function introduce(channel: SecureChannel, settings: IntroductionSettings, decisions: ReceiverDecisions): Promise<void> {
  const greeting: ReceiverHello = { verify: settings.verify };
  await channel.send(MessageKind.ReceiverHello, encodeJson(greeting));
  // The sender says hello once its scan is done, which may include its person's answer about secrets.
  const hello = await channel.receive(PERSON_TIMEOUT_MS, 'the sender');
  if (hello.kind === MessageKind.Abort) throw new BeamError('declined', `the sender stopped: ${decodeReason(hello.body)}`);
  if (hello.kind !== MessageKind.Hello) throw new BeamError('protocol', 'the sender broke the protocol (expected its hello)');
  // The sender shows the phrase as it says hello, so both people see it before either is asked.
  const phraseCheck = await refuseOnError(channel, async () => decodeSenderHello(hello.body).verify);
  if (settings.verify && !phraseCheck) {
    await refuseOnError(channel, async () => {
      throw new BeamError('protocol', 'the sender skipped the phrase check the receiver asked for (--verify): nothing was received');
    });
  }
  if (phraseCheck) {
    const phrase = verificationPhrase(channel.verificationKey);
    const matched = await refuseOnError(channel, () => askWhileSenderWaits(channel, (signal) => decisions.phraseMatches(phrase, signal)));
    if (!matched) await refuseSender(channel, 'the verification phrases did not match', 'the verification phrases did not match: nothing was received');
  }
  const environment = await receiverEnvironment(settings.env, settings.currentDir);
  // The sender's person may have said no to the phrase meanwhile: its ABORT says so better than a broken write.
  await channel.send(MessageKind.Environment, encodeJson(environment)).catch(async (error: unknown) => {
    throw await withPeerReason(channel, 'the sender', error);
  });
}
