import { readdir } from 'node:fs/promises';
import { BeamError } from '../errors.js';
import { isProcessAlive } from './process-alive.js';

/**
 * Copilot 1.0.x marks a session it has open with `inuse.<pid>.lock` in the session folder (and
 * removes it on exit); SQLite keeps `session.db-wal` while a connection is open. Sending then
 * would copy a database and an event log in the middle of a write.
 */
export async function assertNotInUse(sessionDir: string, sessionId: string): Promise<void> {
  const names = await readdir(sessionDir);
  for (const name of names) {
    const owner = /^inuse\.(\d+)\.lock$/.exec(name);
    if (owner && Number(owner[1]) !== process.pid && isProcessAlive(Number(owner[1]))) {
      throw new BeamError(
        'session',
        `session ${sessionId} is open in a running Copilot (process ${owner[1]}): exit that Copilot, then send again`,
      );
    }
    if (name.endsWith('-wal')) {
      throw new BeamError(
        'session',
        `session ${sessionId} is being written by Copilot (${name} exists): exit Copilot, then send again`,
      );
    }
  }
}
