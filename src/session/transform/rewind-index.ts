import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PathRemapper } from './path-mapping.js';
import { liesWithin } from './within.js';

/**
 * The rewind index (Copilot CLI 1.0.102, schema 1) stores each edited file's path as `path`,
 * `resolvedPath` and `encodedPath: {encoding: "unix-bytes", data: <hex of the path bytes>}`,
 * under a key that is the first 32 hex digits of SHA-256(path). All of them must move together,
 * or rewinding would restore files outside this checkout or not find them.
 */
export interface RewindReport {
  readonly remappedPaths: number;
  /** Snapshot entries naming a file outside the destination checkout: "/rewind" would write there. */
  readonly droppedEntries: number;
}

/**
 * Moves the rewind index to the destination checkout and drops every entry that would make
 * "/rewind" write or delete a file anywhere else (every entry, when there is no destination).
 */
export async function neutraliseRewindIndex(sessionDir: string, remapper: PathRemapper | undefined, destination: string | undefined): Promise<RewindReport> {
  const path = join(sessionDir, 'rewind-file-snapshots', 'index.json');
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return { remappedPaths: 0, droppedEntries: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { remappedPaths: 0, droppedEntries: 0 };
  }
  const changes = { count: 0 };
  const remapped = remapper ? rekeyFiles(remapEncodedPaths(remapper.remapJson(parsed, changes), remapper, changes), parsed) : parsed;
  const dropped = { count: 0 };
  const kept = dropEntriesOutside(remapped, destination, dropped);
  if (changes.count > 0 || dropped.count > 0) await writeFile(path, JSON.stringify(kept), { mode: 0o600 });
  return { remappedPaths: changes.count, droppedEntries: dropped.count };
}

/** In every snapshot's `files`, keeps the entries whose every path lies inside `destination`. */
function dropEntriesOutside(index: unknown, destination: string | undefined, dropped: { count: number }): unknown {
  if (index === null || typeof index !== 'object' || !Array.isArray((index as { snapshots?: unknown }).snapshots)) return index;
  const snapshots = (index as { snapshots: unknown[] }).snapshots.map((snapshot) => {
    if (snapshot === null || typeof snapshot !== 'object') return snapshot;
    const record = snapshot as Record<string, unknown>;
    if (record.files === null || typeof record.files !== 'object') return snapshot;
    const entries = Object.entries(record.files as Record<string, unknown>);
    const inside = entries.filter(([, entry]) => destination !== undefined && pathsIn(entry).every((file) => liesWithin(file, destination)));
    if (inside.length === entries.length) return snapshot;
    dropped.count += entries.length - inside.length;
    return { ...record, files: Object.fromEntries(inside), ...(typeof record.fileCount === 'number' ? { fileCount: inside.length } : {}) };
  });
  return { ...(index as Record<string, unknown>), snapshots };
}

/** Every path an entry names: `path`, `resolvedPath` and hex `encodedPath` at any depth. */
function pathsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) pathsIn(item, found);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record.encoding === 'unix-bytes' && typeof record.data === 'string') found.push(Buffer.from(record.data, 'hex').toString('utf8'));
    for (const [key, item] of Object.entries(record)) {
      if ((key === 'path' || key === 'resolvedPath') && typeof item === 'string') found.push(item);
      else pathsIn(item, found);
    }
  }
  return found;
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

export function pathKey(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 32);
}

/** Renames `files` entries keyed by the hash of their old path to the hash of the new one. */
function rekeyFiles(remapped: unknown, original: unknown): unknown {
  if (Array.isArray(remapped) && Array.isArray(original)) return remapped.map((item, i) => rekeyFiles(item, original[i]));
  if (remapped === null || typeof remapped !== 'object' || original === null || typeof original !== 'object') return remapped;
  const next = remapped as Record<string, unknown>;
  const before = original as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(next)) {
    const old = before[key] as { path?: unknown } | undefined;
    const entry = value as { path?: unknown } | null;
    const newPath = entry && typeof entry === 'object' && typeof entry.path === 'string' ? entry.path : undefined;
    const oldPath = old && typeof old === 'object' && typeof old.path === 'string' ? old.path : undefined;
    const rekey = newPath !== undefined && oldPath !== undefined && newPath !== oldPath && key === pathKey(oldPath);
    out[rekey ? pathKey(newPath) : key] = rekeyFiles(value, before[key]);
  }
  return out;
}
