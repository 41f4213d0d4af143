import { build, type Metafile } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * The CLI as one bundled build (dist/bundle): Node resolves and reads a few files instead of
 * hundreds (hyperswarm alone is dozens of small packages), which cut module loading before the
 * first DHT packet by about 70 ms per process.
 *
 * The command line is one CommonJS file (cli.cjs, in Node's module wrapper), which
 * bin/copilot-beam runs through src/cli/launch.ts and compile-cache.ts: V8 can start a script
 * from a cache of its compiled code, not an ES module (Node 20 has no module compile cache), and
 * that takes about 20 ms off each start before its first DHT packet (BENCHMARKS, step 34). Its
 * dynamic imports become lazy requires, so commands still run their heavy modules only on use.
 * It holds no `import()`, its libraries' included (checked below): V8 does not keep a script's
 * import() support in its code cache, so every run from the cache would fail at one.
 *
 * Native addons stay outside the bundle: they find their binaries relative to their own
 * packages. Bundled code then requires them from dist/bundle, that is from this package's own
 * node_modules, so each must be a direct dependency of ours (udx-native is one for that reason:
 * under pnpm's isolated layout only direct dependencies are visible from here). The worker
 * threads (secret scan, history rewrite, compression) are ES module entries of their own, next to
 * cli.cjs, because the modules that start them name a path beside themselves.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const outdir = `${root}dist/bundle`;
const external = ['sodium-native', 'udx-native', 'require-addon', 'zstd-napi'];

await rm(outdir, { recursive: true, force: true });
const cli = await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/cli/main.js'],
  outfile: `${outdir}/cli.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  // The sources are ES modules: their import.meta.url becomes the bundle's own URL.
  define: { 'import.meta.url': '__beamModuleUrl' },
  // Wrapped as Node wraps a CommonJS module, in the file itself: the loader reads the script it
  // compiles in one piece (a wrapper added at run time made a second 2.6 MB string on each start).
  // "use strict" first: the sources are ES modules, strict throughout, and a directive counts
  // only at the top of the function.
  banner: { js: "(function (exports, require, module, __filename, __dirname) {'use strict';var __beamModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  footer: { js: '\n})' },
  // ASCII only, so that the loader may read it as latin1: one byte a character, no decoding.
  charset: 'ascii',
  // import() of what the bundle does not hold (Node's own modules) becomes a require as well.
  supported: { 'dynamic-import': false },
  metafile: true,
  logLevel: 'warning',
});
const workers = await build({
  absWorkingDir: root,
  entryPoints: {
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
  external,
  // CommonJS packages inside an ES module bundle still call require for Node's own modules.
  banner: { js: "import { createRequire as __beamCreateRequire } from 'node:module'; const require = __beamCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});

await checkCli(`${outdir}/cli.cjs`);
checkOneCopy(cli.metafile, '@secretlint/profiler');
checkOneCopy(workers.metafile, '@secretlint/profiler');

/** What the loader (src/cli/compile-cache.ts) relies on: ASCII, and no import(). */
async function checkCli(path: string): Promise<void> {
  const source = await readFile(path, 'latin1');
  const nonAscii = /[^\x00-\x7f]/.exec(source);
  if (nonAscii) throw new Error(`${path} is not ASCII (line ${lineOf(source, nonAscii.index)}), which the loader reads it as: write that character another way`);
  const dynamicImport = /\bimport\s*(\/\*.*?\*\/\s*)*\(/s.exec(source);
  if (dynamicImport) throw new Error(`${path} holds an import() (line ${lineOf(source, dynamicImport.index)}), which fails when V8 runs the script from its code cache`);
}

function lineOf(source: string, index: number): number {
  return source.slice(0, index).split('\n').length;
}

/**
 * secretlint's profiler is switched off on the instance its core uses (rules.ts): a second copy
 * in a bundle would be the one switched off while the core kept marking.
 */
function checkOneCopy(metafile: Metafile, pkg: string): void {
  const copies = new Set(Object.keys(metafile.inputs).filter((input) => input.includes(`node_modules/${pkg}/`)).map((input) => input.slice(0, input.indexOf(`node_modules/${pkg}/`))));
  if (copies.size > 1) throw new Error(`the bundle holds ${copies.size} copies of ${pkg}: ${[...copies].join(', ')}`);
}
