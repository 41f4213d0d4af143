import { BeamError } from '../errors.js';
import { listSessionIds, listSessions, matchSessionIds, sessionLocation, type SessionLocation } from './find.js';
import { sessionStateDir } from './home.js';
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
  const root = (await checkoutAt(currentDir))?.root ?? currentDir;
  const inRoot = (path: string | undefined): boolean => path !== undefined && (path === root || path.startsWith(`${root}/`));
  const here = (await listSessions(home)).filter((candidate) => inRoot(candidate.workspace.gitRoot ?? candidate.workspace.cwd));
  here.sort((a, b) => (b.workspace.updatedAt ?? '').localeCompare(a.workspace.updatedAt ?? ''));
  const newest = here[0];
  if (!newest) {
    throw new BeamError('session', `no Copilot session ran in ${root}: name one (copilot-beam send <id or name>; "copilot-beam list" shows them)`);
  }
  return newest.location;
}
