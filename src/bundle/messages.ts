import { displayText } from '../terminal-text.js';

/**
 * The messages inside the sealed channel (the first plaintext byte). The sender's stream is
 * HELLO, OFFER, DATA..., END; the receiver's is RECEIVER_HELLO, ENVIRONMENT, ACCEPT, CREDIT..., REVIEWING, then
 * INSTALLED, or REJECT / FAILED, or ALREADY_HERE in place of ACCEPT. The final message of each stream carries secretstream's FINAL tag.
 */
export enum MessageKind {
  Hello = 5,
  Offer = 1,
  Data = 2,
  End = 3,
  Abort = 4,
  Accept = 10,
  Reject = 11,
  Installed = 12,
  Failed = 13,
  Environment = 14,
  /** Receiver to sender during the transfer: "I have consumed this many more DATA bytes". */
  Credit = 15,
  /** Receiver to sender after END: all verified; a person reviews it before it is installed. */
  Reviewing = 16,
  /**
   * Receiver to sender instead of ACCEPT (final): it holds this session at this very point
   * already, received from the same offer and unchanged since, so nothing needs to travel.
   */
  AlreadyHere = 17,
  /** Receiver to sender on pairing: `{"verify"}`, whether its person asked for the phrase check. */
  ReceiverHello = 18,
}

export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function decodeReason(body: Uint8Array): string {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { message?: unknown };
    return displayText(parsed.message) || 'no reason given';
  } catch {
    return 'no reason given';
  }
}
