import { BeamError } from '../errors.js';
import { listSessionIds, listSessions, matchSessionIds, sessionLocation, type SessionEntry, type SessionLocation } from './find.js';
import { sessionStateDir } from './home.js';
import { lastPrompt } from './last-prompt.js';
import { checkoutAt } from './repository.js';

/**
 * Which session `send` means: a full id or unique id prefix; else a session name (exact, any
 * case); with no argument, the most recently updated session of the checkout we are in.
 */
export async function chooseSession(home: string, query: string | undefined, currentDir: string): Promise<SessionLocation> {
  if (query === undefined || query.trim() === '') return mostRecentHere(home, currentDir);
  const byId = matchSessionIds(await listSessionIds(home), query);
  if (byId.length === 1) return sessionLocation(home, byId[0]!);
  if (byId.length > 1) {
    const shown = byId.slice(0, 4).join(', ');
    throw new BeamError('session', `"${query}" matches ${byId.length} sessions (${shown}${byId.length > 4 ? ', ...' : ''}): type more of the id`);
  }
  const wanted = query.trim().toLowerCase();
  const named = (await listSessions(home)).filter((candidate) => candidate.workspace.name?.toLowerCase() === wanted);
  if (named.length === 1) return named[0]!.location;
  if (named.length > 1) {
    const ids = named.map((candidate) => candidate.location.id.slice(0, 8)).join(', ');
    throw new BeamError('session', `${named.length} sessions are named "${query}" (${ids}): give the id instead`);
  }
  throw new BeamError('session', `no session with the id or name "${query}" in ${sessionStateDir(home)}: run "copilot-beam list" to see them`);
}

async function mostRecentHere(home: string, currentDir: string): Promise<SessionLocation> {
  const { root, ranHere } = await checkoutFilter(currentDir);
  const newest = newestFirst((await listSessions(home)).filter(ranHere))[0];
  if (!newest) {
    throw new BeamError('session', `no Copilot session ran in ${root}: name one (copilot-beam send <id or name>; "copilot-beam list" shows them)`);
  }
  return newest.location;
}

/** A session someone may pick to send, with what tells it apart from the others. */
export interface SessionChoice {
  readonly id: string;
  readonly name?: string;
  readonly folder?: string;
  readonly updatedAt?: string;
  readonly lastPrompt?: string;
  /** It ran in the checkout we are in. */
  readonly here: boolean;
}

/**
 * The sessions a person may pick from: those of this checkout first, each group newest first,
 * so the first is what `send` with no argument would take. At most `limit`, and how many in all.
 */
export async function sessionChoices(home: string, currentDir: string, limit: number): Promise<{ choices: SessionChoice[]; total: number }> {
  const { ranHere } = await checkoutFilter(currentDir);
  const sessions = await listSessions(home);
  const ordered = [...newestFirst(sessions.filter(ranHere)), ...newestFirst(sessions.filter((entry) => !ranHere(entry)))].slice(0, limit);
  const choices = await Promise.all(
    ordered.map(async (entry): Promise<SessionChoice> => {
      const { workspace, location } = entry;
      const prompt = await lastPrompt(location.dir);
      const folder = workspace.gitRoot ?? workspace.cwd;
      return {
        id: location.id,
        ...(workspace.name ? { name: workspace.name } : {}),
        ...(folder ? { folder } : {}),
        ...(workspace.updatedAt ? { updatedAt: workspace.updatedAt } : {}),
        ...(prompt ? { lastPrompt: prompt } : {}),
        here: ranHere(entry),
      };
    }),
  );
  return { choices, total: sessions.length };
}

async function checkoutFilter(currentDir: string): Promise<{ root: string; ranHere: (entry: SessionEntry) => boolean }> {
  const root = (await checkoutAt(currentDir))?.root ?? currentDir;
  const inRoot = (path: string | undefined): boolean => path !== undefined && (path === root || path.startsWith(`${root}/`));
  return { root, ranHere: (entry) => inRoot(entry.workspace.gitRoot ?? entry.workspace.cwd) };
}

function newestFirst(entries: readonly SessionEntry[]): SessionEntry[] {
  return [...entries].sort((a, b) => (b.workspace.updatedAt ?? '').localeCompare(a.workspace.updatedAt ?? ''));
}
