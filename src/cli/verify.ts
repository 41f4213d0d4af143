import { verificationPhrase } from '../code/phrase.js';
import type { CommandContext } from './context.js';

/** Shows the phrase derived from the session key and asks the person to compare it with the other screen. */
export async function confirmPhrase(context: CommandContext, verificationKey: Uint8Array): Promise<boolean> {
  const phrase = verificationPhrase(verificationKey);
  context.ui.result('verify', { phrase }, ['', `Verification phrase:  ${phrase}`, '']);
  return context.ui.confirm('Does the other machine show the same phrase?', { readPipe: true });
}
