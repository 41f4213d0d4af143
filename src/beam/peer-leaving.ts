import { decodeReason, MessageKind } from '../bundle/messages.js';
import { BeamError } from '../errors.js';
import { PeerCancelledError, type SealedMessage, type SecureChannel } from '../transport/secure-channel.js';

/**
 * Asks a person something while the other side waits for the answer. If the other side leaves
 * meanwhile (it cancelled, or its connection ended), the question is withdrawn through its signal
 * and the beam stops with what the other side said, instead of an answer that nobody hears.
 */
export async function askWhilePeerWaits<T>(channel: SecureChannel, peer: string, ask: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const withdraw = new AbortController();
  let answered = false;
  // A question withdrawn below fails; the peer's reason is what counts then, so it never settles.
  const asked = ask(withdraw.signal).catch((error: unknown) => {
    if (withdraw.signal.aborted) return new Promise<never>(() => undefined);
    throw error;
  });
  const left = channel.ended.then(async (reason): Promise<never> => {
    if (answered) return new Promise<never>(() => undefined);
    const why = await whyPeerLeft(channel, peer, reason);
    withdraw.abort();
    throw why;
  });
  left.catch(() => undefined);
  try {
    return await Promise.race([asked, left]);
  } finally {
    answered = true;
  }
}

/**
 * A CANCEL, or a final "no", that arrived before the connection ended says why; otherwise the
 * end itself does. Both people can be asked at once (the phrase check), so the other side may
 * have sent its next message (ENVIRONMENT) before it left: what came before its last word is
 * passed over.
 */
async function whyPeerLeft(channel: SecureChannel, peer: string, ended: BeamError): Promise<BeamError> {
  // Cut off by us (it ignored flow control, or sent what it must not): it did not leave.
  if (ended.kind === 'protocol') return ended;
  const gone = new BeamError('network', `${peer} left (${ended.message}): nothing more happens on this side`);
  for (let unread = 0; unread < MAX_MESSAGES_BEFORE_CANCEL; unread++) {
    let message: SealedMessage;
    try {
      message = await channel.receive(1000, peer);
    } catch (error) {
      return error instanceof PeerCancelledError ? error : gone;
    }
    const refusal = refusalIn(message, peer);
    if (refusal) return refusal;
    if (message.final) return new BeamError('protocol', `${peer} broke the protocol (it ended with message ${message.kind} while a person was being asked)`);
  }
  return gone;
}

/** The other side's final "no" (REJECT from a receiver, ABORT from a sender), as this side reports it. */
function refusalIn(message: SealedMessage, peer: string): BeamError | undefined {
  if (!message.final || (message.kind !== MessageKind.Reject && message.kind !== MessageKind.Abort)) return undefined;
  return new BeamError('declined', `${peer} ${message.kind === MessageKind.Reject ? 'declined' : 'stopped'}: ${decodeReason(message.body)}`);
}

/**
 * A failure while the other side may have stopped (our write hit its closed connection, say):
 * its CANCEL, or its final "no", when one arrived, says better what happened than the broken
 * write does.
 */
export async function withPeerReason(channel: SecureChannel, peer: string, error: unknown): Promise<unknown> {
  if (error instanceof PeerCancelledError || !(error instanceof BeamError) || (error.kind !== 'network' && error.kind !== 'timeout')) return error;
  // Messages the peer sent before its CANCEL (credits it granted, say) are still queued first.
  for (let unread = 0; unread < MAX_MESSAGES_BEFORE_CANCEL; unread++) {
    try {
      const refusal = refusalIn(await channel.receive(200), peer);
      if (refusal) return refusal;
    } catch (reason) {
      return reason instanceof PeerCancelledError ? reason : error;
    }
  }
  return error;
}

/** Far more than a peer sends before its last word (a few messages): the search for a CANCEL always ends. */
const MAX_MESSAGES_BEFORE_CANCEL = 128;
