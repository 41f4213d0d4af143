import type { Code } from '../code/code.js';
import { codePassword } from '../code/code.js';
import { finishCpace, startCpace } from '../crypto/cpace.js';
import {
  channelIdentifier,
  confirmationTag,
  deriveSessionKeys,
  RECEIVER_LABEL,
  SENDER_LABEL,
  tagsEqual,
  wipeSessionKeys,
  type SessionKeys,
} from '../crypto/key-schedule.js';
import { Opener, SEALED_STREAM_HEADER_BYTES, Sealer } from '../crypto/sealed-stream.js';
import type { Sodium } from '../crypto/sodium.js';
import { utf8, concatBytes } from '../crypto/bytes.js';
import { BeamError } from '../errors.js';
import type { FramedConnection } from './connection.js';
import { FrameType, type Frame } from './framing.js';
import { SecureChannel } from './secure-channel.js';

export type Role = 'sender' | 'receiver';

/** What the Noise layer under us proved about this connection: the PAKE is bound to it. */
export interface NoiseBinding {
  readonly publicKey: Uint8Array;
  readonly remotePublicKey: Uint8Array;
  readonly handshakeHash: Uint8Array;
}

/** Plain-text reasons the sender may give before any key is confirmed. They reveal nothing. */
export enum RefuseReason {
  WrongCode = 1,
  CodeUsed = 2,
  CodeBurned = 3,
  /** Too many connections are exchanging keys with this code at once: someone may be guessing it. */
  Busy = 4,
}

/**
 * The guesses one code allows, shared by every connection of a rendezvous. A side reserves an
 * attempt synchronously at the moment a confirmation tag would be checked (sender) or revealed
 * (receiver), before anything is awaited, so parallel connections cannot get more than `limit`
 * tags checked or revealed however their messages are timed.
 */
export class AttemptBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Takes one attempt; false when all are taken (the code is spent). */
  reserve(): boolean {
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }

  get left(): number {
    return this.limit - this.used;
  }
}

export interface PairingOptions {
  readonly sodium: Sodium;
  readonly role: Role;
  readonly code: Code;
  readonly binding: NoiseBinding;
  readonly timeoutMs: number;
  /** Sender only: asked once the receiver proved the code; false means another receiver won. */
  readonly mayProceed?: () => boolean;
  /** The attempts this code allows, across every connection (unlimited when absent). */
  readonly budget?: AttemptBudget;
  /** Called when this connection took one of them (its outcome is then a counted attempt). */
  readonly onAttemptCounted?: () => void;
}

const TAG_BYTES = 32;
/** CONFIRM: the 32-byte tag, then the sender's or receiver's secretstream header. */
export const CONFIRM_BYTES = TAG_BYTES + SEALED_STREAM_HEADER_BYTES;

/** Every attempt the code allows was checked (sender) or revealed (receiver): the code is spent. */
export function spentError(role: Role, attempts: number, nameplate: string): BeamError {
  return role === 'sender'
    ? new BeamError('wrong-code', `code burned after ${attempts} wrong attempts: nothing was sent; start a new send`)
    : new BeamError(
        'wrong-code',
        `${attempts} key confirmations with code ${nameplate} failed: someone may be guessing the code (or it was mistyped); nothing was received: start again with a new code`,
      );
}

export function wrongCodeError(): BeamError {
  return new BeamError('wrong-code', 'wrong code: check it with the sender and try again');
}

/**
 * Runs CPace and explicit key confirmation over a fresh connection. The receiver confirms first;
 * the sender checks that before it says anything about itself, so a wrong guess learns only
 * "wrong code". Returns the sealed channel both sides then use.
 */
export async function pair(connection: FramedConnection, options: PairingOptions): Promise<SecureChannel> {
  try {
    const channel = await runPairing(connection, options);
    connection.allowPairedUnread();
    return channel;
  } catch (error) {
    connection.close(error instanceof BeamError ? error : undefined);
    throw error;
  }
}

async function runPairing(connection: FramedConnection, options: PairingOptions): Promise<SecureChannel> {
  const { sodium, role, code, binding, timeoutMs } = options;
  const senderKey = role === 'sender' ? binding.publicKey : binding.remotePublicKey;
  const receiverKey = role === 'sender' ? binding.remotePublicKey : binding.publicKey;
  const channelId = channelIdentifier(code.nameplate, senderKey, receiverKey);
  const sessionId = binding.handshakeHash;
  const ownLabel = role === 'sender' ? SENDER_LABEL : RECEIVER_LABEL;
  const peerLabel = role === 'sender' ? RECEIVER_LABEL : SENDER_LABEL;

  const state = startCpace(sodium, role === 'receiver' ? 'initiator' : 'responder', {
    password: utf8(codePassword(code)),
    channelId,
    sessionId,
    associatedData: ownLabel,
  });
  await connection.send(FrameType.PakeShare, state.share);
  const peerShare = expectFrame(await connection.receive(timeoutMs, 'the peer'), FrameType.PakeShare);
  const keys = deriveSessionKeys(sodium, finishCpace(sodium, state, peerShare, peerLabel));
  try {
    return await confirmKeys(connection, options, keys, channelId, sessionId);
  } finally {
    // Best effort: the sealed streams hold their own copies, and nothing else needs these now.
    wipeSessionKeys(sodium, keys);
  }
}

/** Explicit key confirmation, receiver first: each side proves it derived the same keys. */
async function confirmKeys(
  connection: FramedConnection,
  options: PairingOptions,
  keys: SessionKeys,
  channelId: Uint8Array,
  sessionId: Uint8Array,
): Promise<SecureChannel> {
  const { sodium, role, timeoutMs } = options;

  const ownTag = confirmationTag(sodium, role === 'sender' ? keys.confirmSender : keys.confirmReceiver, channelId, sessionId);
  const peerTagKey = role === 'sender' ? keys.confirmReceiver : keys.confirmSender;
  const sealer = new Sealer(role === 'sender' ? keys.senderToReceiver : keys.receiverToSender);
  const openKey = role === 'sender' ? keys.receiverToSender : keys.senderToReceiver;

  if (role === 'receiver') {
    // Our tag lets its holder check one guess of the code: at most `limit` of them ever leave.
    if (options.budget && !options.budget.reserve()) throw spentError(role, options.budget.limit, options.code.nameplate);
    options.onAttemptCounted?.();
    await connection.send(FrameType.Confirm, concatBytes([ownTag, sealer.header]));
  }
  const confirm = expectFrame(await connection.receive(timeoutMs, 'the peer'), FrameType.Confirm);
  // Reserved before the check, with nothing awaited in between: checks in flight count.
  if (role === 'sender' && options.budget && !options.budget.reserve()) {
    await refuse(connection, RefuseReason.CodeBurned);
    throw spentError(role, options.budget.limit, options.code.nameplate);
  }
  if (role === 'sender') options.onAttemptCounted?.();
  const peerTag = confirm.subarray(0, TAG_BYTES);
  const expected = confirmationTag(sodium, peerTagKey, channelId, sessionId);
  if (confirm.length !== CONFIRM_BYTES || !tagsEqual(sodium, peerTag, expected)) {
    // The guess that used the last attempt is told the code is gone, not to try again.
    if (role === 'sender') await refuse(connection, options.budget?.left === 0 ? RefuseReason.CodeBurned : RefuseReason.WrongCode);
    throw wrongCodeError();
  }
  if (options.mayProceed && !options.mayProceed()) {
    await refuse(connection, RefuseReason.CodeUsed);
    throw refusalError(RefuseReason.CodeUsed);
  }
  const opener = new Opener(openKey, confirm.subarray(TAG_BYTES));
  if (role === 'sender') await connection.send(FrameType.Confirm, concatBytes([ownTag, sealer.header]));
  return new SecureChannel(connection, sealer, opener, Uint8Array.from(keys.verification));
}

/** Tells a peer why it is turned away, then closes; best effort, since it may already be gone. */
export async function refuse(connection: FramedConnection, reason: RefuseReason): Promise<void> {
  await connection.send(FrameType.Refuse, Uint8Array.of(reason)).catch(() => undefined);
  await connection.finish(1000).catch(() => undefined);
}

function expectFrame(frame: Frame, type: FrameType): Uint8Array {
  if (frame.type === FrameType.Refuse) throw refusalError(frame.body[0]);
  if (frame.type !== type) {
    throw new BeamError('protocol', `the peer broke the pairing protocol (frame ${frame.type} where ${type} was due)`);
  }
  return frame.body;
}

function refusalError(reason: number | undefined): BeamError {
  switch (reason) {
    case RefuseReason.WrongCode:
      return wrongCodeError();
    case RefuseReason.CodeUsed:
      return new BeamError('declined', 'this code was already used by another receiver: ask the sender for a new one');
    case RefuseReason.CodeBurned:
      return new BeamError('wrong-code', 'the sender gave up after too many wrong codes: ask for a new code');
    case RefuseReason.Busy:
      return new BeamError('network', 'the sender is busy with too many connections using this code (someone may be guessing it): try again, or ask for a new code');
    default:
      return new BeamError('protocol', 'the peer refused the connection for an unknown reason');
  }
}
