/**
 * Owner-only modes for everything copilot-beam writes of a session: it holds source code,
 * command output and possibly secrets.
 */
export const PRIVATE_FOLDER_MODE = 0o700;

/** Read and write for the owner; the owner's execute bit survives, nobody else's does. */
export function privateFileMode(sourceMode: number): number {
  return 0o600 | (sourceMode & 0o100);
}
