import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * The CLI as one bundled build (dist/bundle): Node resolves and reads a few files instead of
 * hundreds (hyperswarm alone is dozens of small packages), which cut module loading before the
 * first DHT packet by about 70 ms per process. Commands still load their heavy parts on use: each
 * dynamic import becomes its own chunk. The library (dist/src) stays as tsc builds it.
 *
 * Native addons stay outside the bundle: they find their binaries relative to their own
 * packages. Bundled code then requires them from dist/bundle, that is from this package's own
 * node_modules, so each must be a direct dependency of ours (udx-native is one for that reason:
 * under pnpm's isolated layout only direct dependencies are visible from here). The worker
 * threads (secret scan, history rewrite, compression) are entries of their own, next to the chunks, because
 * the modules that start them name a path beside themselves.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const outdir = `${root}dist/bundle`;

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'dist/src/cli/main.js',
    'scan-worker': 'dist/src/session/secrets/scan-worker.js',
    'rewrite-worker': 'dist/src/session/transform/rewrite-worker.js',
    'compress-worker': 'dist/src/bundle/compress-worker.js',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  external: ['sodium-native', 'udx-native', 'require-addon', 'zstd-napi'],
  // CommonJS packages inside an ES module bundle still call require for Node's own modules.
  banner: { js: "import { createRequire as __beamCreateRequire } from 'node:module'; const require = __beamCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
