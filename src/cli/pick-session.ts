import { BeamError } from '../errors.js';
import { sessionChoices, type SessionChoice } from '../session/choose.js';
import { displayText } from '../terminal-text.js';
import type { CommandContext } from './context.js';

/** Sessions listed; the rest are named by id or name, as "copilot-beam list" shows them. */
const SHOWN = 9;
const TRIES = 3;

/**
 * `send` without a session, on a terminal: the person picks from the sessions here (this checkout
 * first, newest first, so Enter takes the newest of this checkout when there is one), each with
 * its id, name, folder and last prompt (secrets in it replaced by markers). Returns the id, or
 * what was typed to be found by id or name; undefined when there is nothing to choose between.
 */
export async function pickSession(context: CommandContext, home: string, currentDir: string): Promise<string | undefined> {
  const { choices, total } = await sessionChoices(home, currentDir, SHOWN);
  const onlyOneHere = total === 1 && choices[0]?.here === true;
  if (total === 0 || onlyOneHere) return undefined;
  context.ui.result('sessions', {}, choiceLines(choices, total));
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    const answer = (await context.ui.ask(`Send which session? [1-${choices.length}, an id or a name; Enter for 1] `))?.trim();
    if (answer === undefined) break;
    if (answer === '') return choices[0]!.id;
    const picked = /^\d{1,3}$/.test(answer) ? choices[Number(answer) - 1] : undefined;
    if (picked) return picked.id;
    // Anything else is an id prefix or a name (ids and names can be all digits too).
    if (!/^\d{1,2}$/.test(answer)) return answer;
    context.ui.warn(`there is no session ${answer} in the list: type a number from 1 to ${choices.length}, an id or a name`);
  }
  throw new BeamError('usage', 'no session picked: name one (copilot-beam send <id or name>; "copilot-beam list" shows them)');
}

/** One line of at most `length` characters, words separated by single spaces. */
function shortened(text: string, length: number): string {
  const line = displayText(text, 4 * length).replace(/\s+/g, ' ').trim();
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}

function choiceLines(choices: readonly SessionChoice[], total: number): string[] {
  const lines = ['Sessions (this checkout first, newest first):'];
  choices.forEach((choice, index) => {
    const updated = choice.updatedAt ? choice.updatedAt.slice(0, 16).replace('T', ' ') : '';
    const columns = [`${index + 1}`.padStart(3), choice.id.slice(0, 8), updated.padEnd(16), displayText(choice.name ?? '(no name)', 40)];
    lines.push(columns.join('  '));
    lines.push(`${' '.repeat(5)}${displayText(choice.folder ?? '(folder unknown)', 70)}${choice.here ? '  (this checkout)' : ''}`);
    if (choice.lastPrompt) lines.push(`${' '.repeat(5)}last prompt: "${shortened(choice.lastPrompt, 70)}"`);
  });
  if (total > choices.length) lines.push(`  (and ${total - choices.length} more: "copilot-beam list" shows them all; type an id or a name)`);
  return lines;
}
