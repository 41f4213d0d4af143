import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayText, stripTerminalControls } from '../src/terminal-text.js';

test('escape sequences and control characters never reach the terminal', () => {
  assert.equal(displayText('host\u001b[2J\u001b]0;owned\u0007name\u0007'), 'hostname ', 'a lone control character becomes a space');
  assert.equal(displayText('a\nb\tc'), 'a b c');
  assert.equal(stripTerminalControls('line one\nline\u001b[31m two\u0008'), 'line one\nline two');
});

test('bidirectional overrides, isolates and invisible characters are removed from what is shown', () => {
  // "txt.exe" displayed as "exe.txt" by a right-to-left override: shown as the bytes really read.
  assert.equal(displayText('report\u202Etxt.exe'), 'reporttxt.exe');
  for (const invisible of ['\u202A', '\u202B', '\u202C', '\u202D', '\u2066', '\u2067', '\u2068', '\u2069', '\u200B', '\u200E', '\u200F', '\uFEFF', '\u2060', '\u2028', '\u2029', '\u{E0041}']) {
    assert.equal(displayText(`a${invisible}b`), 'ab', JSON.stringify(invisible));
    assert.equal(stripTerminalControls(`a${invisible}b`), 'ab', JSON.stringify(invisible));
  }
  assert.equal(displayText('naïve café 名前'), 'naïve café 名前', 'ordinary text is untouched');
});

test('shown text is capped, and anything but a string shows empty', () => {
  assert.equal(displayText('x'.repeat(500), 10), 'x'.repeat(10));
  assert.equal(displayText(42), '');
  assert.equal(displayText(undefined), '');
});
