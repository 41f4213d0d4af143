import type { Ui } from './ui.js';

/** Shows the phrase derived from the session key and asks the person to compare it with the other screen. */
export async function confirmPhrase(ui: Ui, phrase: string, signal?: AbortSignal): Promise<boolean> {
  ui.result('verify', { phrase }, ['', `Verification phrase:  ${phrase}`, '']);
  return ui.confirm('Does the other machine show the same phrase?', { readPipe: true, signal });
}
