import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Copilot honours COPILOT_HOME; without it everything lives in ~/.copilot. */
export function copilotHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.COPILOT_HOME;
  return configured && configured.trim() !== '' ? resolve(configured) : join(homedir(), '.copilot');
}

export function sessionStateDir(home: string): string {
  return join(home, 'session-state');
}

/** The folder of one session: session-state/<id>. */
export function sessionDir(home: string, sessionId: string): string {
  return join(sessionStateDir(home), sessionId);
}

/** copilot-beam's own working area: beside session-state, never inside it. */
export function beamWorkDir(home: string): string {
  return join(home, 'copilot-beam');
}
