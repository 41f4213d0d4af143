import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SESSION_ID_PATTERN } from './manifest.js';
import { sessionDir, sessionStateDir } from './home.js';
import { readWorkspace, type WorkspaceInfo } from './source-info.js';

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
  return { id, dir: sessionDir(home, id) };
}

export interface SessionEntry {
  readonly location: SessionLocation;
  readonly workspace: WorkspaceInfo;
}

/** Every session of this Copilot home with what its workspace.yaml says (name, cwd, times). */
export async function listSessions(home: string): Promise<SessionEntry[]> {
  const ids = await listSessionIds(home);
  return Promise.all(
    ids.map(async (id) => {
      const location = sessionLocation(home, id);
      return { location, workspace: await readWorkspace(location.dir) };
    }),
  );
}
