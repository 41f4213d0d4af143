import type { CleanupStack } from './cleanup.js';
import type { Ui } from './ui.js';

/** What every command gets from main: how to talk to the user and what to undo on Ctrl-C. */
export interface CommandContext {
  readonly ui: Ui;
  readonly cleanup: CleanupStack;
  readonly env: NodeJS.ProcessEnv;
}

/** Options shared by send and receive. */
export interface NetworkOptions {
  readonly bootstrap?: string;
  readonly relay?: string;
  readonly timeout: string;
  readonly idleTimeout: string;
  readonly json?: boolean;
}

/** Where `receive` also looks for the code, so that it need not appear in the process list. */
export const CODE_ENV = 'COPILOT_BEAM_CODE';
