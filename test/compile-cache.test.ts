import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, chown, copyFile, link, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadWithCompileCache } from '../src/cli/compile-cache.js';
import { COMPILE_CACHE_ENV, compileCacheDir } from '../src/cli/private-cache-folder.js';
import { tempDir } from './helpers/e2e.js';

const BIN = fileURLToPath(new URL('../../bin/copilot-beam', import.meta.url));
const MODULE = new URL('../src/cli/compile-cache.js', import.meta.url).href;
const posix = process.platform !== 'win32';
const runningAsRoot = posix && process.getuid?.() === 0;

interface Loaded {
  readonly fromCache: boolean;
  readonly answer: number;
}

/**
 * Loads the bundle in a process of its own, as each run of the command line does: V8 keeps what
 * it compiled for the life of an isolate, and would answer a second load here from that.
 */
function loadInChild(file: string, dir: string, use: string): Loaded {
  const script = `const { loadWithCompileCache } = await import(${JSON.stringify(MODULE)});
const loaded = loadWithCompileCache(${JSON.stringify(file)}, { dir: ${JSON.stringify(dir)}, use: ${JSON.stringify(use)} });
const answer = loaded.exports.answer();
loaded.saveCache();
process.stdout.write(JSON.stringify({ fromCache: loaded.fromCache, answer }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, `the child exited with ${child.status} (signal ${child.signal}): ${child.stderr}`);
  return JSON.parse(child.stdout) as Loaded;
}

/** A small CommonJS module in Node's wrapper, as scripts/bundle.ts writes the CLI: enough code to be worth caching. */
async function bundleIn(dir: string, answer: number): Promise<string> {
  const file = join(dir, 'bundle.cjs');
  const helpers = Array.from({ length: 300 }, (_, index) => `function helper${index}(x) { return [x, ${index}].reduce((a, b) => a + b, 0); }`).join('\n');
  const calls = Array.from({ length: 300 }, (_, index) => `helper${index}(0)`).join(', ');
  await writeFile(
    file,
    `(function (exports, require, module, __filename, __dirname) {'use strict';${helpers}\nconst { basename } = require('node:path');\nmodule.exports = { answer: () => helper0(${answer}), file: basename(__filename), sum: () => [${calls}].reduce((a, b) => a + b, 0) };\n})`,
  );
  return file;
}

async function cacheFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.v8cache')).sort();
}

/** A bundle with its cache written by a first run, in a private folder. */
async function cachedBundle(answer = 7): Promise<{ root: string; file: string; dir: string; cache: string }> {
  const base = await tempDir('compile-cache');
  const file = await bundleIn(base, answer);
  const dir = join(base, 'cache');
  assert.deepEqual(loadInChild(file, dir, 'send'), { fromCache: false, answer });
  const [name] = await cacheFiles(dir);
  return { root: base, file, dir, cache: join(dir, name!) };
}

test('the first run writes the cache, the next starts from it and runs the same code', async () => {
  const base = await tempDir('compile-cache');
  const file = await bundleIn(base, 41);
  const dir = join(base, 'cache', 'copilot-beam');
  const first = loadWithCompileCache<{ answer(): number; file: string; sum(): number }>(file, { dir, use: 'send' });
  assert.equal(first.fromCache, false);
  assert.equal(first.exports.answer(), 41);
  assert.equal(first.exports.file, 'bundle.cjs', 'the bundle sees its own __filename');
  assert.equal(first.exports.sum(), (299 * 300) / 2);
  first.saveCache();
  const written = await cacheFiles(dir);
  assert.equal(written.length, 1);
  assert.match(written[0]!, /^send-[0-9a-f]{32}\.v8cache$/);
  if (posix) {
    assert.equal((await stat(join(dir, written[0]!))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700, 'the folder is made private');
  }
  const before = await stat(join(dir, written[0]!));

  assert.deepEqual(loadInChild(file, dir, 'send'), { fromCache: true, answer: 41 });
  assert.equal((await stat(join(dir, written[0]!))).ino, before.ino, 'a run that started from the cache leaves it as it was (no new file renamed over it)');
  assert.deepEqual(loadInChild(file, dir, 'receive'), { fromCache: false, answer: 41 }, 'another command compiles for itself');
  assert.equal((await cacheFiles(dir)).length, 2);
});

test('a damaged cache is never handed to V8 (it crashed on one): compiled around, then written again', async () => {
  const { file, dir, cache } = await cachedBundle();
  const good = await readFile(cache);
  assert.ok(good.length > 4096, `a cache worth damaging (${good.length} bytes)`);
  for (const offset of [40, 200, Math.floor(good.length / 3), Math.floor(good.length / 2), good.length - 100]) {
    const damaged = Buffer.from(good);
    for (let index = offset; index < Math.min(offset + 64, damaged.length); index++) damaged[index] = damaged[index]! ^ 0x5a;
    await writeFile(cache, damaged, { mode: 0o600 });
    assert.deepEqual(loadInChild(file, dir, 'send'), { fromCache: false, answer: 7 }, `damaged at ${offset}`);
    assert.deepEqual(loadInChild(file, dir, 'send'), { fromCache: true, answer: 7 }, `written again after the damage at ${offset}`);
  }
  await writeFile(cache, good.subarray(0, good.length - 1000), { mode: 0o600 });
  assert.deepEqual(loadInChild(file, dir, 'send'), { fromCache: false, answer: 7 }, 'a torn cache');
  await writeFile(cache, Buffer.alloc(4096, 0xa5), { mode: 0o600 });
  assert.deepEqual(loadInChild(file, dir, 'send'), { fromCache: false, answer: 7 }, 'not a cache at all');
});

test('another bundle of the same length gets a cache of its own; the caches of four versions are kept, the oldest removed', async () => {
  const base = await tempDir('compile-cache');
  const dir = join(base, 'cache');
  const file = await bundleIn(base, 10);
  const names: string[] = [];
  for (let answer = 10; answer < 16; answer++) {
    // V8 checks a cache against its source's length only: a change of one digit must not reuse it.
    await bundleIn(base, answer);
    assert.deepEqual(loadInChild(file, dir, 'receive'), { fromCache: false, answer });
    const name = (await cacheFiles(dir)).find((candidate) => !names.includes(candidate))!;
    names.push(name);
    // Older versions by their time, a minute apart, whatever the clock's resolution.
    await utimes(join(dir, name), new Date(Date.now() - (20 - answer) * 60_000), new Date(Date.now() - (20 - answer) * 60_000));
  }
  assert.deepEqual(await cacheFiles(dir), names.slice(-4).sort(), 'the four newest versions');
  assert.deepEqual(loadInChild(file, dir, 'receive'), { fromCache: true, answer: 15 });
});

test('a cache file that is a link, has another link, or others could write is not read', { skip: !posix && 'POSIX modes and links' }, async () => {
  const { file, dir, cache, root: base } = await cachedBundle();
  const elsewhere = join(base, 'elsewhere.v8cache');
  await copyFile(cache, elsewhere);

  await rm(cache);
  await symlink(elsewhere, cache);
  assert.equal(loadInChild(file, dir, 'send').fromCache, false, 'a link');

  await rm(cache);
  await link(elsewhere, cache);
  assert.equal(loadInChild(file, dir, 'send').fromCache, false, 'a second name for the file');

  await rm(cache);
  await copyFile(elsewhere, cache);
  await chmod(cache, 0o666);
  assert.equal(loadInChild(file, dir, 'send').fromCache, false, 'writable by others');
  await chmod(cache, 0o600);
  assert.equal(loadInChild(file, dir, 'send').fromCache, true, 'the same bytes, private');
});

test('a folder others can write, a link, or one below a folder others can rename things in is never used', { skip: !posix && 'POSIX modes' }, async () => {
  const { file, dir, cache, root: base } = await cachedBundle();
  await chmod(dir, 0o777);
  assert.equal(loadInChild(file, dir, 'send').fromCache, false, 'a valid cache in a folder others can write is not read');
  await chmod(dir, 0o700);
  assert.equal(loadInChild(file, dir, 'send').fromCache, true);

  const linked = join(base, 'linked');
  await symlink(dir, linked);
  assert.equal(loadInChild(file, linked, 'send').fromCache, false, 'a link to the folder');

  const open = join(base, 'open');
  await mkdir(open, { mode: 0o700 });
  const below = join(open, 'cache');
  await mkdir(below, { mode: 0o700 });
  await copyFile(cache, join(below, cache.slice(dir.length + 1)));
  await chmod(open, 0o777);
  assert.equal(loadInChild(file, below, 'send').fromCache, false, 'a parent others can write, not sticky');
  await chmod(open, 0o1777);
  assert.equal(loadInChild(file, below, 'send').fromCache, true, 'a sticky parent, as /tmp');
});

test("a missing folder is made only below a folder of this user's", { skip: !runningAsRoot && 'chown needs root' }, async () => {
  const base = await tempDir('compile-cache');
  const file = await bundleIn(base, 3);
  const theirs = join(base, 'theirs');
  await mkdir(theirs, { mode: 0o755 });
  await chown(theirs, 12345, 12345);
  assert.deepEqual(loadInChild(file, join(theirs, '.cache', 'copilot-beam'), 'send'), { fromCache: false, answer: 3 });
  assert.deepEqual(await readdir(theirs), [], "nothing made in someone else's folder");
});

test('where the cache goes: XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on Windows, nowhere when turned off or homeless', () => {
  const home = (): string => '/home/ana';
  assert.equal(compileCacheDir({}, 'linux', home), '/home/ana/.cache/copilot-beam');
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: '/var/cache/ana' }, 'linux', home), '/var/cache/ana/copilot-beam');
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: 'relative' }, 'linux', home), '/home/ana/.cache/copilot-beam');
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: '/var/cache/ana' }, 'darwin', () => '/Users/ana'), '/Users/ana/Library/Caches/copilot-beam');
  for (const off of ['0', 'off', 'false', ' OFF ']) assert.equal(compileCacheDir({ [COMPILE_CACHE_ENV]: off }, 'linux', home), undefined);
  assert.equal(compileCacheDir({}, 'win32', home), undefined, 'no LOCALAPPDATA, no cache');
  const homeless = (): string => {
    throw new Error('uv_os_homedir: no such file or directory');
  };
  assert.equal(compileCacheDir({}, 'linux', homeless), undefined);
  assert.equal(compileCacheDir({ [COMPILE_CACHE_ENV]: '0' }, 'linux', homeless), undefined);
});

test('the command line keeps a cache for send, one for receive and one for the rest, written only after a run that did its work', async () => {
  const home = await tempDir('compile-cache-home');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, LOCALAPPDATA: home, COPILOT_HOME: join(home, '.copilot') };
  delete env.XDG_CACHE_HOME;
  delete env[COMPILE_CACHE_ENV];
  const dir = compileCacheDir(env, process.platform, () => home)!;
  const written = async (): Promise<string[]> => (await cacheFiles(dir).catch(() => [])).map((name) => name.split('-')[0]!);
  execFileSync(process.execPath, [BIN, 'send', '--help'], { env });
  execFileSync(process.execPath, [BIN, 'receive', '-h'], { env });
  assert.equal(spawnSync(process.execPath, [BIN, 'no-such-command'], { env }).status, 2);
  assert.deepEqual(await written(), [], "send's and receive's help, and a failed run, write nothing");
  execFileSync(process.execPath, [BIN, '--help'], { env });
  assert.deepEqual(await written(), ['other'], 'the other commands share one, help included');

  const off = await tempDir('compile-cache-home');
  execFileSync(process.execPath, [BIN, 'list'], { env: { ...env, HOME: off, LOCALAPPDATA: off, [COMPILE_CACHE_ENV]: '0' } });
  assert.deepEqual(await readdir(off), [], 'turned off, nothing is written');
});
