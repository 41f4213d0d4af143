import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SESSION_ID_PATTERN } from '../bundle/manifest.js';
import { BeamError } from '../errors.js';
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

/** Finds a session by its full id or a prefix that names exactly one session. */
export async function findSession(home: string, query: string): Promise<SessionLocation> {
  const wanted = query.trim().toLowerCase();
  if (!/^[0-9a-f-]+$/.test(wanted)) {
    throw new BeamError('session', `"${query}" is not a session id: give its uuid or the first characters of it`);
  }
  const ids = await listSessionIds(home);
  const matches = ids.filter((id) => id.startsWith(wanted));
  if (matches.length === 0) {
    throw new BeamError('session', `no session "${query}" in ${sessionStateDir(home)}: run "copilot-beam list" to see them`);
  }
  if (matches.length > 1 && !matches.includes(wanted)) {
    const shown = matches.slice(0, 4).join(', ');
    throw new BeamError('session', `"${query}" matches ${matches.length} sessions (${shown}${matches.length > 4 ? ', ...' : ''}): type more of the id`);
  }
  const id = matches.length === 1 ? matches[0]! : wanted;
  return { id, dir: join(sessionStateDir(home), id) };
}
