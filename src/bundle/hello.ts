import { BeamError } from '../errors.js';
import { asRecord, optionalText, parseJsonObject, requiredText, type Invalid } from './json-fields.js';

/**
 * The first sealed messages. On pairing the receiver says whether it wants the phrase check
 * (RECEIVER_HELLO). Once the sender is ready (its scan done), its HELLO says whether the check is
 * on, asked for by either side: from that moment both show the phrase. After its person's yes the
 * receiver describes where the session would land (ENVIRONMENT), so the sender can decide before
 * any session byte (or even its name) leaves.
 */
export interface SenderHello {
  /** The phrase check is on (either side asked for it): the sender shows the phrase now. */
  readonly verify: boolean;
}

export interface ReceiverHello {
  /** The receiver's person asked for the phrase check. */
  readonly verify: boolean;
}

export interface ReceiverEnvironment {
  readonly hostname: string;
  readonly user: string;
  readonly platform: string;
  /** Set when the receiver runs in a GitHub Codespace. */
  readonly codespace?: { readonly name?: string; readonly owner?: string; readonly repository?: string };
  /** The repository of the checkout the session would be installed for, if known. */
  readonly repository?: string;
  /** True when other users can read the receiver's home folder. */
  readonly homeReadableByOthers: boolean;
}

export function decodeSenderHello(body: Uint8Array): SenderHello {
  return { verify: decodeVerifyFlag(body, 'hello') };
}

export function decodeReceiverHello(body: Uint8Array): ReceiverHello {
  return { verify: decodeVerifyFlag(body, 'receiver hello') };
}

function decodeVerifyFlag(body: Uint8Array, what: string): boolean {
  const invalid = malformed(what);
  const record = parseJsonObject(body, what, invalid);
  if (typeof record.verify !== 'boolean') throw invalid('verify');
  return record.verify;
}

export function decodeReceiverEnvironment(body: Uint8Array): ReceiverEnvironment {
  const invalid = malformed('environment');
  const record = parseJsonObject(body, 'environment', invalid);
  if (typeof record.homeReadableByOthers !== 'boolean') throw invalid('flags');
  const codespace =
    record.codespace === undefined || record.codespace === null ? undefined : asRecord(record.codespace, 'codespace', invalid);
  return {
    hostname: requiredText(record, 'hostname', invalid),
    user: requiredText(record, 'user', invalid),
    platform: requiredText(record, 'platform', invalid),
    ...(codespace
      ? { codespace: { ...optionalText(codespace, 'name', invalid), ...optionalText(codespace, 'owner', invalid), ...optionalText(codespace, 'repository', invalid) } }
      : {}),
    ...optionalText(record, 'repository', invalid),
    homeReadableByOthers: record.homeReadableByOthers,
  };
}

/** Whatever is wrong inside, the user learns which message was malformed; details stay out. */
function malformed(what: string): Invalid {
  return () => new BeamError('protocol', `the peer sent a malformed ${what} message`);
}
