import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import createTestnet from 'hyperdht/testnet.js';
import { scanSessionFolder } from '../src/session/session-files.js';
import { scanForSecrets } from '../src/session/secrets/scan.js';
import { createSampleSession } from './sample-session.js';
import { receiverHomeFor, runBeam, type BeamRun } from './bench/beam-run.js';
import { MB, MiB, median, mebibytes, rate, seconds } from './bench/measure.js';
import { runRawSwarm, type RawRun } from './bench/raw-swarm-run.js';
import { canMeasureRss } from './bench/spawn-measured.js';
import { startupMs } from './bench/startup.js';
import { missingWormhole, runWormhole, startWormholeServices, type WormholeRun, type WormholeServices } from './bench/wormhole-run.js';

/**
 * `npm run bench` (not part of `npm test`): measures on this machine and rewrites the generated
 * part of docs/BENCHMARKS.md. Medians of BENCH_RUNS runs (default 3); loopback only, one DHT
 * testnet shared by copilot-beam and the raw swarm. A benchmark measures; it asserts nothing
 * except that every transfer it times succeeded.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_SIZES ?? '1,100,1024').split(',').map(Number); // MiB
const HISTORY_MARKER = '<!-- Everything below is kept by npm run bench: profiling notes, before and after. -->';

interface SizeResult {
  readonly label: string;
  readonly bytes: number;
  readonly beam: Summary<BeamRun>;
  readonly raw: Summary<RawRun> | undefined;
  readonly wormhole: Summary<WormholeRun> | undefined;
}

/** Per-field medians over the runs. */
type Summary<T> = { readonly [K in keyof T]: number };

function summarise<T extends object>(runs: readonly T[]): Summary<T> {
  const first = runs[0]!;
  const summary: Record<string, number> = {};
  for (const key of Object.keys(first)) {
    summary[key] = median(runs.map((run) => Number((run as Record<string, unknown>)[key] ?? Number.NaN)).filter((value) => !Number.isNaN(value)));
  }
  return summary as Summary<T>;
}

async function repeat<T>(runs: number, once: (run: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let run = 0; run < runs; run++) results.push(await once(run));
  return results;
}

function sizeLabel(mebibytesTarget: number): string {
  return mebibytesTarget >= 1024 ? `${mebibytesTarget / 1024} GiB` : `${mebibytesTarget} MiB`;
}

async function benchSize(root: string, target: number, bootstrap: string, wormhole: WormholeServices | undefined): Promise<SizeResult> {
  const label = sizeLabel(target);
  const total = target * MiB;
  const senderHome = join(root, label, 'sender', '.copilot');
  // A realistic mix: mostly event history, one incompressible rewind backup.
  const session = await createSampleSession({ copilotHome: senderHome, eventsBytes: Math.round((total * 7) / 8), binaryBytes: Math.round(total / 8) });
  const { files } = await scanSessionFolder(session.dir);
  const bytes = files.reduce((sum, file) => sum + file.size, 0);
  console.log(`\n${label}: ${(bytes / MB).toFixed(1)} MB in ${files.length} files`);

  const beams = await repeat(RUNS, async (run) => {
    const receiverHome = receiverHomeFor(root, label, run);
    const result = await runBeam(session.id, senderHome, receiverHome, bootstrap, root);
    await rm(join(receiverHome, '..'), { recursive: true, force: true });
    console.log(`  copilot-beam  run ${run + 1}: end to end ${seconds(result.endToEndMs)}, pairing ${seconds(result.pairingMs)}, transfer ${rate(result.bytes, result.transferMs)}, RSS ${mebibytes(result.senderRss)} / ${mebibytes(result.receiverRss)}, CPU ${seconds(result.senderCpuMs ?? Number.NaN)} / ${seconds(result.receiverCpuMs ?? Number.NaN)}`);
    return result;
  });
  const raws = await repeat(RUNS, async (run) => {
    const output = join(root, label, `raw-${run}.bin`);
    const result = await runRawSwarm(files.map((file) => join(session.dir, file.path)), output, bootstrap);
    await rm(output, { force: true });
    if (result.bytes !== bytes) throw new Error(`raw swarm moved ${result.bytes} of ${bytes} bytes`);
    console.log(`  raw swarm     run ${run + 1}: end to end ${seconds(result.endToEndMs)}, transfer ${rate(result.bytes, result.transferMs)}, RSS ${mebibytes(result.senderRss)} / ${mebibytes(result.receiverRss)}, CPU ${seconds(result.senderCpuMs ?? Number.NaN)} / ${seconds(result.receiverCpuMs ?? Number.NaN)}`);
    return result;
  });
  const wormholes = wormhole
    ? await repeat(RUNS, async (run) => {
        const work = join(root, label, `wormhole-${run}`);
        const result = await runWormhole(session.dir, work, wormhole);
        await rm(work, { recursive: true, force: true });
        console.log(`  magic-wormhole run ${run + 1}: end to end ${seconds(result.endToEndMs)}, pairing ${seconds(result.pairingMs)}, zip ${seconds(result.zipMs)}, RSS ${mebibytes(result.senderRss)} / ${mebibytes(result.receiverRss)}, CPU ${seconds(result.senderCpuMs ?? Number.NaN)} / ${seconds(result.receiverCpuMs ?? Number.NaN)}`);
        return result;
      })
    : undefined;
  await rm(join(root, label), { recursive: true, force: true });
  return { label, bytes, beam: summarise(beams), raw: summarise(raws), wormhole: wormholes && summarise(wormholes) };
}

async function benchSecretScan(root: string): Promise<{ bytes: number; mbPerSecond: number }> {
  const session = await createSampleSession({ copilotHome: join(root, 'scan'), eventsBytes: 200 * 1024 * 1024, binaryBytes: 1024 * 1024 });
  const token = ['ghp', '_', 'Zq8Tn3Lr5Vx1Bc7Hd2Jf6Kg9Mp4Ws0Ya3Ee1'].join('');
  await appendFile(join(session.dir, 'events.jsonl'), `${JSON.stringify({ type: 'tool.execution_complete', data: { result: { content: token } } })}\n`);
  const { files } = await scanSessionFolder(session.dir);
  let bytes = 0;
  const times = await repeat(RUNS, async () => {
    const start = performance.now();
    const { summary } = await scanForSecrets(session.dir, files);
    if (summary.found !== 1) throw new Error(`scan found ${summary.found} secrets, expected 1`);
    bytes = summary.bytesScanned;
    return performance.now() - start;
  });
  await rm(join(root, 'scan'), { recursive: true, force: true });
  return { bytes, mbPerSecond: bytes / MB / (median(times) / 1000) };
}

async function benchStartup(root: string): Promise<{ help: number; list: number }> {
  const home = join(root, 'startup', '.copilot');
  for (let i = 0; i < 3; i++) await createSampleSession({ copilotHome: home, eventsBytes: 64 * 1024 });
  const env = { ...process.env, COPILOT_HOME: home, NO_COLOR: '1' };
  const runs = Math.max(10, RUNS);
  return { help: startupMs(['--help'], env, runs), list: startupMs(['list'], env, runs) };
}

/** The property-based tests at full strength: 10,000 generated cases per property. */
function benchProperties(): { cases: number; seconds: number; passed: boolean } {
  const cases = 10_000;
  const start = performance.now();
  const result = spawnSync(process.execPath, ['--test', fileURLToPath(new URL('../test/properties.test.js', import.meta.url))], {
    env: { ...process.env, PROPERTY_RUNS: String(cases) },
    encoding: 'utf8',
  });
  return { cases, seconds: (performance.now() - start) / 1000, passed: result.status === 0 };
}

function verdict(value: number, limit: number, lowerIsBetter = true): string {
  if (!Number.isFinite(value)) return 'not measured';
  return (lowerIsBetter ? value <= limit : value >= limit) ? 'met' : '**missed**';
}

function x(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

function report(
  results: readonly SizeResult[],
  scan: { bytes: number; mbPerSecond: number },
  startup: { help: number; list: number },
  properties: { cases: number; seconds: number; passed: boolean },
  skipped: readonly string[],
): string[] {
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
  const find = (mebibytesTarget: number): SizeResult | undefined => results.find((result) => result.label === sizeLabel(mebibytesTarget));
  const hundred = find(100);
  const biggest = find(1024) ?? results.at(-1);
  const pairingRatio = Math.max(...results.map((r) => (r.wormhole ? r.beam.pairingMs / r.wormhole.pairingMs : Number.NaN)).filter(Number.isFinite));
  const transferRatios = results.filter((r) => r.bytes >= 50 * MiB && r.raw).map((r) => r.raw!.transferMs / r.beam.transferMs);
  const transferRatio = transferRatios.length ? Math.min(...transferRatios) : Number.NaN;
  const endToEndRatio = hundred?.wormhole ? hundred.beam.endToEndMs / hundred.wormhole.endToEndMs : Number.NaN;
  const peakRss = biggest ? Math.max(biggest.beam.senderRss, biggest.beam.receiverRss) : Number.NaN;
  const row = (r: SizeResult, tool: string, run: Summary<BeamRun> | Summary<RawRun> | Summary<WormholeRun> | undefined): string => {
    if (!run) return `| ${r.label} | ${tool} | skipped | | | |`;
    const pairing = 'pairingMs' in run ? seconds(run.pairingMs) : '-';
    return `| ${r.label} | ${tool} | ${seconds(run.endToEndMs)} | ${pairing} | ${rate(r.bytes, run.transferMs)} | ${mebibytes(run.senderRss)} / ${mebibytes(run.receiverRss)} |`;
  };
  return [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${machine}.`,
    `Medians of ${RUNS} runs. Loopback only: one hyperdht testnet (3 nodes on 127.0.0.1) for copilot-beam and the raw`,
    'swarm; magic-wormhole 0.12 with its own mailbox server and transit relay on 127.0.0.1.',
    ...(skipped.length ? ['', ...skipped.map((line) => `Skipped: ${line}.`)] : []),
    '',
    '## Targets (ratios from this run)',
    '',
    '| target | measured | verdict |',
    '| --- | --- | --- |',
    `| pairing at most 0.5x magic-wormhole's (worst size) | ${x(pairingRatio)} | ${verdict(pairingRatio, 0.5)} |`,
    `| 100 MiB end to end at most 1.0x magic-wormhole's | ${x(endToEndRatio)} | ${verdict(endToEndRatio, 1.0)} |`,
    `| transfer at least 0.8x the raw swarm's throughput (sizes >= 100 MiB, worst) | ${x(transferRatio)} | ${verdict(transferRatio, 0.8, false)} |`,
    `| peak RSS under 150 MiB per side for ${biggest?.label ?? 'the largest session'} | ${mebibytes(peakRss)} | ${verdict(peakRss, 150 * MiB)} |`,
    `| \`copilot-beam --help\` under 150 ms | ${startup.help.toFixed(0)} ms | ${verdict(startup.help, 150)} |`,
    '',
    '## Sessions side by side',
    '',
    'Each session is a generated `events.jsonl` (7/8 of the size, Copilot-shaped events) plus one incompressible',
    'rewind backup (1/8) and the small files a session has. *End to end*: first process started to both exited',
    '(copilot-beam: hash, secret scan, DHT announce, pairing, stream, verify, path rewrite, atomic install; magic-wormhole:',
    'zip, mailbox, transit, unzip). *Pairing*: code printed to both sides holding a confirmed key (includes starting',
    'the receiving process). *Transfer*: session bytes over the receiver\'s streaming time (copilot-beam: first byte to',
    'every file inflated, hashed, rewritten where needed and written, fsync excluded; raw swarm: first byte to last byte',
    'written; magic-wormhole: its `rx file`, of a',
    'deflated zip). *Peak RSS*: sender / receiver, from wait4.',
    '',
    '| session | tool | end to end | pairing | transfer | peak RSS |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.flatMap((r) => [row(r, 'copilot-beam', r.beam), row(r, 'raw Hyperswarm socket', r.raw), row(r, 'magic-wormhole 0.12', r.wormhole)]),
    '',
    ...(results.some((r) => r.wormhole)
      ? [
          'magic-wormhole phases (zip is built before its code is shown):',
          '',
          '| session | zip | unzip |',
          '| --- | --- | --- |',
          ...results.filter((r) => r.wormhole).map((r) => `| ${r.label} | ${seconds(r.wormhole!.zipMs)} | ${seconds(r.wormhole!.unzipMs)} |`),
          '',
        ]
      : []),
    '## Other measurements',
    '',
    '| measurement | result |',
    '| --- | --- |',
    `| \`copilot-beam --help\` (fresh process, median of ${Math.max(10, RUNS)}) | ${startup.help.toFixed(0)} ms |`,
    `| \`copilot-beam list\` with 3 sessions (fresh process, median of ${Math.max(10, RUNS)}) | ${startup.list.toFixed(0)} ms |`,
    `| secret scan (secretlint recommended preset) of ${(scan.bytes / MB).toFixed(0)} MB, events.jsonl first | ${scan.mbPerSecond.toFixed(1)} MB/s |`,
    `| property-based tests at ${properties.cases} cases per property | ${properties.passed ? 'all passed' : 'FAILED'} in ${properties.seconds.toFixed(1)} s |`,
    '',
  ];
}

async function keptHistory(path: URL): Promise<string> {
  const current = await readFile(path, 'utf8').catch(() => '');
  const at = current.indexOf(HISTORY_MARKER);
  return at === -1 ? `${HISTORY_MARKER}\n` : current.slice(at);
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'copilot-beam-bench-'));
  const skipped: string[] = [];
  if (!canMeasureRss()) skipped.push('peak RSS (needs python3 for wait4)');
  const missing = missingWormhole();
  if (missing) {
    skipped.push(`magic-wormhole comparison: ${missing} is not installed`);
    console.log(`skipping magic-wormhole: ${missing} is not installed`);
  }
  const testnet = await createTestnet(3, { host: '127.0.0.1' });
  const bootstrap = testnet.bootstrap.map((node) => `${node.host}:${node.port}`).join(',');
  const wormhole = missing ? undefined : await startWormholeServices(join(root, 'wormhole-services'));
  try {
    const startup = await benchStartup(root);
    console.log(`start-up: --help ${startup.help.toFixed(0)} ms, list ${startup.list.toFixed(0)} ms`);
    const results: SizeResult[] = [];
    for (const size of SIZES) results.push(await benchSize(root, size, bootstrap, wormhole));
    const scan = await benchSecretScan(root);
    console.log(`secret scan: ${(scan.bytes / MB).toFixed(0)} MB at ${scan.mbPerSecond.toFixed(1)} MB/s`);
    const properties = process.env.BENCH_SKIP_PROPERTIES ? { cases: 0, seconds: 0, passed: true } : benchProperties();
    console.log(`property tests: ${properties.cases} cases each, ${properties.passed ? 'passed' : 'FAILED'} in ${properties.seconds.toFixed(1)} s`);
    const target = new URL('../../docs/BENCHMARKS.md', import.meta.url);
    const lines = report(results, scan, startup, properties, skipped);
    await writeFile(target, `${lines.join('\n')}\n${await keptHistory(target)}`);
    console.log(`\nwrote ${fileURLToPath(target)}`);
  } finally {
    wormhole?.stop();
    await testnet.destroy();
    await rm(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
