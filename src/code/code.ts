import { randomInt } from 'node:crypto';
import { BeamError } from '../errors.js';
import { WORDLIST } from './wordlist.js';

/**
 * A one-time code is `<nameplate>-<word>-<word>[...]`. The nameplate is public (it picks the DHT
 * topic); only the words are the password, so their count sets the strength.
 */
export interface Code {
  /** Decimal digits without leading zeros: the rendezvous name, not a secret. */
  readonly nameplate: string;
  /** Full words from the wordlist: the low-entropy password fed to the PAKE. */
  readonly words: readonly string[];
}

export const DEFAULT_CODE_WORDS = 2;
export const MIN_CODE_WORDS = 2;
export const MAX_CODE_WORDS = 8;
export const MAX_NAMEPLATE = 9999;
const MAX_NAMEPLATE_DIGITS = 6;

export function bitsPerWord(): number {
  return Math.log2(WORDLIST.length);
}

export function generateCode(wordCount: number = DEFAULT_CODE_WORDS): Code {
  if (!Number.isInteger(wordCount) || wordCount < MIN_CODE_WORDS || wordCount > MAX_CODE_WORDS) {
    throw new BeamError(
      'usage',
      `--code-length must be a whole number of words from ${MIN_CODE_WORDS} to ${MAX_CODE_WORDS}`,
    );
  }
  const nameplate = String(randomInt(1, MAX_NAMEPLATE + 1));
  const words: string[] = [];
  for (let i = 0; i < wordCount; i++) words.push(WORDLIST[randomInt(WORDLIST.length)]!);
  return { nameplate, words };
}

export function formatCode(code: Code): string {
  return [code.nameplate, ...code.words].join('-');
}

/** The password bytes both sides feed to the PAKE: canonical whatever the user typed. */
export function codePassword(code: Code): string {
  return code.words.join('-');
}

/**
 * Accepts what people actually type: any case, spaces or hyphens between parts, and any prefix
 * that names exactly one word. Anything else is refused with a message saying which part is wrong.
 */
export function parseCode(input: string): Code {
  const parts = input.trim().toLowerCase().split(/[\s-]+/).filter((part) => part.length > 0);
  if (parts.length === 0) throw codeError('the code is empty');
  const [nameplatePart, ...wordParts] = parts as [string, ...string[]];
  const nameplate = parseNameplate(nameplatePart);
  if (wordParts.length < MIN_CODE_WORDS) {
    throw codeError(`it needs at least ${MIN_CODE_WORDS} words after the number, like 4821-tugboat-wrongdoing`);
  }
  if (wordParts.length > MAX_CODE_WORDS) {
    throw codeError(`it has ${wordParts.length} words; codes have at most ${MAX_CODE_WORDS}`);
  }
  return { nameplate, words: wordParts.map(completeWord) };
}

function parseNameplate(part: string): string {
  if (!/^\d+$/.test(part)) {
    throw codeError(`it must start with the number shown by the sender, not "${part}"`);
  }
  const withoutZeros = part.replace(/^0+/, '');
  if (withoutZeros.length === 0 || withoutZeros.length > MAX_NAMEPLATE_DIGITS) {
    throw codeError(`"${part}" is not a valid code number`);
  }
  return withoutZeros;
}

/** Resolves a typed word or unique prefix to its full word. */
export function completeWord(typed: string): string {
  if (!/^[a-z]+$/.test(typed)) throw codeError(`"${typed}" is not a code word (letters only)`);
  const matches = wordsStartingWith(typed);
  if (matches.length === 1) return matches[0]!;
  if (matches.includes(typed)) return typed;
  if (matches.length === 0) {
    const nearest = nearestWord(typed);
    throw codeError(`"${typed}" is not one of the code words${nearest ? ` (did you mean "${nearest}"?)` : ''}`);
  }
  const examples = matches.slice(0, 3).join(', ');
  throw codeError(`"${typed}" could be several words (${examples}, ...): type more letters`);
}

/** The code word a typo most likely meant: within two edits (insert, delete, change, swap). */
export function nearestWord(typed: string): string | undefined {
  let best: { word: string; distance: number } | undefined;
  for (const word of WORDLIST) {
    // Compared with the word cut to the typed length too: "mozarel" is a prefix of "mozzarella" with a typo.
    const distance = Math.min(editDistance(typed, word), editDistance(typed, word.slice(0, typed.length)));
    if (distance <= MAX_SUGGESTION_EDITS && (!best || distance < best.distance)) best = { word, distance };
  }
  return best?.word;
}

const MAX_SUGGESTION_EDITS = 2;

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}

export function wordsStartingWith(prefix: string): string[] {
  return WORDLIST.filter((word) => word.startsWith(prefix));
}

function codeError(reason: string): BeamError {
  return new BeamError('usage', `invalid code: ${reason}`);
}
