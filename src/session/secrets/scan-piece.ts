import { findSecrets, redact } from './rules.js';

/**
 * One piece of a file, as bytes cut at a line end (or, in a line longer than a piece, at a
 * character boundary), so that each piece is valid UTF-8 exactly when the whole file is. Pieces
 * travel as bytes, not strings: a worker decodes its own, and the thread that reads the files
 * makes no garbage per byte (strings made there were most of a large scan's peak memory).
 */
export interface PieceRequest {
  readonly bytes: Uint8Array;
  readonly name: string;
  /** Return the piece with each secret replaced by a marker (only when it had one). */
  readonly redact: boolean;
}

export type PieceResult =
  | { readonly text: true; readonly kinds: string[]; readonly redacted?: Uint8Array }
  /** Not valid UTF-8: the file is not text and is not scanned. */
  | { readonly text: false };

export async function scanPiece(request: PieceRequest): Promise<PieceResult> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(request.bytes);
  } catch {
    return { text: false };
  }
  const matches = await findSecrets(text, request.name);
  const kinds = matches.map((match) => match.kind);
  if (!request.redact || matches.length === 0) return { text: true, kinds };
  return { text: true, kinds, redacted: Buffer.from(redact(text, matches), 'utf8') };
}
