import { createRequire } from 'node:module';

/**
 * The secret scan's prefilter: which lines of a piece could hold something that secretlint's
 * recommended preset reports, found by searching the piece's bytes for a few short fixed strings
 * (Buffer.indexOf runs memchr in C++: gigabytes per second) instead of running the preset's
 * regular expressions over all of it. The preset then runs on those lines only (excerpt.ts).
 *
 * Why it finds everything the full scan finds, rule by rule (preset 11.7.1, as rules.ts runs it:
 * no options, `ext` empty, the piece's name as file name):
 *
 * - Every match of every active pattern contains one of the anchors below at a fixed place, and
 *   each anchor's check looks only at bytes that such a match contains, at the same place (or at
 *   the one character after it that a pattern's look-ahead reads). A line whose anchors all fail
 *   their checks holds no match.
 * - A match never starts on a line before its anchor's line, and it ends where the anchor's
 *   `Reach` says: on the same line, on the next line (`_authToken=` then a line end, and the
 *   `secretlint-disable-next-line` comment), or after lines that only hold what the pattern can
 *   span (`aws`, `pem`). The excerpt holds those whole lines, so every match is inside one run of
 *   consecutive lines there, preceded by a line end or the start of the text as in the piece.
 * - Two patterns are not line-local beyond that: the filter-comments rule's ignore ranges, which
 *   keep their order and line structure in the excerpt (every comment line and the line after
 *   it are there), and GCP's service-account checks, which only run for `.json` and `.p12`
 *   extensions (rules.ts passes none). AWS account and access key IDs are off by default.
 * - In diff mode the rules also see the text without each line's first "+", "-" or " " (after
 *   any line terminator). An anchor and the bytes its check reads lie between two terminators,
 *   so what they are in that text they are in the piece; the reaches count "+" and "-" as
 *   possibly gone.
 * - scan-piece.ts leaves to the full scan what this does not cover: a byte order mark (secretlint
 *   drops one at the start of its text and shifts every offset), and any match that would cross
 *   from one run of lines to the next (which the above rules out; checked all the same).
 *
 * The anchors were chosen by what memchr skips fast: their first byte is rare in prose, source
 * code and JSON, and none is longer than 6 bytes (longer needles switch Node's search to a
 * slower Boyer-Moore-Horspool loop). Single bytes (`_`, `x`, `K`) gather several rules and are
 * checked in JavaScript at each hit.
 */

/**
 * The anchors were derived from these versions' patterns, and the argument above from this core's
 * handling of ranges and comments. Another version may bring a pattern they miss: then the scan
 * does without the prefilter (and test/secrets-prefilter.test.ts fails until they are checked).
 */
const DERIVED_FROM = { '@secretlint/core': '11.7.1', '@secretlint/secretlint-rule-preset-recommend': '11.7.1' } as const;

export const prefilterFitsRules: boolean = Object.entries(DERIVED_FROM).every(
  ([name, version]) => (createRequire(import.meta.url)(`${name}/package.json`) as { version?: unknown }).version === version,
);

export interface Span {
  /** Byte offset of a line start. */
  readonly start: number;
  /** Byte offset just after a line end (or the piece's end). */
  readonly end: number;
}

/**
 * How far a match containing an anchor can reach: its line; the next line too; or past the lines
 * that hold only what AWS's `KEY\s*=\s*"` or a private key's base64 body can hold, to the first
 * line that holds something else.
 */
type Reach = 'line' | 'next-line' | 'aws' | 'pem';

interface Anchor {
  readonly needle: number | Buffer;
  /** Which lines a match containing the anchor at `at` can touch, or undefined: no match here. */
  readonly check: (bytes: Uint8Array, at: number) => Reach | undefined;
}

const NEWLINE = 0x0a;
const UNDERSCORE = 0x5f;
const COLON = 0x3a;
const AT_SIGN = 0x40;
const DOT = 0x2e;
const DASH = 0x2d;

/** The lines of `bytes` that a scan must see to find every secret the full scan finds, merged. */
export function candidateSpans(bytes: Buffer, diff: boolean): Span[] {
  const sets = diff ? DIFF_SETS : PLAIN_SETS;
  const spans: Span[] = [];
  for (const anchor of ANCHORS) {
    const reaches = new Reaches(bytes, sets);
    for (let at = bytes.indexOf(anchor.needle); at !== -1; at = bytes.indexOf(anchor.needle, at + 1)) {
      const reach = anchor.check(bytes, at);
      if (reach) spans.push({ start: lineStart(bytes, at), end: reaches.end(at, reach) });
    }
  }
  return merged(spans);
}

function merged(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const span of spans) {
    const last = out[out.length - 1];
    if (last && span.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, span.end) };
    else out.push(span);
  }
  return out;
}

function lineStart(bytes: Buffer, at: number): number {
  // (lastIndexOf with a negative offset would count from the end)
  return at === 0 ? 0 : bytes.lastIndexOf(NEWLINE, at - 1) + 1;
}

function lineEnd(bytes: Buffer, from: number): number {
  const newline = bytes.indexOf(NEWLINE, from);
  return newline === -1 ? bytes.length : newline + 1;
}

/**
 * A private key's body is at most 10,000 UTF-16 units (`{100,10000}`), so its END marker ends
 * within about 10,060 units of the anchor. This many bytes hold more than 16,000 units: a unit
 * takes at most 3 bytes (4-byte characters are 2 units), or 4 with a diff prefix taken away
 * after it. Past this a line cannot belong to the match.
 */
const PEM_REACH_BYTES = 64 * 1024;

interface ReachSets {
  readonly aws: Uint8Array;
  readonly pem: Uint8Array;
}

/**
 * Where each reach ends, for one anchor's hits in order. Lines found to be all in a set are
 * remembered, so that hits on consecutive lines (a key's BEGIN and END lines; in a patch, where
 * "-" counts as body, a whole file of keys) do not walk the same lines again.
 */
class Reaches {
  private readonly walked = new Map<Uint8Array, { readonly from: number; readonly to: number }>();

  constructor(
    private readonly bytes: Buffer,
    private readonly sets: ReachSets,
  ) {}

  end(at: number, reach: Reach): number {
    const end = lineEnd(this.bytes, at);
    if (reach === 'line') return end;
    if (reach === 'next-line') return lineEnd(this.bytes, end);
    if (reach === 'aws') return this.throughLinesOf(end, this.sets.aws, Infinity);
    return this.throughLinesOf(end, this.sets.pem, at + PEM_REACH_BYTES);
  }

  /**
   * From the line starting at `from`: past every line made only of bytes in `set`, and then the
   * first line that is not (where the match has to end), or once past `limit`.
   */
  private throughLinesOf(from: number, set: Uint8Array, limit: number): number {
    const walked = this.walked.get(set);
    // Lines from `from` up to `walked.to` are known to be all in the set.
    let end = walked && walked.from <= from && from <= walked.to ? walked.to : from;
    const bytes = this.bytes;
    while (end < bytes.length && end < limit) {
      const next = lineEnd(bytes, end);
      for (let i = end; i < next; i++) {
        if (set[bytes[i]!]) continue;
        this.walked.set(set, { from, to: end });
        return next;
      }
      end = next;
    }
    this.walked.set(set, { from, to: end });
    return end;
  }
}

function byteSet(chars: string, ranges: ReadonlyArray<readonly [number, number]> = []): Uint8Array {
  const set = new Uint8Array(256);
  for (const char of chars) set[char.charCodeAt(0)] = 1;
  for (const [low, high] of ranges) set.fill(1, low, high + 1);
  return set;
}

/** ASCII white space as `\s` has it; any byte of a multi-byte character (or Latin-1 NBSP) might be white space too. */
const SPACE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0x80, 0xff],
];
const ALNUM_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** What AWS's `["']?\s*(?::|=>|=)\s*["']?` between KEY and the value can hold. */
const AWS_GAP = `"':=>`;
/** A private key body: `[A-Za-z0-9+/=\s\\]`. */
const PEM_BODY = `${ALNUM_CHARS}+/=\\`;
const PLAIN_SETS: ReachSets = { aws: byteSet(AWS_GAP, SPACE_RANGES), pem: byteSet(PEM_BODY, SPACE_RANGES) };
/** With diff prefixes a line may start with "+" or "-" that the rules do not see. */
const DIFF_SETS: ReachSets = { aws: byteSet(`${AWS_GAP}+-`, SPACE_RANGES), pem: byteSet(`${PEM_BODY}-`, SPACE_RANGES) };

const WORD = byteSet(`${ALNUM_CHARS}_`);
const ALNUM = byteSet(ALNUM_CHARS);
const BASE64 = byteSet(`${ALNUM_CHARS}+/=`);
/** Bytes that end a URL's user name (`[^:\/\s]`, of which only ASCII is certain). */
const USER_END = byteSet(':/', SPACE_RANGES.slice(0, 2));
/** Bytes that end a URL's password (`[^@\/\s]`). */
const PASSWORD_END = byteSet('@/', SPACE_RANGES.slice(0, 2));

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

function startsWith(bytes: Uint8Array, at: number, literal: Uint8Array): boolean {
  if (at < 0 || at + literal.length > bytes.length) return false;
  for (let i = 0; i < literal.length; i++) if (bytes[at + i] !== literal[i]) return false;
  return true;
}

function endsWith(bytes: Uint8Array, end: number, literal: Uint8Array): boolean {
  return startsWith(bytes, end - literal.length, literal);
}

function endsWithAny(bytes: Uint8Array, end: number, literals: readonly Uint8Array[]): boolean {
  for (const literal of literals) if (endsWith(bytes, end, literal)) return true;
  return false;
}

/** ASCII letters compared without case, as `/i` without `u` does (no other character folds to ASCII). */
function startsWithFolded(bytes: Uint8Array, at: number, lowerCase: Uint8Array): boolean {
  if (at + lowerCase.length > bytes.length) return false;
  for (let i = 0; i < lowerCase.length; i++) {
    const byte = bytes[at + i]!;
    if ((byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte) !== lowerCase[i]) return false;
  }
  return true;
}

/** How many bytes from `from` on are in `set`. */
function runLength(bytes: Uint8Array, from: number, set: Uint8Array): number {
  let end = from;
  while (end < bytes.length && set[bytes[end]!]) end++;
  return end - from;
}

const between = (value: number, low: number, high: number): boolean => value >= low && value <= high;

// ---- `_`: npm, GitHub, Shopify, 1Password and Linear tokens, and .npmrc's _authToken ----

const NPM = latin1('npm');
const GITHUB_CLASSIC = ['ghp', 'gho', 'ghu', 'ghs', 'ghr'].map(latin1);
const GITHUB = latin1('github');
const PAT = latin1('pat_');
const SHOPIFY = ['shppa', 'shpca', 'shpat', 'shpss'].map(latin1);
const OPS = latin1('ops');
const EY = latin1('ey');
const LIN = latin1('lin');
const API = latin1('api_');
const AUTH_TOKEN = latin1('authToken=');

/**
 * The two bytes before a `_` that can start a token (npm, ghp/gho/ghu/ghs/ghr, github, shppa,
 * shpca, shpat, shpss, ops, lin), as a table indexed by their 16-bit value: a source file has a
 * `_` every hundred bytes, and most are ruled out by one lookup.
 */
const TOKEN_PREFIX_ENDS = ((): Uint8Array => {
  const table = new Uint8Array(65536);
  for (const end of ['pm', 'hp', 'ho', 'hu', 'hs', 'hr', 'ub', 'pa', 'ca', 'at', 'ss', 'ps', 'in']) table[(end.charCodeAt(0) << 8) | end.charCodeAt(1)] = 1;
  return table;
})();
const LOWER_A = 0x61;

function checkUnderscore(bytes: Uint8Array, at: number): Reach | undefined {
  // `_authToken=([^$].*)`: `[^$]` may be the line end, and `.*` the whole next line.
  if (bytes[at + 1] === LOWER_A && startsWith(bytes, at + 1, AUTH_TOKEN)) return 'next-line';
  if (at < 2 || !TOKEN_PREFIX_ENDS[(bytes[at - 2]! << 8) | bytes[at - 1]!]) return undefined;
  return tokenAfterUnderscore(bytes, at) ? 'line' : undefined;
}

function tokenAfterUnderscore(bytes: Uint8Array, at: number): boolean {
  // `npm_[A-Za-z0-9_]{36}(?![A-Za-z0-9_])`, `(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}(?![A-Za-z0-9_])`
  if ((endsWith(bytes, at, NPM) || endsWithAny(bytes, at, GITHUB_CLASSIC)) && runLength(bytes, at + 1, WORD) === 36) return true;
  // `github_pat_[A-Za-z0-9_]{82}(?![A-Za-z0-9_])`
  if (endsWith(bytes, at, GITHUB) && startsWith(bytes, at + 1, PAT) && runLength(bytes, at + 5, WORD) === 82) return true;
  // `(shppa|shpca|shpat|shpss)_[a-zA-Z0-9]{32,64}(?![a-zA-Z0-9])`
  if (endsWithAny(bytes, at, SHOPIFY) && between(runLength(bytes, at + 1, ALNUM), 32, 64)) return true;
  // `ops_(ey[A-Za-z0-9+/=]{100,1280}fQ={0,2})(?![A-Za-z0-9+/=])`: 104 to 1286 such bytes.
  if (endsWith(bytes, at, OPS) && startsWith(bytes, at + 1, EY) && between(runLength(bytes, at + 1, BASE64), 104, 1286)) return true;
  // `lin_api_[a-zA-Z0-9_]{32,128}(?![a-zA-Z0-9_])`
  return endsWith(bytes, at, LIN) && startsWith(bytes, at + 1, API) && between(runLength(bytes, at + 5, WORD), 32, 128);
}

// ---- `x`: Slack tokens and the x-oauth-basic GitHub token (package.json) ----

const OX = latin1('ox');
const SLACK_KINDS = byteSet('bpaor');
const APP = latin1('app-');
const X_OAUTH = latin1('-oauth-basic@github');

const LOWER_O = 0x6f;

function checkX(bytes: Uint8Array, at: number): Reach | undefined {
  const next = bytes[at + 1];
  if (next !== LOWER_O && next !== LOWER_A && next !== DASH) return undefined;
  // `\b(?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-...`
  if (startsWith(bytes, at + 1, OX) && SLACK_KINDS[bytes[at + 3] ?? 0] && bytes[at + 4] === DASH) return 'line';
  if (startsWith(bytes, at + 1, APP)) return 'line';
  // `https?:\/\/(.{1,256}):x-oauth-basic@github.com\/`
  if (startsWith(bytes, at + 1, X_OAUTH)) return 'line';
  return undefined;
}

// ---- `K` and `key`: AWS secret access keys and private keys ----

const AWS_SECRET = ['SECRET', 'secret', 'Secret'].map(latin1);
const AWS_ACCESS = ['ACCESS', 'access', 'Access'].map(latin1);
const EY_UPPER = latin1('EY');
const PRIVATE = latin1('PRIVATE ');

/** `(?:SECRET|secret|Secret)_?(?:ACCESS|access|Access)_?` ends at `end` (all words are 6 bytes). */
function awsNameEndsAt(bytes: Uint8Array, end: number): boolean {
  return withOptionalUnderscore(bytes, end).some(
    (accessEnd) =>
      endsWithAny(bytes, accessEnd, AWS_ACCESS) &&
      withOptionalUnderscore(bytes, accessEnd - 6).some((secretEnd) => endsWithAny(bytes, secretEnd, AWS_SECRET)),
  );
}

function withOptionalUnderscore(bytes: Uint8Array, end: number): number[] {
  return bytes[end - 1] === UNDERSCORE ? [end, end - 1] : [end];
}

function checkUpperK(bytes: Uint8Array, at: number): Reach | undefined {
  const upper = startsWith(bytes, at + 1, EY_UPPER);
  // `-----BEGIN[ ]?(?:(?:RSA|DSA|EC|OPENSSH|PGP) )?PRIVATE KEY(?: BLOCK)?-----\n?([A-Za-z0-9+/=\s\\]{100,10000})\n?-----END...`
  if (upper && endsWith(bytes, at, PRIVATE)) return 'pem';
  // `["']?(?:AWS|aws|Aws)?_?(?:SECRET|secret|Secret)_?(?:ACCESS|access|Access)_?(?:KEY|key|Key)["']?\s*(?::|=>|=)\s*["']?([A-Za-z0-9/\+=]{40})["']?\b`
  if ((upper || startsWith(bytes, at + 1, EY)) && awsNameEndsAt(bytes, at)) return 'aws';
  return undefined;
}

function checkKey(bytes: Uint8Array, at: number): Reach | undefined {
  return awsNameEndsAt(bytes, at) ? 'aws' : undefined;
}

// ---- `://`: basic auth, MongoDB, MySQL and PostgreSQL URLs (reported only with a password), Slack webhooks ----

const SLACK_HOOK = latin1('hooks.slack.com/services/t');

/** `user:password@` right after `://`, as `[^:\/\s]{1,100}:[^@\/\s]{1,200}@` (and basic auth's narrower classes). */
function credentialsFollow(bytes: Uint8Array, from: number): boolean {
  const colon = from + runLengthUntil(bytes, from, USER_END);
  if (colon === from || bytes[colon] !== COLON) return false;
  const at = colon + 1 + runLengthUntil(bytes, colon + 1, PASSWORD_END);
  return at > colon + 1 && bytes[at] === AT_SIGN;
}

function runLengthUntil(bytes: Uint8Array, from: number, stop: Uint8Array): number {
  let end = from;
  while (end < bytes.length && !stop[bytes[end]!]) end++;
  return end - from;
}

function checkScheme(bytes: Uint8Array, at: number): Reach | undefined {
  // Case-insensitive: `https:\/\/hooks\.slack\.com\/services\/T...` has the `i` flag.
  return credentialsFollow(bytes, at + 3) || startsWithFolded(bytes, at + 3, SLACK_HOOK) ? 'line' : undefined;
}

// ---- the rest: one anchor each ----

const FJ = latin1('FJ');
const API_DIGIT = latin1('api0');
const SECRETLINT_COMMENTS = ['secretlint-disa', 'secretlint-ena'].map(latin1);

function checkAnthropic(bytes: Uint8Array, at: number): Reach | undefined {
  // `(?<!\p{L})sk-ant-api0\d-[A-Za-z0-9_-]{90,128}AA(?![A-Za-z0-9_-])`
  const digit = bytes[at + 10] ?? 0;
  return startsWith(bytes, at + 6, API_DIGIT) && digit >= 0x30 && digit <= 0x39 && bytes[at + 11] === DASH ? 'line' : undefined;
}

function checkSendgrid(bytes: Uint8Array, at: number): Reach | undefined {
  // `(?<!\p{L})SG\.\w{1,128}\.\w{1,128}([-_]?)\w{1,128}(?!\w)`
  const word = runLength(bytes, at + 3, WORD);
  return word > 0 && bytes[at + 3 + word] === DOT ? 'line' : undefined;
}

function checkComment(bytes: Uint8Array, at: number): Reach | undefined {
  // `secretlint-(?:disable-next-line|disable-line|disable|enable)(.*)`: its ignore range may be the next line.
  return bytes[at - 1] === LOWER_A && endsWithAny(bytes, at, SECRETLINT_COMMENTS) ? 'next-line' : undefined;
}

const ANCHORS: readonly Anchor[] = [
  { needle: UNDERSCORE, check: checkUnderscore },
  { needle: 0x78 /* x */, check: checkX },
  { needle: 0x4b /* K */, check: checkUpperK },
  { needle: latin1('key'), check: checkKey },
  { needle: latin1('://'), check: checkScheme },
  // Both of OpenAI's patterns hold `T3BlbkFJ`.
  { needle: latin1('T3Blbk'), check: (bytes, at) => (startsWith(bytes, at + 6, FJ) ? 'line' : undefined) },
  { needle: latin1('k-ant-'), check: checkAnthropic },
  { needle: latin1('SG.'), check: checkSendgrid },
  // "secretlint-disable" and "secretlint-enable" both end in "ble"; `b` is rarer than any other of their bytes.
  { needle: latin1('ble'), check: checkComment },
];
