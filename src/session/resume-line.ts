import { homedir } from 'node:os';
import { join } from 'node:path';

/** The exact command that resumes the session here, including COPILOT_HOME when it is not the default. */
export function resumeCommand(sessionId: string, home: string, workingDir?: string): string {
  const cd = workingDir ? `cd ${shellQuote(workingDir)} && ` : '';
  const prefix = home === join(homedir(), '.copilot') ? '' : `COPILOT_HOME=${shellQuote(home)} `;
  return `${cd}${prefix}copilot --resume=${sessionId}`;
}

export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
