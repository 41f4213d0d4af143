/**
 * Text that reaches a terminal must not be able to drive it: escape sequences (CSI such as
 * clear-screen, OSC such as set-title, and two-byte ones) and other control characters are
 * removed. One definition serves every place that prints.
 */
// eslint-disable-next-line no-control-regex
const ESCAPE_SEQUENCE = /\u001b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-_])/g;

/** For a line we print ourselves: keeps tab and newline (our own line breaks), drops the rest. */
export function stripTerminalControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(ESCAPE_SEQUENCE, '').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

/** For one value from outside (a hostname, a session name): a single line, capped in length. */
export function singleLineText(text: string, maxLength: number): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(ESCAPE_SEQUENCE, '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, maxLength);
}
