import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { scanPiece, scanPieceFully, type PieceRequest, type PieceResult } from '../src/session/secrets/scan-piece.js';
import { candidateSpans, prefilterFitsRules } from '../src/session/secrets/prefilter.js';

/**
 * The prefilter (src/session/secrets/prefilter.ts) must not change what the scan finds: these
 * compare `scanPiece` with `scanPieceFully` (every rule over the whole piece) on generated pieces
 * of Copilot-shaped JSON lines, source text, secrets of every kind the recommended preset reports,
 * near misses, secretlint-disable comments, diff prefixes and Latin-1 bytes. `npm test` runs a few
 * hundred cases each; PROPERTY_RUNS sets how many.
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const settings = { numRuns: RUNS };

// Secret-shaped values are generated, so that the repository holds nothing secret-shaped.
const chars = (set: string, min: number, max = min): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[${set}]{${min},${max}}$`));
const ALNUM = 'A-Za-z0-9';
const WORD = 'A-Za-z0-9_';
const URL_SAFE = 'A-Za-z0-9_\\-';
/** Letters and digits that spell none of the placeholders the rules skip ("password", "localhost", "admin", ...). */
const PLAIN = 'bcdfghjkmnqvwxz2-9';
const pick = <T>(...values: T[]): fc.Arbitrary<T> => fc.constantFrom(...values);
const join = (...parts: Array<fc.Arbitrary<string> | string>): fc.Arbitrary<string> =>
  fc.tuple(...parts.map((part) => (typeof part === 'string' ? fc.constant(part) : part))).map((values) => values.join(''));
/** Each ASCII letter in either case, for the rules with the `i` flag. */
const anyCase = (text: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: text.length, maxLength: text.length }).map((upper) => [...text].map((char, i) => (upper[i] ? char.toUpperCase() : char)).join(''));

function base64Lines(body: string, width: number): string {
  return body.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');
}

const privateKey = fc
  .record({
    type: pick('', 'RSA ', 'EC ', 'DSA ', 'OPENSSH ', 'PGP '),
    block: pick('', ' BLOCK'),
    magic: pick('MII', 'MIG', 'b3BlbnNzaC1rZXktdjE'),
    // Up to the pattern's 10,000 characters (an RSA-4096 key has about 3,200).
    body: fc.integer({ min: 100, max: 9800 }).chain((length) => chars('A-Za-z0-9+/', length)),
    width: pick(64, 70, 1000),
    escaped: fc.boolean(),
    // \s in the body's class: a no-break or ideographic space at line ends.
    space: pick('', '\u00a0', '\u3000'),
  })
  .map(({ type, block, magic, body, width, escaped, space }) => {
    const text = `-----BEGIN ${type}PRIVATE KEY${block}-----\n${base64Lines(magic + body, width).replaceAll('\n', `${space}\n`)}\n-----END ${type}PRIVATE KEY${block}-----`;
    // As a JSON string holds it: one line, "\n" as two characters.
    return escaped ? text.replaceAll('\n', '\\n') : text;
  });

const awsSecret = fc
  .record({
    quote: pick('', '"', "'"),
    prefix: pick('', 'AWS_', 'aws_', 'Aws', 'aws'),
    words: fc.tuple(pick('SECRET', 'secret', 'Secret'), pick('ACCESS', 'access', 'Access'), pick('KEY', 'key', 'Key')),
    separators: fc.tuple(pick('', '_'), pick('', '_')),
    // Across lines too, over white space that is not ASCII (\s has it).
    connect: pick('=', ' = ', ': ', ' => ', ':\n  ', '\n=\n', ' =\n\n\t', ' =>\n\u3000\n', '\u00a0:\n\u2028\n ', '\n=>\n', '\n:\n'),
    value: chars('A-Za-z0-9/+=', 39).map((value) => `${value}Q`),
  })
  .map(({ quote, prefix, words, separators, connect, value }) => `${quote}${prefix}${words[0]}${separators[0]}${words[1]}${separators[1]}${words[2]}${quote}${connect}${quote}${value}${quote}`);

/** `ops_` and a JSON object of `length` characters in base64 (the rule decodes it). */
function onePasswordOf(length: number, key: string): string {
  return `ops_${Buffer.from(JSON.stringify({ k: key.slice(0, Math.max(0, length - 8)) })).toString('base64')}`;
}
const onePasswordKey = chars('a-z0-9', 1000);
/**
 * The rule reports a token whose base64 is "ey", 100 to 1,280 characters, then "fQ" and padding:
 * from JSON one character longer than a multiple of 3 (ending "fQ=="), 79 to 961 characters long.
 */
const onePassword = fc
  .tuple(fc.oneof(fc.integer({ min: 79, max: 90 }), fc.integer({ min: 91, max: 940 }), fc.integer({ min: 941, max: 961 })), onePasswordKey)
  .map(([length, key]) => onePasswordOf(length - ((length - 1) % 3), key));

/** A password is not "aaaa": the rules skip one character repeated. */
const credentials = { user: chars(PLAIN, 3, 12), password: chars(PLAIN, 6, 20).filter((password) => new Set(password).size > 1), host: chars('a-z', 3, 10) };
/** A database URL's user may hold "@", "." or "%" (`[^:\/\s]`), its password ":" (`[^@\/\s]`). */
const databaseCredentials = {
  user: fc.oneof(credentials.user, join(credentials.user, pick('@', '.', '%40', '!'), credentials.user)),
  password: fc.oneof(credentials.password, join(credentials.password, pick(':', '.', '#'), credentials.password)),
  host: credentials.host,
};

interface SecretShape {
  readonly kind: string;
  /** File name under which the rule looks (npm's rules depend on it). */
  readonly name?: string;
  readonly value: fc.Arbitrary<string>;
}

/**
 * One shape per kind the preset reports as copilot-beam runs it. Not here: GCP's service account
 * keys (only for `.json`/`.p12` extensions, and the scan passes none) and AWS access key and
 * account IDs (off unless enabled).
 */
const SHAPES: readonly SecretShape[] = [
  { kind: 'AWSSecretAccessKey', value: awsSecret },
  { kind: 'PrivateKey', value: privateKey },
  { kind: 'NPM_ACCESS_TOKEN', value: join('npm_', chars(WORD, 36)) },
  // Without a value, `_authToken=([^$].*)` takes the line end and all of the next line.
  { kind: 'Npmrc_authToken', name: 'project/.npmrc', value: join('//registry.npmjs.org/:_authToken=', fc.oneof(chars(ALNUM, 36), fc.constant(''))) },
  { kind: 'PackageJSON_xOauthToken', name: 'app/package.json', value: join('"url": "https://', chars(ALNUM, 40), ':x-oauth-basic@github.com/octo-org/app.git"') },
  { kind: 'SLACK_TOKEN', value: join(pick('xoxb', 'xoxp', 'xapp', 'xoxa', 'xoxo', 'xoxr'), '-', pick('', '1-'), chars('0-9', 10, 13), '-', chars('0-9', 10, 13), '-', chars(ALNUM, 24)) },
  { kind: 'IncomingWebhook', value: join(anyCase('https://hooks.slack.com/services/t'), chars(ALNUM, 8, 11), '/B', chars(ALNUM, 8, 11), '/', chars(ALNUM, 24)) },
  { kind: 'BasicAuth', value: join(pick('http', 'https', 'ftp', 'ftps'), '://', credentials.user, ':', credentials.password, '@', credentials.host, '.', pick('com', 'io', 'dev')) },
  {
    kind: 'OPENAI_TOKEN',
    value: fc.oneof(
      join('sk-', chars(ALNUM, 20), 'T3BlbkFJ', chars(ALNUM, 20)),
      join('sk-', pick('proj', 'svcacct', 'admin'), '-', chars(URL_SAFE, 74), 'T3BlbkFJ', chars(URL_SAFE, 73), chars(ALNUM, 1)),
    ),
  },
  { kind: 'ANTHROPIC_API_KEY', value: join('sk-ant-api0', pick('3', '4'), '-', chars(URL_SAFE, 93), 'AA') },
  { kind: 'LINEAR_API_TOKEN', value: join('lin_api_', chars(ALNUM, 32, 60)) },
  { kind: 'SENDGRID_KEY', value: join('SG.', chars(WORD, 22), '.', chars(WORD, 43)) },
  { kind: 'SHOPIFY_KEY', value: join(pick('shppa', 'shpca', 'shpat', 'shpss'), '_', chars(ALNUM, 32, 64)) },
  { kind: 'GITHUB_TOKEN', value: fc.oneof(join('gh', pick('p', 'o', 'u', 's', 'r'), '_', chars(WORD, 36)), join('github_pat_', chars(WORD, 82))) },
  { kind: 'OPS_TOKEN', value: onePassword },
  { kind: 'MongoDBConnection', value: join(anyCase('mongodb'), pick('', '+srv'), '://', databaseCredentials.user, ':', databaseCredentials.password, '@', databaseCredentials.host, ':27017/app') },
  { kind: 'MySQLConnection', value: join(pick('', 'jdbc:'), anyCase('mysql'), pick('', 'x'), '://', databaseCredentials.user, ':', databaseCredentials.password, '@', databaseCredentials.host, '/app') },
  { kind: 'PostgreSQLConnection', value: join(anyCase('postgres'), pick('', 'ql'), '://', databaseCredentials.user, ':', databaseCredentials.password, '@', databaseCredentials.host, ':5432/app?sslmode=require') },
];

const anySecret = fc.oneof(...SHAPES.map((shape) => shape.value));

/** Lengths at each end of a pattern's range and just outside it, where a prefilter check could be off by one. */
const around = (...lengths: number[]): fc.Arbitrary<number> => fc.constantFrom(...lengths.flatMap((length) => [length - 1, length, length + 1]));
const nearMiss = fc.oneof(
  around(36).chain((length) => join(pick('npm_', 'ghp_', 'ghr_'), chars(WORD, length))),
  around(82).chain((length) => join('github_pat_', chars(WORD, length))),
  around(32, 64).chain((length) => join(pick('shpat_', 'shppa_'), chars(ALNUM, length))),
  around(32, 128).chain((length) => join('lin_api_', chars(WORD, length))),
  around(20).chain((length) => join('sk-', chars(ALNUM, length), 'T3BlbkFJ', chars(ALNUM, 20))),
  around(90, 128).chain((length) => join('sk-ant-api03-', chars(URL_SAFE, length), 'AA')),
  around(22).chain((length) => join('SG.', chars(WORD, length), '.', chars(WORD, 43))),
  fc.tuple(around(76, 79, 961, 964), onePasswordKey).map(([length, key]) => onePasswordOf(length, key)),
);

/** Bits of the patterns and of what is around them, so that random text makes near misses and odd neighbours. */
const FRAGMENTS = [
  '_', 'npm', 'gh', 'ghp', 'github', 'pat_', 'shpat', 'ops', 'ey', 'fQ==', 'lin', 'api_', 'authToken=', '_authToken=$', 'x', 'ox', 'xoxb-', 'xapp-',
  'x-oauth-basic@github.com/', 'K', 'KEY', 'Key', 'key', 'SECRET', 'secret', 'Secret', 'ACCESS', 'access', 'Access', 'AWS_', 'aws',
  'PRIVATE KEY', '-----BEGIN ', '-----END ', 'RSA ', '-----', ' BLOCK', 'MII', 'b3BlbnNzaC1rZXktdjE', '://', 'http', 'https', 'ftp', 'mongodb', 'MongoDB',
  'mysql', 'jdbc:', 'postgres', 'postgresql', 'hooks.slack.com/services/T', '/B', '/', ':', '@', 'localhost', 'password', '${PASS}', 'T3BlbkFJ', 'sk-',
  'sk-proj-', 'sk-ant-api03-', 'k-ant-', 'SG.', '.', 'ble', 'able', 'secretlint-disable', 'secretlint-enable', 'secretlint-disable-line',
  'secretlint-disable-next-line', ' -- reason', ' @secretlint/secretlint-rule-github', ' @secretlint/secretlint-rule-aws,@secretlint/secretlint-rule-privatekey',
  ',', '\n', '\n', '\n', '\r', '\r\n', '\u2028', ' ', '  ', '\t', '\u00a0', '\u3000', '=', '=>', '"', "'", '+', '-', '\\n', 'é', 'ü', '日本', '😀', 'AA', '\ufeff',
];
const fragment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 100 }).chain((length) => chars(ALNUM, length)) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 120 }).chain((length) => chars('A-Za-z0-9+/=', length)) },
  { weight: 1, arbitrary: anySecret },
  { weight: 1, arbitrary: nearMiss },
);
const soup = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join(''));

const SOURCE_LINES = [
  'const apiKey = process.env.API_KEY ?? "";',
  'export function parseKey(key: string): Key { return { key, kind: "secret" }; }',
  '// rotate aws_secret_access_key before the release, see docs/keys.md',
  'const url = `https://${host}:${port}/v1/items?limit=10`;',
  "await fetch('https://api.github.com/repos/octo-org/app', { headers: { authorization: `token ${token}` } });",
  '-----BEGIN CERTIFICATE-----',
  'if (snake_case_name && npm_config_cache) return process.env.npm_package_version;',
  '  "scripts": { "test": "node --test", "build": "tsc -p ." },',
  'SECRET_KEY_BASE=${SECRET_KEY_BASE}',
  'postgres://localhost:5432/app and mongodb://db.internal/app',
  'const enable = !disable && isAvailable(table);',
  '# secretlint-disable-next-line',
  '<!-- secretlint-disable @secretlint/secretlint-rule-github -->',
  '/* secretlint-enable */',
  '',
];

/** A line shaped like a Copilot event: text with line ends becomes one JSON line with "\n" escapes. */
const eventLine = soup.map((content) =>
  JSON.stringify({ type: 'tool.execution_complete', data: { toolCallId: 'call_7', success: true, result: { content } }, id: '0b6f2c1e-4d7a-4c1b-9a57-3f2d9e8c1a20', timestamp: '2026-11-20T09:00:07.000Z', parentId: null }),
);
const line = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SOURCE_LINES) },
  { weight: 2, arbitrary: eventLine },
  { weight: 2, arbitrary: anySecret },
  { weight: 3, arbitrary: soup },
);

interface Generated {
  readonly lines: string[];
  readonly prefixes: string[];
  readonly lineEnd: string;
  readonly finalLineEnd: boolean;
  /** A byte order mark, which secretlint drops from the start of its text. */
  readonly start: string;
  /** Bytes that are not UTF-8 (or a Latin-1 no-break space), at these fractions of the piece. */
  readonly latin1: Array<{ readonly at: number; readonly byte: number }>;
  readonly name: string;
  readonly redact: boolean;
  readonly lenient: boolean;
  readonly diff: boolean;
}

const generated: fc.Arbitrary<Generated> = fc.record({
  lines: fc.array(line, { maxLength: 30 }),
  prefixes: fc.array(pick('', '+', '-', ' '), { minLength: 30, maxLength: 30 }),
  lineEnd: pick('\n', '\n', '\r\n'),
  finalLineEnd: fc.boolean(),
  start: pick('', '', '', '\ufeff'),
  latin1: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.oneof(fc.integer({ min: 0x80, max: 0xff }), fc.constant(0xa0)) }), { maxLength: 3 }),
  name: pick('events.jsonl', 'work/patches/0001.patch', 'app/package.json', 'project/.npmrc', 'files/notes.md'),
  redact: fc.boolean(),
  lenient: fc.boolean(),
  diff: fc.boolean(),
});

function pieceOf(input: Generated): PieceRequest {
  const text = input.start + input.lines.map((line, i) => (input.diff ? input.prefixes[i]! : '') + line).join(input.lineEnd) + (input.finalLineEnd ? input.lineEnd : '');
  let bytes = Buffer.from(text);
  for (const { at, byte } of input.latin1) {
    const offset = Math.floor(at * bytes.length);
    bytes = Buffer.concat([bytes.subarray(0, offset), Buffer.from([byte]), bytes.subarray(offset)]);
  }
  return { bytes, name: input.name, redact: input.redact, lenient: input.lenient, diff: input.diff };
}

/** A request each scan can have to itself (a worker would take the bytes over). */
const copyOf = (request: PieceRequest): PieceRequest => ({ ...request, bytes: Uint8Array.from(request.bytes) });

/** Results as plain data: redacted bytes as Latin-1 text, so that a difference shows where it is. */
function comparable(result: PieceResult): unknown {
  if (!result.text) return result;
  const { redacted, ...rest } = result;
  return { ...rest, redacted: redacted && Buffer.from(redacted.buffer, redacted.byteOffset, redacted.byteLength).toString('latin1') };
}

async function assertSameAsFullScan(request: PieceRequest): Promise<PieceResult> {
  const expected = await scanPieceFully(copyOf(request));
  const actual = await scanPiece(copyOf(request));
  assert.deepEqual(comparable(actual), comparable(expected));
  return actual;
}

test('prefilter: on generated pieces, the scan finds, numbers and redacts exactly what the full scan does', async () => {
  await fc.assert(
    fc.asyncProperty(generated, async (input) => {
      await assertSameAsFullScan(pieceOf(input));
    }),
    settings,
  );
});

test('prefilter: the same on pieces that are mostly secrets and comments, in every mode', async () => {
  const dense = fc.record({
    lines: fc.array(fc.oneof(anySecret, soup, fc.constantFrom('# secretlint-disable-next-line', 'secretlint-disable', 'secretlint-enable', '')), { maxLength: 16 }),
    mode: fc.record({ redact: fc.boolean(), lenient: fc.boolean(), diff: fc.boolean() }),
    prefixes: fc.array(pick('+', '-', ' '), { minLength: 16, maxLength: 16 }),
    name: pick('events.jsonl', 'app/package.json', 'project/.npmrc'),
  });
  await fc.assert(
    fc.asyncProperty(dense, async ({ lines, mode, prefixes, name }) => {
      const text = lines.map((line, i) => (mode.diff ? line.split('\n').map((part, j) => (j === 0 ? prefixes[i]! : prefixes[(i + j) % 16]!) + part).join('\n') : line)).join('\n');
      await assertSameAsFullScan({ bytes: Buffer.from(text), name, ...mode });
    }),
    settings,
  );
});

/** Byte sequences at the edges of UTF-8 (surrogates, overlong forms, past U+10FFFF, cut short, a BOM), and text around them. */
const UTF8_EDGES = [
  [0xed, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xc0, 0x80], [0xc2, 0x80], [0xe0, 0x80, 0x80],
  [0xf0, 0x8f, 0xbf, 0xbf], [0xf0, 0x9f, 0x98, 0x80], [0xef, 0xbf, 0xbf], [0xef, 0xbb, 0xbf], [0xff], [0x80], [0xc2], [0xe2, 0x80], [0xe2, 0x80, 0xa8], [0xc2, 0xa0], [0xa0], [0x0a], [0x0d],
];
const edgeBytes = fc
  .array(fc.oneof(fc.constantFrom(...UTF8_EDGES), soup.map((text) => [...Buffer.from(text)])), { maxLength: 12 })
  .map((parts) => Uint8Array.from(parts.flat()));

test('prefilter: the same on arbitrary bytes and at the edges of UTF-8, text or not, lenient or not', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 400 }), edgeBytes), fc.boolean(), fc.boolean(), async (bytes, lenient, diff) => {
      await assertSameAsFullScan({ bytes, name: 'events.jsonl', redact: true, lenient, diff });
    }),
    settings,
  );
});

test('prefilter: the installed secretlint is the one its anchors were derived from', () => {
  // Otherwise the scan runs without the prefilter (still correct, only slower): check the new
  // version's patterns against prefilter.ts, then update DERIVED_FROM there.
  assert.equal(prefilterFitsRules, true);
});

/** Filler around a secret: Copilot events before and after, so that the secret's line number is not 0. */
function inSession(secret: string): { text: string; line: number } {
  const event = (content: string): string => JSON.stringify({ type: 'user.message', data: { content }, id: 'e1', timestamp: '2026-11-20T09:00:01.000Z', parentId: null });
  const before = [event('Step 1: run the tests'), 'const key = lookup(table_name);', event('https://example.com/docs?x=1')];
  return { text: [...before, secret, event('done, nothing else to do'), ''].join('\n'), line: before.length };
}

for (const shape of SHAPES) {
  test(`prefilter: ${shape.kind} is still found, on its line, and redacted`, async () => {
    for (const secret of fc.sample(shape.value, { numRuns: 10, seed: 42 })) {
      const { text, line } = inSession(secret);
      const request: PieceRequest = { bytes: Buffer.from(text), name: shape.name ?? 'events.jsonl', redact: true };
      const result = await assertSameAsFullScan(request);
      assert.ok(result.text);
      // (An x-oauth-basic URL is a basic-auth URL too.)
      assert.ok(result.findings.some((finding) => finding.kind === shape.kind && finding.line === line), `${shape.kind} in ${JSON.stringify(secret)}`);
      assert.ok(result.findings.every((finding) => finding.line === line));
      const redacted = Buffer.from(result.redacted!).toString('utf8');
      assert.ok(redacted.includes("[redacted:"));
      // In diff mode too, added as a file: found on its line, redactable, nothing left over.
      const added = text.split('\n').map((part) => `+${part}`).join('\n');
      const diff = await assertSameAsFullScan({ bytes: Buffer.from(added), name: shape.name ?? 'work.patch', redact: true, diff: true });
      assert.ok(diff.text && diff.findings.some((finding) => finding.kind === shape.kind && finding.line === line));
    }
  });
}

test('prefilter: a byte order mark at the start of a piece or of a line shifts nothing', async () => {
  const [token] = fc.sample(SHAPES.find((shape) => shape.kind === 'GITHUB_TOKEN')!.value, { numRuns: 1, seed: 1 });
  for (const text of [`\ufeffGH=${token}\nnext\n`, `first\n\ufeffGH=${token}\n`, `\ufeff\nfirst ${token}\nsecond ${token}`]) {
    for (const diff of [false, true]) await assertSameAsFullScan({ bytes: Buffer.from(text), name: 'events.jsonl', redact: true, diff });
  }
});

test('prefilter: every secret lies in one run of candidate lines, as it is and as a removed file in a patch', () => {
  // What scanPiece relies on; were it not so, scanPiece would notice a match across two runs and
  // fall back to the full scan, and the comparisons above could not tell.
  for (const shape of SHAPES) {
    for (const secret of fc.sample(shape.value, { numRuns: 20, seed: 7 })) {
      for (const diff of [false, true]) {
        const { text, line } = inSession(secret);
        const lines = text.split('\n').map((part) => (diff ? `-${part}` : part));
        const bytes = Buffer.from(lines.join('\n'));
        const start = Buffer.byteLength(lines.slice(0, line).join('\n')) + 1;
        const end = start + Buffer.byteLength(lines.slice(line, line + secret.split('\n').length).join('\n'));
        const spans = candidateSpans(bytes, diff);
        assert.ok(spans.some((span) => span.start <= start && end <= span.end), `${shape.kind}${diff ? ' (diff)' : ''}: ${JSON.stringify(secret)} not in ${JSON.stringify(spans)}`);
      }
    }
  }
});

test('prefilter: a session-shaped piece without secrets gives the rules nothing to scan', () => {
  const lines = Array.from({ length: 2000 }, (_, i) =>
    JSON.stringify({ type: 'tool.execution_complete', data: { toolCallId: `call_${i}`, success: true, result: { content: `ok ${i} - /home/alice/code/app/src/parser.test.ts > case ${i} (${i % 997} ms)\n` } } }),
  );
  assert.deepEqual(candidateSpans(Buffer.from(lines.join('\n')), false), []);
});
