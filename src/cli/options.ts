import { BeamError } from '../errors.js';

/** Accepts "90", "90s", "10m", "1h" (a bare number is seconds). */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new BeamError('usage', `${option} takes a duration like 90s, 10m or 1h, not "${text}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
  const ms = Math.round(value * factor);
  if (ms <= 0 || ms > 24 * 3_600_000) throw new BeamError('usage', `${option} must be more than 0 and at most 24h`);
  return ms;
}

/** Accepts "2GB", "500MB", "2GiB", "1048576" (a bare number is bytes). */
export function parseSize(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?$/i.exec(text.trim());
  if (!match) throw new BeamError('usage', `${option} takes a size like 500MB or 4GB, not "${text}"`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const factors: Record<string, number> = {
    b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
  };
  const bytes = Math.floor(Number(match[1]) * factors[unit]!);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new BeamError('usage', `${option} must be a positive size`);
  return bytes;
}

export function parseWordCount(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value)) throw new BeamError('usage', `--code-length takes a number of words, not "${text}"`);
  return value;
}

export function parsePort(text: string, option: string): number {
  const port = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BeamError('usage', `${option} must be a port number from 1 to 65535, not "${text}"`);
  return port;
}
