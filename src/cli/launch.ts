import { fileURLToPath } from 'node:url';
import { loadWithCompileCache } from './compile-cache.js';
import { compileCacheDir } from './private-cache-folder.js';

/** What the CLI's bundle exports (dist/bundle/cli.cjs, built from main.ts). */
interface CliBundle {
  main(argv: string[]): Promise<number>;
}

/** Commands that compile functions the others do not: each keeps a cache of its own; the rest share one. */
const OWN_CACHE = new Set(['send', 'receive']);
/** Runs of send or receive that stop before the work (help, version) would leave a cache of almost nothing. */
const SHORT_RUN_FLAGS = new Set(['-h', '--help', '-V', '--version']);

/**
 * Runs the command line from its bundle (see compile-cache.ts): the entry bin/copilot-beam
 * calls, and the only module it loads before the bundle. The cache is written as the process
 * exits, and only after a run that did its work (exit code 0; for send and receive, not help),
 * since it is kept until the bundle or Node changes: a Ctrl-C or a mistyped code would leave one
 * that compiled little.
 */
export async function launch(argv: string[]): Promise<number> {
  const bundle = fileURLToPath(new URL('../../bundle/cli.cjs', import.meta.url));
  const dir = compileCacheDir(process.env);
  const use = OWN_CACHE.has(argv[0] ?? '') ? argv[0]! : 'other';
  const loaded = loadWithCompileCache<CliBundle>(bundle, dir ? { dir, use } : undefined);
  // The other commands share a cache, and help is what most of their runs are.
  const worthKeeping = use === 'other' || !argv.some((arg) => SHORT_RUN_FLAGS.has(arg));
  process.once('exit', (code) => {
    if (code === 0 && worthKeeping) loaded.saveCache();
  });
  return loaded.exports.main(argv);
}
