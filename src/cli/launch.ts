import { fileURLToPath } from 'node:url';
import { compileCacheDir, loadWithCompileCache } from './compile-cache.js';

/** What the CLI's bundle exports (dist/bundle/cli.cjs, built from main.ts). */
interface CliBundle {
  main(argv: string[]): Promise<number>;
}

/** Commands that compile functions the others do not: each keeps a cache of its own. */
const OWN_CACHE = new Set(['send', 'receive']);

/**
 * Runs the command line from its bundle (see compile-cache.ts): the entry bin/copilot-beam
 * calls, and the only module it loads before the bundle. The cache is written as the process
 * exits, when the command has compiled what it needed.
 */
export async function launch(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const bundle = fileURLToPath(new URL('../../bundle/cli.cjs', import.meta.url));
  const dir = compileCacheDir(env);
  const use = OWN_CACHE.has(argv[0] ?? '') ? argv[0]! : 'other';
  const loaded = loadWithCompileCache<CliBundle>(bundle, dir ? { dir, use } : undefined);
  process.once('exit', () => loaded.saveCache());
  return loaded.exports.main(argv);
}
