import { BeamError } from '../errors.js';
import { MAX_TEXT_FIELD } from './limits.js';

/**
 * The first sealed messages: the sender says whether it wants the phrase check; the receiver
 * answers with the same and describes where the session would land, so the sender can decide
 * before any session byte (or even its name) leaves.
 */
export interface SenderHello {
  readonly verify: boolean;
}

export interface ReceiverEnvironment {
  readonly verify: boolean;
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
  const record = parseRecord(body, 'hello');
  if (typeof record.verify !== 'boolean') throw invalid('hello');
  return { verify: record.verify };
}

export function decodeReceiverEnvironment(body: Uint8Array): ReceiverEnvironment {
  const record = parseRecord(body, 'environment');
  const text = (value: unknown, required: boolean): string | undefined => {
    if (value === undefined || value === null) {
      if (required) throw invalid('environment');
      return undefined;
    }
    if (typeof value !== 'string' || value.length > MAX_TEXT_FIELD) throw invalid('environment');
    return value;
  };
  if (typeof record.verify !== 'boolean' || typeof record.homeReadableByOthers !== 'boolean') throw invalid('environment');
  let codespace: ReceiverEnvironment['codespace'];
  if (record.codespace !== undefined && record.codespace !== null) {
    if (typeof record.codespace !== 'object') throw invalid('environment');
    const raw = record.codespace as Record<string, unknown>;
    const name = text(raw.name, false);
    const owner = text(raw.owner, false);
    const repository = text(raw.repository, false);
    codespace = { ...(name ? { name } : {}), ...(owner ? { owner } : {}), ...(repository ? { repository } : {}) };
  }
  const repository = text(record.repository, false);
  return {
    verify: record.verify,
    hostname: text(record.hostname, true)!,
    user: text(record.user, true)!,
    platform: text(record.platform, true)!,
    ...(codespace ? { codespace } : {}),
    ...(repository ? { repository } : {}),
    homeReadableByOthers: record.homeReadableByOthers,
  };
}

function parseRecord(body: Uint8Array, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw invalid(what);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid(what);
  return parsed as Record<string, unknown>;
}

function invalid(what: string): BeamError {
  return new BeamError('protocol', `the peer sent a malformed ${what} message`);
}
