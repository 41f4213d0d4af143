import { createHash } from 'node:crypto';

/**
 * Source-like text for sample sessions whose history should compress about as well as a real
 * coding session's tool output does: TypeScript-shaped functions whose identifiers, numbers and
 * string literals vary pseudo-randomly. Measured on a `source` events.jsonl against this
 * repository's own src/ and test/ (and a few of its dependencies' sources):
 *
 *                          raw deflate 1, 256 KiB blocks   zstd 3, 4 MiB window   zstd 9, 4 MiB window
 *   source events.jsonl              2.84:1                       3.36:1                 3.81:1
 *   src/ and test/                   3.06:1                       3.66:1                 4.15:1
 *   hyperdht, streamx, ...           3.55:1                       4.12:1                 4.65:1
 *
 * Every function is written anew, from a precomputed pool of 65,536 identifiers (about 1 MB, so
 * a long-window compressor finds them again as it would a codebase's names, but never a whole
 * function again): random calls are per token, never per byte. An earlier pool of 4,096
 * ready-made functions was twice as fast but let zstd's 4 MiB window find whole functions again
 * (5.4:1 at level 9, well above what the real sources above allow).
 */

/** A small, fast, deterministic generator (mulberry32): uint32 values from a string seed. */
export function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random() % items.length]!;
}

const WORDS = (
  'config parser token buffer stream session event handler request response client server cache ' +
  'queue worker retry limit timeout socket frame message header payload record entry index table ' +
  'schema field value option setting profile account user group role policy rule match filter ' +
  'route path file folder chunk block offset length size count total state status phase result ' +
  'error reason context scope target source origin remote local branch commit patch diff hunk ' +
  'line column range span node tree graph edge vertex visitor walker builder factory loader ' +
  'reader writer encoder decoder codec hash digest key secret nonce cipher signer verifier ' +
  'manifest bundle archive package module plugin hook listener emitter watcher timer clock ' +
  'window credit budget quota metric sample histogram counter gauge trace span log level ' +
  'action adapter agent alias anchor answer asset batch binding bucket cursor channel checkpoint ' +
  'cluster command comment compiler cookie digest domain draft driver element engine fetcher ' +
  'format gateway handle image input invoice job journal label layer layout lease ledger lock ' +
  'mapper marker member merge mirror monitor mutex notice output owner page panel pipeline pointer ' +
  'pool port preview printer probe process prompt provider proxy reader receipt registry release ' +
  'replica report resolver resource revision runner sandbox scanner segment selector sender shard ' +
  'signal slot snapshot spec splitter store strategy summary switch task template tenant ticket ' +
  'toggle topic tracker transform tunnel upload vault version view volume widget zone'
).split(' ');
const TYPES = ['string', 'number', 'boolean', 'Uint8Array', 'Buffer', 'Date', 'unknown', 'void', 'Promise<void>', 'Map<string, number>', 'string[]', 'readonly number[]'];
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Two to five random letters and digits: the part of an identifier no dictionary predicts. */
function randomTag(random: Random): string {
  let tag = '';
  for (let length = 2 + (random() % 4); length > 0; length--) tag += ALPHANUMERIC[random() % ALPHANUMERIC.length];
  return tag;
}

/**
 * camelCase from one to three words, sometimes snake_case, seven times in eight with a random
 * tag: the varied part that keeps the ratio under 3:1 (fewer tags and more reused names gave 4:1).
 */
function identifier(random: Random, pascal = false): string {
  const words = Array.from({ length: 1 + (random() % 3) }, () => pick(random, WORDS));
  const tag = random() % 8 === 0 ? '' : randomTag(random);
  if (!pascal && random() % 6 === 0) return [...words, tag].filter(Boolean).join('_');
  const joined = words.map((word, at) => (at === 0 && !pascal ? word : capitalise(word))).join('');
  return tag ? `${joined}${capitalise(tag)}` : joined;
}

function literal(pool: SourcePool): string {
  const { random } = pool;
  switch (random() % 4) {
    case 0:
      return String(random() % 100_000);
    case 1:
      return `0x${(random() >>> 8).toString(16)}`;
    case 2:
      return `'${pick(random, WORDS)}-${randomTag(random)}'`;
    default:
      return `\`${pick(random, WORDS)} \${${pick(random, pool.identifiers)}}\``;
  }
}

/** One statement of a function body, in terms of its locals, the codebase's identifiers and the module's names. */
function statement(pool: SourcePool, locals: readonly string[], indent: string): string {
  const { random } = pool;
  const local = (): string => pick(random, locals);
  const name = (): string => pick(random, pool.names);
  const other = (): string => pick(random, pool.identifiers);
  switch (random() % 10) {
    case 0:
      return `${indent}const ${local()} = ${name()}(${local()}, ${literal(pool)});`;
    case 1:
      return `${indent}if (${local()}.${other()} === ${literal(pool)}) return ${name()};`;
    case 2:
      return `${indent}for (const ${local()} of ${name()}.${other()}) ${local()}.push(${name()}(${local()}));`;
    case 3:
      return `${indent}// ${Array.from({ length: 3 + (random() % 6) }, () => pick(random, WORDS)).join(' ')}`;
    case 4:
      return `${indent}${local()}.${other()} = await ${name()}.${other()}(${local()}, { ${pick(random, WORDS)}: ${literal(pool)} });`;
    case 5:
      return `${indent}throw new ${capitalise(other())}Error(\`${pick(random, WORDS)} \${${local()}} ${pick(random, WORDS)}\`);`;
    case 6:
      return `${indent}let ${local()}: ${pick(random, TYPES)} = ${literal(pool)};`;
    case 7:
      return `${indent}${local()} += ${name()}.${other()} * ${random() % 1000};`;
    case 8:
      return `${indent}return { ${local()}, ${pick(random, WORDS)}: ${local()}.${other()}, ${pick(random, WORDS)}: ${literal(pool)} };`;
    default:
      return `${indent}${name()}.${other()}(${local()}, ${name()});`;
  }
}

/**
 * A new function of four to twenty lines over locals of its own, calling and reading the
 * module's names; also an edit's old or new text.
 */
export function sourceFunction(pool: SourcePool): string {
  const { random } = pool;
  const locals = Array.from({ length: 4 + (random() % 6) }, () => pick(random, pool.identifiers));
  const params = locals.slice(0, 1 + (random() % 2)).map((param) => `${param}: ${pick(random, TYPES)}`);
  const lines = [`export ${random() % 3 === 0 ? 'async ' : ''}function ${pick(random, pool.identifiers)}(${params.join(', ')}): ${pick(random, TYPES)} {`];
  for (let count = 4 + (random() % 17); count > 0; count--) lines.push(statement(pool, locals, random() % 3 === 0 ? '    ' : '  '));
  lines.push('}', '');
  return lines.join('\n');
}

export interface SourcePool {
  readonly random: Random;
  /** Identifiers as a codebase has them: many, each used in many places. */
  readonly identifiers: readonly string[];
  /** The module-level names functions call and read. */
  readonly names: readonly string[];
  readonly modules: readonly string[];
}

/** The identifiers (about 1 MB), names and module paths one session's files are written with. */
export function sourcePool(seed: string): SourcePool {
  const random = seededRandom(seed);
  const identifiers = Array.from({ length: 65_536 }, () => identifier(random));
  const names = Array.from({ length: 8192 }, () => identifier(random));
  const modules = Array.from({ length: 256 }, () => `src/${pick(random, WORDS)}/${identifier(random).replace(/_/g, '-')}`);
  return { random, identifiers, names, modules };
}

/** A source file: imports, then three to ten functions. */
export function sourceFile(pool: SourcePool): { readonly path: string; readonly text: string } {
  const { random } = pool;
  const path = `${pick(random, pool.modules)}.ts`;
  const imports = Array.from({ length: 1 + (random() % 4) }, () => `import { ${pick(random, pool.names)}, ${pick(random, pool.names)} } from '../${pick(random, pool.modules)}.js';`);
  const parts = [imports.join('\n'), ''];
  for (let count = 3 + (random() % 8); count > 0; count--) parts.push(sourceFunction(pool));
  return { path, text: parts.join('\n') };
}
