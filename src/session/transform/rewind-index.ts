import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PathRemapper } from './path-mapping.js';

/**
 * The rewind index stores each edited file's path three ways: `path`, `resolvedPath`, and
 * `encodedPath: {encoding: "unix-bytes", data: <hex of the path bytes>}`. All three must move
 * together or rewinding would restore files outside this checkout.
 */
export async function remapRewindIndex(sessionDir: string, remapper: PathRemapper): Promise<number> {
  const path = join(sessionDir, 'rewind-file-snapshots', 'index.json');
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 0;
  }
  const changes = { count: 0 };
  const remapped = remapEncodedPaths(remapper.remapJson(parsed, changes), remapper, changes);
  if (changes.count > 0) await writeFile(path, JSON.stringify(remapped), { mode: 0o600 });
  return changes.count;
}

function remapEncodedPaths(value: unknown, remapper: PathRemapper, changes: { count: number }): unknown {
  if (Array.isArray(value)) return value.map((item) => remapEncodedPaths(item, remapper, changes));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (record.encoding === 'unix-bytes' && typeof record.data === 'string' && /^([0-9a-f]{2})*$/i.test(record.data)) {
    const decoded = Buffer.from(record.data, 'hex').toString('utf8');
    const remapped = remapper.remap(decoded);
    if (remapped === decoded) return record;
    changes.count++;
    return { ...record, data: Buffer.from(remapped, 'utf8').toString('hex') };
  }
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, remapEncodedPaths(item, remapper, changes)]));
}
