import type { BeamError } from '../errors.js';
import { MAX_TEXT_FIELD } from './limits.js';

/**
 * Checked reads of JSON that came from the peer. Each message kind passes the error it raises,
 * so the manifest and the introductions share one set of rules and keep their own wording.
 */
export type Invalid = (reason: string, cause?: unknown) => BeamError;
export type JsonRecord = Record<string, unknown>;

export function parseJsonObject(bytes: Uint8Array, what: string, invalid: Invalid): JsonRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalid('it is not valid JSON', error);
  }
  return asRecord(parsed, what, invalid);
}

export function asRecord(raw: unknown, what: string, invalid: Invalid): JsonRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`${what} is not an object`);
  return raw as JsonRecord;
}

export function requiredText(record: JsonRecord, key: string, invalid: Invalid): string {
  const value = record[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT_FIELD) throw invalid(`"${key}" is missing or too long`);
  return value;
}

/** `{ [key]: value }` when present, `{}` when absent, so it spreads into the result. */
export function optionalText(record: JsonRecord, key: string, invalid: Invalid): Record<string, string> {
  const value = record[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'string' || value.length > MAX_TEXT_FIELD) throw invalid(`"${key}" is not a short text`);
  return { [key]: value };
}
