import { BeamError } from '../errors.js';

/** The environment variable that names a blind relay (kept apart so help text needs no DHT code). */
export const RELAY_ENV = 'COPILOT_BEAM_RELAY';

/** A relay is named by its DHT public key: 64 hex characters, as `copilot-beam relay` prints it. */
export function parseRelayKey(text: string): Uint8Array {
  const trimmed = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    throw new BeamError('usage', `bad relay key "${trimmed.slice(0, 80)}": expected the 64 hex characters "copilot-beam relay" prints`);
  }
  return Uint8Array.from(Buffer.from(trimmed, 'hex'));
}

/** --relay wins over the environment; neither means no relay. */
export function resolveRelay(optionValue: string | undefined, env: NodeJS.ProcessEnv = process.env): Uint8Array | undefined {
  const text = optionValue ?? env[RELAY_ENV];
  if (text === undefined || text.trim() === '') return undefined;
  return parseRelayKey(text);
}
