import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bitsPerWord, completeCodeLine, formatCode, generateCode, parseCode, WORDLIST, DEFAULT_CODE_WORDS } from '../src/code/index.js';

test('the wordlist has 1296 distinct words with distinct three-letter prefixes', () => {
  assert.equal(WORDLIST.length, 1296);
  assert.equal(new Set(WORDLIST).size, 1296);
  assert.equal(new Set(WORDLIST.map((word) => word.slice(0, 3))).size, 1296);
  for (const word of WORDLIST) assert.match(word, /^[a-z]{3,}$/);
});

test('the default code carries at least 20 bits in its words', () => {
  assert.ok(bitsPerWord() * DEFAULT_CODE_WORDS >= 20);
  assert.equal(generateCode().words.length, DEFAULT_CODE_WORDS);
  assert.equal(generateCode(5).words.length, 5);
});

test('generated codes parse back to themselves', () => {
  for (let i = 0; i < 200; i++) {
    const code = generateCode(2 + (i % 4));
    assert.match(code.nameplate, /^[1-9]\d{0,3}$/);
    assert.deepEqual(parseCode(formatCode(code)), code);
  }
});

test('parsing accepts case, spaces and unique prefixes', () => {
  const expected = { nameplate: '4821', words: ['aardvark', 'zucchini'] };
  assert.deepEqual(parseCode('4821-aardvark-zucchini'), expected);
  assert.deepEqual(parseCode('  4821 AARDVARK   Zucchini '), expected);
  assert.deepEqual(parseCode('4821-aar-zuc'), expected);
  assert.deepEqual(parseCode('04821 aardv - zucchini'), expected);
});

test('parsing rejects bad codes with a message naming the problem', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['amber-tidal-4821', /start with the number/],
    ['4821-aardvark', /at least 2 words/],
    ['4821-aardvark-notaword', /"notaword" is not one of the code words/],
    ['4821-ab-zucchini', /"ab" could be several words/],
    ['4821-aardvark-zucch1ni', /letters only/],
    ['0-aardvark-zucchini', /not a valid code number/],
    ['4821-a-b-c-d-e-f-g-h-i', /at most 8/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseCode(input), (error: Error & { kind?: string }) => {
      assert.equal(error.kind, 'usage');
      assert.match(error.message, message);
      return true;
    }, input);
  }
});

test('code length outside 2..8 words is refused', () => {
  assert.throws(() => generateCode(1), /--code-length/);
  assert.throws(() => generateCode(9), /--code-length/);
});

test('tab completion completes a unique prefix and lists ambiguous ones', () => {
  assert.deepEqual(completeCodeLine('4821-tug'), [['tugboat-'], 'tug']);
  assert.deepEqual(completeCodeLine('4821 tugboat wro'), [['wrongdoing-'], 'wro']);
  const [several, typed] = completeCodeLine('4821-ab');
  assert.equal(typed, 'ab');
  assert.ok(several.length > 1 && several.every((word) => word.startsWith('ab')));
  // Where there is nothing to complete, Tab changes nothing (readline inserts a tab on no answer).
  assert.deepEqual(completeCodeLine('tug'), [['tug'], 'tug'], 'no word completion before the number');
  assert.deepEqual(completeCodeLine('4821-qqq'), [['qqq'], 'qqq']);
  assert.deepEqual(completeCodeLine('4821'), [['4821-'], '4821'], 'after the number, Tab adds the separator');
});

test('a mistyped word suggests the word it most likely meant', () => {
  assert.throws(() => parseCode('4821-tugbaot-wrongdoing'), /"tugbaot" is not one of the code words \(did you mean "tugboat"\?\)/);
  assert.throws(() => parseCode('4821-mozarela-wrongdoing'), /did you mean "mozzarella"\?/);
  assert.throws(() => parseCode('4821-qqqqqqqq-wrongdoing'), (error: Error) => /not one of the code words/.test(error.message) && !/did you mean/.test(error.message));
});

test('a list of completions that is cut says how many more there are', () => {
  const [listed] = completeCodeLine('4821-a');
  assert.equal(listed.length, 21);
  assert.match(listed.at(-1)!, /^\(and \d+ more: type more letters\)$/);
});
