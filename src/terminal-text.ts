/**
 * Text that reaches a terminal must not be able to drive it or disguise itself: escape sequences
 * (CSI such as clear-screen, OSC such as set-title, and two-byte ones), other control characters
 * and invisible format characters are removed. One definition serves every place that prints. The control characters in these
 * patterns are the point of them.
 */
const ESCAPE_SEQUENCE = /\u001b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-_])/g;
/**
 * Invisible format characters (Unicode category Cf) and the line and paragraph separators: the
 * bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) can make a shown name or
 * path read as something else, zero-width ones hide text, and U+2028/U+2029 break lines.
 */
const INVISIBLE = /[\p{Cf}\u2028\u2029]/gu;

/** For a line we print ourselves: keeps tab and newline (our own line breaks), drops the rest. */
export function stripTerminalControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '').replace(INVISIBLE, '');
}

/** For one value from outside (a hostname, a session name): a single line, capped in length. */
export function singleLineText(text: string, maxLength: number): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(INVISIBLE, '').slice(0, maxLength);
}

/**
 * Text from outside this program (the peer, a session file, a folder name) on its way to a
 * person: one line, no terminal controls, capped in length; anything not a string shows empty.
 */
export function displayText(value: unknown, maxLength = 300): string {
  return singleLineText(typeof value === 'string' ? value : '', maxLength);
}
