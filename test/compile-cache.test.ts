import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMPILE_CACHE_ENV, compileCacheDir, loadWithCompileCache } from '../src/cli/compile-cache.js';
import { tempDir } from './helpers/e2e.js';

const BIN = fileURLToPath(new URL('../../bin/copilot-beam', import.meta.url));
const MODULE = new URL('../src/cli/compile-cache.js', import.meta.url).href;

/**
 * Loads the bundle in a process of its own, as each run of the command line does: V8 keeps what
 * it compiled for the life of an isolate, and would answer a second load here from that.
 */
function loadInChild(file: string, dir: string, use: string): { fromCache: boolean; answer: number } {
  const script = `const { loadWithCompileCache } = await import(${JSON.stringify(MODULE)});
const loaded = loadWithCompileCache(${JSON.stringify(file)}, { dir: ${JSON.stringify(dir)}, use: ${JSON.stringify(use)} });
const answer = loaded.exports.answer();
loaded.saveCache();
process.stdout.write(JSON.stringify({ fromCache: loaded.fromCache, answer }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { fromCache: boolean; answer: number };
}

/** A small CommonJS module in Node's wrapper, as scripts/bundle.ts writes the CLI: enough code to be worth caching. */
async function bundleIn(dir: string, answer: number): Promise<string> {
  const file = join(dir, 'bundle.cjs');
  const helpers = Array.from({ length: 200 }, (_, index) => `function helper${index}(x) { return x + ${index}; }`).join('\n');
  await writeFile(file, `(function (exports, require, module, __filename, __dirname) {${helpers}\nconst { basename } = require('node:path');\nmodule.exports = { answer: () => helper0(${answer}), file: basename(__filename), sum: () => [${Array.from({ length: 200 }, (_, index) => `helper${index}(0)`).join(', ')}].reduce((a, b) => a + b, 0) };\n})`);
  return file;
}

interface Bundle {
  answer(): number;
  file: string;
  sum(): number;
}

async function cacheFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.v8cache')).sort();
}

test('the first run writes the cache, the next starts from it and runs the same code', async () => {
  const root = await tempDir('compile-cache');
  const file = await bundleIn(root, 41);
  const dir = join(root, 'cache', 'copilot-beam');
  const first = loadWithCompileCache<Bundle>(file, { dir, use: 'send' });
  assert.equal(first.fromCache, false);
  assert.equal(first.exports.answer(), 41);
  assert.equal(first.exports.file, 'bundle.cjs', 'the bundle sees its own __filename');
  assert.equal(first.exports.sum(), (199 * 200) / 2);
  first.saveCache();
  const written = await cacheFiles(dir);
  assert.equal(written.length, 1);
  assert.match(written[0]!, /^send-[0-9a-f]{32}\.v8cache$/);
  assert.equal((await stat(join(dir, written[0]!))).mode & 0o777, 0o600);
  assert.equal((await stat(dir)).mode & 0o777, 0o700, 'the folder is made private');
  const before = await stat(join(dir, written[0]!));

  assert.deepEqual(loadInChild(file, dir, 'send'), { fromCache: true, answer: 41 });
  assert.equal((await stat(join(dir, written[0]!))).ino, before.ino, 'a run that started from the cache leaves it as it was (no new file renamed over it)');
  assert.deepEqual(loadInChild(file, dir, 'receive'), { fromCache: false, answer: 41 }, 'another command compiles for itself');
  assert.equal((await cacheFiles(dir)).length, 2);
});

test('another bundle of the same length gets a cache of its own, and the old one is removed', async () => {
  const root = await tempDir('compile-cache');
  const dir = join(root, 'cache');
  const file = await bundleIn(root, 41);
  assert.deepEqual(loadInChild(file, dir, 'receive'), { fromCache: false, answer: 41 });
  const [oldName] = await cacheFiles(dir);
  // V8 checks a cache against its source's length only: a change of one digit must not reuse it.
  await bundleIn(root, 42);
  assert.deepEqual(loadInChild(file, dir, 'receive'), { fromCache: false, answer: 42 });
  const names = await cacheFiles(dir);
  assert.equal(names.length, 1);
  assert.notEqual(names[0], oldName);
  assert.deepEqual(loadInChild(file, dir, 'receive'), { fromCache: true, answer: 42 });
});

test('a cache V8 refuses is compiled around and written again', async () => {
  const root = await tempDir('compile-cache');
  const dir = join(root, 'cache');
  const file = await bundleIn(root, 7);
  loadInChild(file, dir, 'other');
  const [name] = await cacheFiles(dir);
  await writeFile(join(dir, name!), Buffer.alloc(4096, 0xa5));
  assert.deepEqual(loadInChild(file, dir, 'other'), { fromCache: false, answer: 7 });
  assert.deepEqual(loadInChild(file, dir, 'other'), { fromCache: true, answer: 7 });
});

test('a folder others can write, or one that is a link, is never used', { skip: process.platform === 'win32' }, async () => {
  const root = await tempDir('compile-cache');
  const file = await bundleIn(root, 5);
  const open = join(root, 'shared');
  await mkdir(open, { mode: 0o700 });
  await chmod(open, 0o777);
  const inShared = loadWithCompileCache<Bundle>(file, { dir: open, use: 'send' });
  inShared.saveCache();
  assert.equal(inShared.exports.answer(), 5, 'the bundle still runs');
  assert.deepEqual(await cacheFiles(open), []);

  const target = join(root, 'target');
  await mkdir(target, { mode: 0o700 });
  const link = join(root, 'link');
  await symlink(target, link);
  loadWithCompileCache<Bundle>(file, { dir: link, use: 'send' }).saveCache();
  assert.deepEqual(await cacheFiles(target), []);
});

test('where the cache goes: XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on Windows, nowhere when turned off', () => {
  assert.equal(compileCacheDir({}, 'linux', '/home/ana'), '/home/ana/.cache/copilot-beam');
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: '/var/cache/ana' }, 'linux', '/home/ana'), '/var/cache/ana/copilot-beam');
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: 'relative' }, 'linux', '/home/ana'), '/home/ana/.cache/copilot-beam');
  assert.equal(compileCacheDir({}, 'darwin', '/Users/ana'), '/Users/ana/Library/Caches/copilot-beam');
  assert.equal(compileCacheDir({ [COMPILE_CACHE_ENV]: '0' }, 'linux', '/home/ana'), undefined);
  assert.equal(compileCacheDir({ [COMPILE_CACHE_ENV]: 'off' }, 'darwin', '/Users/ana'), undefined);
  assert.equal(compileCacheDir({}, 'win32', 'C:\\Users\\ana'), undefined, 'no LOCALAPPDATA, no cache');
});

test('the command line keeps one cache per command in the user cache folder, and none when turned off', async () => {
  const home = await tempDir('compile-cache-home');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: '' };
  delete env[COMPILE_CACHE_ENV];
  execFileSync(process.execPath, [BIN, '--help'], { env });
  execFileSync(process.execPath, [BIN, 'list'], { env: { ...env, COPILOT_HOME: join(home, '.copilot') } });
  const dir = join(home, '.cache', 'copilot-beam');
  assert.deepEqual((await cacheFiles(dir)).map((name) => name.split('-')[0]), ['other']);

  const off = await tempDir('compile-cache-home');
  execFileSync(process.execPath, [BIN, '--help'], { env: { ...env, HOME: off, [COMPILE_CACHE_ENV]: '0' } });
  await assert.rejects(stat(join(off, '.cache')), { code: 'ENOENT' });
});
