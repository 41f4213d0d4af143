import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { preparePrivateFolder, readPrivateFile } from './private-cache-folder.js';

/**
 * Loads a CommonJS bundle with V8's code cache kept in a folder only this user can write.
 *
 * Node 20 compiles every module it loads from source on every start: about 20 ms of each
 * copilot-beam process before its first DHT packet, on the path from one person's command to
 * the other's code. V8 can instead start from the bytecode a previous run compiled (vm.Script's
 * cachedData, what Node 22's module.enableCompileCache does for modules). The cache is code this
 * process will run, so it lives only in a private folder of the user's own, checked before every
 * use (private-cache-folder.ts), and is named by a hash of the bundle's bytes and the Node that
 * made it: V8 checks its own version and flags, but not the source beyond its length. Each file
 * starts with a SHA-256 of the rest: V8 does not check its data in release builds, and a torn or
 * damaged cache crashed it (a fatal error or SIGSEGV, then on every start of that command).
 */

export interface CompileCache {
  /** A private folder of this user's. */
  readonly dir: string;
  /** Which use of the bundle this is (each command compiles other functions): a file-name-safe word. */
  readonly use: string;
}

export interface LoadedBundle<T> {
  readonly exports: T;
  /** True when V8 took the cached bytecode. */
  readonly fromCache: boolean;
  /**
   * Writes what this process compiled as the cache, unless it started from one. Call it late
   * (at exit) and only after a run that did its work, so that the functions such a run needs
   * are in it; it never throws.
   */
  saveCache(): void;
}

/** A cache larger than this is not ours to trust (the CLI's is about 1.5 MB). */
const MOST_CACHE_BYTES = 64 * 1024 * 1024;
const CACHE_SUFFIX = '.v8cache';
const PARTIAL_SUFFIX = '.partial';
const DIGEST_BYTES = 32;
/** Caches of this many bundles or Nodes are kept (two installs sharing the folder must not evict each other). */
const KEPT_VERSIONS = 4;
/** A partial file this old was left by a process that died while writing it. */
const STALE_PARTIAL_MS = 60 * 60 * 1000;

/**
 * Runs a CommonJS module as Node's require would, starting from the cache when there is a good
 * one. The file holds the module already in Node's wrapper, `(function (exports, require,
 * module, __filename, __dirname) {...})`, only ASCII, and no import() (scripts/bundle.ts makes
 * it so: V8 does not keep a script's import() support in its cache). It is read as one string,
 * the one V8 compiles, with no copy made on the way.
 */
export function loadWithCompileCache<T>(file: string, cache: CompileCache | undefined): LoadedBundle<T> {
  const source = readFileSync(file, 'latin1');
  const key = bundleKey(source);
  const cachePath = cache && preparePrivateFolder(cache.dir) ? join(cache.dir, `${cache.use}-${key}${CACHE_SUFFIX}`) : undefined;
  const cachedData = cachePath ? readCache(cachePath) : undefined;
  const script = new Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const fromCache = cachedData !== undefined && !script.cachedDataRejected;
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  const module: { exports: unknown } = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  let saved = fromCache;
  return {
    exports: module.exports as T,
    fromCache,
    saveCache: () => {
      if (saved || !cachePath) return;
      saved = true;
      try {
        writeCache(cachePath, script.createCachedData());
        removeOldVersions(dirname(cachePath), key);
      } catch {
        // no cache: the next start compiles, as it would without one
      }
    },
  };
}

/** The bundle's bytes and the Node that compiles them: another of either is another cache. */
function bundleKey(source: string): string {
  return createHash('sha256').update(source, 'latin1').update(`\0${process.version}\0${process.arch}`).digest('hex').slice(0, 32);
}

/** The cached data, if the file is a private one of ours and whole (its digest matches). */
function readCache(path: string): Buffer | undefined {
  const file = readPrivateFile(path, MOST_CACHE_BYTES);
  if (!file || file.length <= DIGEST_BYTES) return undefined;
  const data = file.subarray(DIGEST_BYTES);
  return createHash('sha256').update(data).digest().equals(file.subarray(0, DIGEST_BYTES)) ? data : undefined;
}

/** Another process may read the cache while this one writes it: it sees the old file or the new, never half. */
function writeCache(path: string, data: Buffer): void {
  const partial = `${path}.${process.pid}${PARTIAL_SUFFIX}`;
  // 'wx' fails on a file already there: another process's (a pid namespace of its own), left alone.
  const fd = openSync(partial, 'wx', 0o600);
  let open = true;
  try {
    writeFileSync(fd, Buffer.concat([createHash('sha256').update(data).digest(), data]));
    closeSync(fd);
    open = false;
    renameSync(partial, path);
  } catch (error) {
    if (open) closeSync(fd);
    removeQuietly(partial);
    throw error;
  }
}

/**
 * Keeps the caches of the newest KEPT_VERSIONS keys (this one among them) and removes the rest,
 * and partial files their writers left when they died.
 */
function removeOldVersions(dir: string, key: string): void {
  const newest = new Map<string, number>();
  const files: Array<{ readonly name: string; readonly key: string }> = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name.endsWith(PARTIAL_SUFFIX)) {
      if (Date.now() - modifiedMs(path) > STALE_PARTIAL_MS) removeQuietly(path);
      continue;
    }
    if (!name.endsWith(CACHE_SUFFIX)) continue;
    const fileKey = name.slice(name.lastIndexOf('-') + 1, -CACHE_SUFFIX.length);
    files.push({ name, key: fileKey });
    newest.set(fileKey, Math.max(newest.get(fileKey) ?? 0, modifiedMs(path)));
  }
  const kept = new Set([key, ...[...newest].filter(([other]) => other !== key).sort((a, b) => b[1] - a[1]).slice(0, KEPT_VERSIONS - 1).map(([other]) => other)]);
  for (const file of files) if (!kept.has(file.key)) removeQuietly(join(dir, file.name));
}

function modifiedMs(path: string): number {
  try {
    return lstatSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // another process removed it first
  }
}
