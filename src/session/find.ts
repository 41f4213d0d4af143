import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SESSION_ID_PATTERN } from '../bundle/manifest.js';
import { sessionStateDir } from './home.js';

export interface SessionLocation {
  readonly id: string;
  readonly dir: string;
}

export async function listSessionIds(home: string): Promise<string[]> {
  const root = sessionStateDir(home);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const ids: string[] = [];
  for (const name of names) {
    if (!SESSION_ID_PATTERN.test(name)) continue;
    if ((await stat(join(root, name)).catch(() => undefined))?.isDirectory()) ids.push(name);
  }
  return ids.sort();
}

/** Ids equal to, or starting with, what was typed; an exact id always wins. */
export function matchSessionIds(ids: readonly string[], query: string): string[] {
  const wanted = query.trim().toLowerCase();
  if (!/^[0-9a-f-]+$/.test(wanted)) return [];
  return ids.includes(wanted) ? [wanted] : ids.filter((id) => id.startsWith(wanted));
}

export function sessionLocation(home: string, id: string): SessionLocation {
  return { id, dir: join(sessionStateDir(home), id) };
}
