import { hostname } from 'node:os';
import { encodeJson, MessageKind } from '../bundle/messages.js';
import { BeamError, toBeamError } from '../errors.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import { askWhilePeerWaits } from './peer-leaving.js';

/*
 * How the receiver answers the sender: a last word after the install, a person's "no", a check
 * that failed before the transfer. Each tells the sender why, so both sides exit clearly.
 */

/** Installed (or already here) is done: a sender that vanished now does not make this a failure. */
export async function tellSenderLast(channel: SecureChannel, kind: MessageKind.Installed | MessageKind.AlreadyHere, sessionId: string): Promise<boolean> {
  try {
    await channel.send(kind, encodeJson({ sessionId, hostname: hostname() }), true);
    await channel.finish();
    return true;
  } catch {
    return false;
  }
}

export function askWhileSenderWaits<T>(channel: SecureChannel, question: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return askWhilePeerWaits(channel, 'the sender', question);
}

/** A person here said no: the sender is told `toSender` as our last message, and this side reports `here`. */
export async function refuseSender(channel: SecureChannel, toSender: string, here: string): Promise<never> {
  await channel.sendFinalAndClose(MessageKind.Reject, encodeJson({ message: toSender }));
  throw new BeamError('declined', here);
}

/** A check that fails before the transfer also tells the sender why, so both sides exit clearly. */
export async function refuseOnError<T>(channel: SecureChannel, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    const failure = toBeamError(error);
    await channel.sendFinalAndClose(MessageKind.Reject, encodeJson({ message: failure.forPeer }));
    throw failure;
  }
}

