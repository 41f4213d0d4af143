import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import * as vm from 'node:vm';

/**
 * Loads a CommonJS bundle with V8's code cache kept in a folder only this user can write.
 *
 * Node 20 compiles every module it loads from source on every start: about 25 ms of each
 * copilot-beam process before its first DHT packet, on the path from one person's command to
 * the other's code. V8 can instead start from the bytecode a previous run compiled (vm.Script's
 * cachedData, what Node 22's module.enableCompileCache does for modules). The cache is code this
 * process will run, so it lives only where no one else can write (a private folder of the user's
 * own, checked before use), and is named by a hash of the bundle's bytes and the Node that made
 * it: V8 checks its own version and flags, but not the source beyond its length.
 */

/** The environment variable that turns the cache off ("0" or "off"). */
export const COMPILE_CACHE_ENV = 'COPILOT_BEAM_COMPILE_CACHE';
/** A cache larger than this is not ours to trust (the CLI's is about 1.5 MB). */
const MOST_CACHE_BYTES = 64 * 1024 * 1024;
const CACHE_SUFFIX = '.v8cache';

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
   * (at exit), so that the functions the run needed are compiled; it never throws.
   */
  saveCache(): void;
}

/** Where the cache lives by the platform's conventions, or undefined when it is turned off. */
export function compileCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, home: string = homedir()): string | undefined {
  const setting = env[COMPILE_CACHE_ENV]?.trim().toLowerCase();
  if (setting === '0' || setting === 'off' || setting === 'false') return undefined;
  const base =
    platform === 'win32'
      ? env.LOCALAPPDATA
      : platform === 'darwin'
        ? join(home, 'Library', 'Caches')
        : env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)
          ? env.XDG_CACHE_HOME
          : join(home, '.cache');
  return base && isAbsolute(base) ? join(base, 'copilot-beam') : undefined;
}

/**
 * Runs a CommonJS module as Node's require would, starting from the cache when there is a good
 * one. The file holds the module already in Node's wrapper, `(function (exports, require,
 * module, __filename, __dirname) {...})`, and only ASCII (scripts/bundle.ts makes it so): it is
 * read as one string, the one V8 compiles, with no copy made on the way.
 */
export function loadWithCompileCache<T>(file: string, cache: CompileCache | undefined): LoadedBundle<T> {
  const source = readFileSync(file, 'latin1');
  const key = bundleKey(source);
  const cachePath = cache && usableFolder(cache.dir) ? join(cache.dir, `${cache.use}-${key}${CACHE_SUFFIX}`) : undefined;
  const cachedData = cachePath ? readCache(cachePath) : undefined;
  const script = new vm.Script(source, {
    filename: file,
    importModuleDynamically: dynamicImports(),
    ...(cachedData ? { cachedData } : {}),
  });
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
        writeAtomically(cachePath, script.createCachedData());
        removeOtherVersions(dirname(cachePath), key);
      } catch {
        // no cache: the next start compiles, as it would without one
      }
    },
  };
}

/**
 * What an import() in the bundle may load: Node's built-in modules, as it would in a module.
 * The bundle holds none of its own (scripts/bundle.ts checks); a library it holds might.
 */
function dynamicImports(): NonNullable<vm.ScriptOptions['importModuleDynamically']> {
  // vm.constants came with Node 20.12; before it, a callback, which can load what this module can.
  const constants = vm.constants as typeof vm.constants | undefined;
  return constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? (((specifier: string) => import(specifier)) as unknown as NonNullable<vm.ScriptOptions['importModuleDynamically']>);
}

/** The bundle's bytes and the Node that compiles them: another of either is another cache. */
function bundleKey(source: string): string {
  return createHash('sha256').update(source, 'latin1').update(`\0${process.version}\0${process.arch}`).digest('hex').slice(0, 32);
}

/**
 * Creates the folder private if it is missing, and accepts it only as a real folder of this
 * user's that no one else may write to or read: one someone else could write would let them
 * choose the code we run.
 */
function usableFolder(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stats = lstatSync(dir);
    if (!stats.isDirectory()) return false;
    if (process.platform === 'win32') return true;
    return stats.uid === process.getuid?.() && (stats.mode & 0o077) === 0;
  } catch {
    return false; // an unwritable or missing home: no cache, nothing else changes
  }
}

function readCache(path: string): Buffer | undefined {
  try {
    const stats = lstatSync(path);
    if (!stats.isFile() || stats.size > MOST_CACHE_BYTES) return undefined;
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Another process may read the cache while this one writes it: it sees the old file or the new, never half. */
function writeAtomically(path: string, data: Buffer): void {
  const partial = `${path}.${process.pid}.partial`;
  try {
    writeFileSync(partial, data, { mode: 0o600, flag: 'wx' });
    renameSync(partial, path);
  } catch (error) {
    try {
      unlinkSync(partial);
    } catch {
      // nothing was written
    }
    throw error;
  }
}

/** Caches of other bundles or other Nodes are never read again: each version leaves only its own. */
function removeOtherVersions(dir: string, key: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(CACHE_SUFFIX) || name.endsWith(`-${key}${CACHE_SUFFIX}`)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // another process removed it first
    }
  }
}
