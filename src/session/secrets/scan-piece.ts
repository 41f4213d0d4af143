import { isUtf8 } from 'node:buffer';
import { Excerpt } from './excerpt.js';
import { candidateSpans, prefilterFitsRules } from './prefilter.js';
import { findSecrets, redact, type SecretMatch } from './rules.js';

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
  /**
   * Scan bytes that are not UTF-8 too, read as Latin-1 (one character per byte, so a redacted
   * piece keeps every other byte as it was): for patches and logs, where one binary byte must
   * not hide the rest.
   */
  readonly lenient?: boolean;
  /**
   * The text is a patch or `git log -p`: each body line has a one-character prefix ("+", "-", " ")
   * that hides multi-line secrets (a private key) from the rules, so the lines are scanned with
   * it removed too. What only shows that way cannot be redacted in place.
   */
  readonly diff?: boolean;
}

/** A secret's kind and the line it starts on, counted from 0 within the piece. */
export interface PieceFinding {
  readonly kind: string;
  readonly line: number;
}

export type PieceResult =
  /** `lines`: the line ends in the piece, so the next piece's lines can be numbered in the file. */
  | {
      readonly text: true;
      readonly findings: PieceFinding[];
      readonly lines: number;
      readonly redacted?: Uint8Array;
      /** Findings that show only without the diff prefixes: redaction cannot replace them. */
      readonly unredactable?: number;
    }
  /** Not valid UTF-8: the file is not text and is not scanned. */
  | { readonly text: false };

/**
 * Scans a piece: the prefilter (prefilter.ts) picks the lines that can hold a finding, by a fast
 * search over the bytes, and the rules see only those (excerpt.ts); the result is the one
 * `scanPieceFully` gives (test/secrets-prefilter.test.ts compares them), several times faster,
 * because most of a session holds no anchor at all.
 */
export async function scanPiece(request: PieceRequest): Promise<PieceResult> {
  const bytes = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength);
  // The same answer as a fatal TextDecoder, without making the string.
  const encoding = isUtf8(bytes) ? 'utf8' : request.lenient ? 'latin1' : undefined;
  if (!encoding) return { text: false };
  // secretlint drops a byte order mark at the start of the text it is given, and counts offsets
  // after it: a piece or a line starting with one would shift. Rare enough to scan the old way;
  // so is a secretlint other than the one the prefilter was derived from.
  if ((encoding === 'utf8' && bytes.includes(BYTE_ORDER_MARK)) || !prefilterFitsRules) return scanPieceFully(request);
  const excerpt = Excerpt.of(bytes, candidateSpans(bytes, Boolean(request.diff)), encoding);
  if (excerpt.text.length === 0) return { text: true, findings: [], lines: excerpt.lines };
  const plain = await scanExcerpt(excerpt, request.name);
  const bare = request.diff ? await scanExcerpt(excerpt.mapLines(withoutDiffPrefixes), request.name) : undefined;
  // A match across two runs of lines would mean a reach is wrong: trust the full scan then.
  if (!plain || (request.diff && !bare)) return scanPieceFully(request);
  const findings = [...plain.findings];
  const unredactable = bare ? addBareFindings(findings, bare.findings) : 0;
  const extra = unredactable > 0 ? { unredactable } : {};
  if (!request.redact || plain.matches.length === 0) return { text: true, findings, lines: excerpt.lines, ...extra };
  return { text: true, findings, lines: excerpt.lines, redacted: excerpt.redactedPiece(bytes, plain.matches, encoding), ...extra };
}

/** The rules over an excerpt, with each match's line in the piece; undefined if a match is not within one run of lines. */
async function scanExcerpt(excerpt: Excerpt, name: string): Promise<{ matches: SecretMatch[]; findings: PieceFinding[] } | undefined> {
  const matches = await findSecrets(excerpt.text, name);
  if (!matches.every((match) => excerpt.holds(match))) return undefined;
  const lines = excerpt.linesOf(matches.map((match) => match.start));
  return { matches, findings: matches.map((match, i) => ({ kind: match.kind, line: lines[i]! })) };
}

const BYTE_ORDER_MARK = Buffer.from([0xef, 0xbb, 0xbf]);

/** The same number of lines, each without its prefix: line numbers still match. */
function withoutDiffPrefixes(text: string): string {
  return text.replace(/^[-+ ]/gm, '');
}

/** Adds what shows only without the prefixes (a kind not found on that line already); returns how many. */
function addBareFindings(findings: PieceFinding[], bare: readonly PieceFinding[]): number {
  let added = 0;
  for (const { kind, line } of bare) {
    if (findings.some((finding) => finding.kind === kind && finding.line === line)) continue;
    findings.push({ kind, line });
    added++;
  }
  return added;
}

/**
 * The scan without the prefilter: every rule over the whole piece. What `scanPiece` must equal,
 * kept for the tests that prove it, and for pieces the prefilter leaves to it.
 */
export async function scanPieceFully(request: PieceRequest): Promise<PieceResult> {
  let text: string;
  let encoding: 'utf8' | 'latin1' = 'utf8';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(request.bytes);
  } catch {
    if (!request.lenient) return { text: false };
    text = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength).toString('latin1');
    encoding = 'latin1';
  }
  const matches = await findSecrets(text, request.name);
  const findings = matches.map((match) => ({ kind: match.kind, line: lineEndsBefore(text, match.start) }));
  const lines = lineEndsBefore(text, text.length);
  let unredactable = 0;
  if (request.diff) {
    const bare = withoutDiffPrefixes(text);
    const bareFindings = (await findSecrets(bare, request.name)).map((match) => ({ kind: match.kind, line: lineEndsBefore(bare, match.start) }));
    unredactable = addBareFindings(findings, bareFindings);
  }
  const extra = unredactable > 0 ? { unredactable } : {};
  if (!request.redact || matches.length === 0) return { text: true, findings, lines, ...extra };
  return { text: true, findings, lines, redacted: Buffer.from(redact(text, matches), encoding), ...extra };
}

function lineEndsBefore(text: string, end: number): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < end; at = text.indexOf('\n', at + 1)) count++;
  return count;
}
