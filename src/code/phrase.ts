import { WORDLIST } from './wordlist.js';

export const PHRASE_WORDS = 4;

/**
 * A few words both sides derive from the session key, for people to compare by eye or voice:
 * matching phrases mean both screens belong to the two ends of this one connection. Each word
 * takes 16 bits of the key reduced modulo 1296 (the bias is under 2%, irrelevant for a check
 * that an attacker cannot steer: the key is fixed before anyone sees the phrase).
 */
export function verificationPhrase(key: Uint8Array, words: number = PHRASE_WORDS): string {
  if (key.length < words * 2) throw new Error('verification key too short');
  const chosen: string[] = [];
  for (let i = 0; i < words; i++) {
    const value = (key[2 * i]! << 8) | key[2 * i + 1]!;
    chosen.push(WORDLIST[value % WORDLIST.length]!);
  }
  return chosen.join(' ');
}
