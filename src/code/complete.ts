import { wordsStartingWith } from './code.js';

/**
 * Tab completion for a code being typed (readline's completer contract): completes the word under
 * the cursor when its letters name one word, lists the candidates when they name several.
 */
export function completeCodeLine(line: string): [string[], string] {
  const current = /(\S*)$/.exec(line)![1]!;
  // The number typed: Tab adds the separator, ready for the first word.
  if (/^\s*\d+$/.test(line)) return [[`${current}-`], current];
  const match = /([a-zA-Z]+)$/.exec(line);
  const hasNameplate = /^\s*\d+[\s-]/.test(line);
  // Nothing to complete: the word itself, so that Tab changes nothing (readline would insert a tab).
  if (!match || !hasNameplate) return [[current], current];
  const typed = match[1]!.toLowerCase();
  const hits = wordsStartingWith(typed);
  if (hits.length === 0) return [[match[1]!], match[1]!];
  if (hits.length === 1) return [[`${hits[0]}-`], match[1]!];
  if (hits.length <= MAX_LISTED) return [hits, match[1]!];
  // A cut list says it is cut: the extra entry shares no prefix, so readline inserts nothing.
  return [[...hits.slice(0, MAX_LISTED), `(and ${hits.length - MAX_LISTED} more: type more letters)`], match[1]!];
}

const MAX_LISTED = 20;
