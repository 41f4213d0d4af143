export * from './code.js';
export { WORDLIST } from './wordlist.js';
export * from './phrase.js';
export * from './complete.js';
