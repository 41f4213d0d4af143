/**
 * Text that reaches a terminal must not be able to drive it: escape sequences (CSI such as
 * clear-screen, OSC such as set-title, and two-byte ones) and other control characters are
 * removed. One definition serves every place that prints. The control characters in these
 * patterns are the point of them.
 */
const ESCAPE_SEQUENCE = /\u001b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-_])/g;

/** For a line we print ourselves: keeps tab and newline (our own line breaks), drops the rest. */
export function stripTerminalControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

/** For one value from outside (a hostname, a session name): a single line, capped in length. */
export function singleLineText(text: string, maxLength: number): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, maxLength);
}

/**
 * Text from outside this program (the peer, a session file, a folder name) on its way to a
 * person: one line, no terminal controls, capped in length; anything not a string shows empty.
 */
export function displayText(value: unknown, maxLength = 300): string {
  return singleLineText(typeof value === 'string' ? value : '', maxLength);
}
