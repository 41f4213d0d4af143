/**
 * Every failure a user can meet is a BeamError: a kind (which decides the exit code) and a
 * one-line message that says what happened and what to do about it.
 */
export type ErrorKind =
  | 'usage'
  | 'wrong-code'
  | 'timeout'
  | 'network'
  | 'session'
  | 'declined'
  | 'protocol'
  | 'install'
  | 'interrupted'
  | 'internal';

/** Exit codes are part of the interface: scripts branch on them (README, "Exit codes"). */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = Object.freeze({
  internal: 1,
  usage: 2,
  'wrong-code': 3,
  timeout: 4,
  network: 5,
  session: 6,
  declined: 7,
  protocol: 8,
  install: 9,
  interrupted: 130,
});

export class BeamError extends Error {
  readonly kind: ErrorKind;
  /**
   * What the other side is told when this stops the beam, where it differs from what this side
   * is told: advice such as "use --max-size" is for the person who can act on it.
   */
  readonly forPeer: string;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown; forPeer?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BeamError';
    this.kind = kind;
    this.forPeer = options?.forPeer ?? message;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

export function isBeamError(error: unknown): error is BeamError {
  return error instanceof BeamError;
}

/** Turns anything thrown into a BeamError so the CLI can always print one line and exit. */
export function toBeamError(error: unknown): BeamError {
  if (isBeamError(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BeamError('install', 'the disk is full: free some space and try again', { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BeamError('internal', `unexpected error: ${message}`, { cause: error });
}
