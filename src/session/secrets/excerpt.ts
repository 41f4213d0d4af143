import type { Span } from './prefilter.js';
import { redact, type SecretMatch } from './rules.js';

const NEWLINE = 0x0a;

/** One run of consecutive lines of the piece, as it sits in the excerpt's text. */
interface Part {
  readonly byteStart: number;
  readonly byteEnd: number;
  readonly textStart: number;
  readonly textEnd: number;
  /** Line ends in the piece before this part: its first line's number, from 0. */
  readonly firstLine: number;
}

/**
 * Some whole lines of a piece as one text, for the rules to scan instead of the whole piece,
 * and the way back: from an offset in the text to a line of the piece, and from matches in the
 * text to the piece's redacted bytes. Decodes only those lines; the piece's line ends are
 * counted on its bytes (a line feed is one byte in UTF-8 and in Latin-1, never part of another
 * character).
 */
export class Excerpt {
  private constructor(
    readonly text: string,
    private readonly parts: readonly Part[],
    /** Line ends in the whole piece. */
    readonly lines: number,
  ) {}

  static of(bytes: Buffer, spans: readonly Span[], encoding: 'utf8' | 'latin1'): Excerpt {
    const firstLines = linesBeforeEach(bytes, spans);
    const texts = spans.map((span) => bytes.toString(encoding, span.start, span.end));
    return new Excerpt(texts.join(''), Excerpt.partsOf(spans, texts, firstLines.before), firstLines.total);
  }

  /** The same lines, each changed by `change` (which must keep every line end): offsets move, line numbers stay. */
  mapLines(change: (text: string) => string): Excerpt {
    const texts = this.parts.map((part) => change(this.text.slice(part.textStart, part.textEnd)));
    return new Excerpt(texts.join(''), Excerpt.partsOf(this.parts.map((part) => ({ start: part.byteStart, end: part.byteEnd })), texts, this.parts.map((part) => part.firstLine)), this.lines);
  }

  /**
   * The piece's line (from 0) that each offset of the text is on. Offsets in order (as matches
   * come) are counted on from the one before, not from the part's start again.
   */
  linesOf(offsets: readonly number[]): number[] {
    let counted = { offset: -1, line: 0, part: undefined as Part | undefined };
    return offsets.map((offset) => {
      const part = this.partAt(offset);
      const from = counted.part === part && counted.offset <= offset ? counted : { offset: part.textStart, line: part.firstLine, part };
      let line = from.line;
      for (let at = this.text.indexOf('\n', from.offset); at !== -1 && at < offset; at = this.text.indexOf('\n', at + 1)) line++;
      counted = { offset, line, part };
      return line;
    });
  }

  /** Whether the match lies within one run of consecutive lines (what the prefilter's reaches promise). */
  holds(match: SecretMatch): boolean {
    return match.end <= this.partAt(match.start).textEnd;
  }

  /**
   * The piece with each match replaced as `redact` replaces it in the whole text: the same
   * characters go, and each changed run of lines is encoded as the whole text would be.
   */
  redactedPiece(bytes: Uint8Array, matches: readonly SecretMatch[], encoding: 'utf8' | 'latin1'): Buffer {
    const chunks: Uint8Array[] = [];
    let copied = 0;
    for (let i = 0; i < matches.length; ) {
      // The matches (in order of their starts) in the same part as this one.
      const part = this.partAt(matches[i]!.start);
      const inPart: SecretMatch[] = [];
      for (; i < matches.length && matches[i]!.start < part.textEnd; i++) {
        const match = matches[i]!;
        inPart.push({ kind: match.kind, start: match.start - part.textStart, end: match.end - part.textStart });
      }
      chunks.push(bytes.subarray(copied, part.byteStart), Buffer.from(redact(this.text.slice(part.textStart, part.textEnd), inPart), encoding));
      copied = part.byteEnd;
    }
    chunks.push(bytes.subarray(copied));
    return Buffer.concat(chunks);
  }

  private partAt(offset: number): Part {
    // The last part starting at or before the offset.
    let low = 0;
    let high = this.parts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.parts[middle]!.textStart <= offset) low = middle;
      else high = middle - 1;
    }
    return this.parts[low]!;
  }

  private static partsOf(spans: readonly Span[], texts: readonly string[], firstLines: readonly number[]): Part[] {
    let textStart = 0;
    return spans.map((span, i) => {
      const textEnd = textStart + texts[i]!.length;
      const part = { byteStart: span.start, byteEnd: span.end, textStart, textEnd, firstLine: firstLines[i]! };
      textStart = textEnd;
      return part;
    });
  }
}

/** Line ends before each span's start, and in the whole piece: one pass over the line feeds. */
function linesBeforeEach(bytes: Buffer, spans: readonly Span[]): { before: number[]; total: number } {
  const before: number[] = [];
  let lines = 0;
  for (let at = bytes.indexOf(NEWLINE); ; at = bytes.indexOf(NEWLINE, at + 1)) {
    const next = at === -1 ? Infinity : at;
    while (before.length < spans.length && spans[before.length]!.start <= next) before.push(lines);
    if (at === -1) return { before, total: lines };
    lines++;
  }
}
