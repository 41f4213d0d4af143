import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import createTestnet from 'hyperdht/testnet.js';
import { MAX_LEVEL, MIN_LEVEL, WINDOW_LOG } from '../src/bundle/codec.js';
import { COMPRESSED_CHUNK_BYTES } from '../src/bundle/limits.js';
import { scanSessionFolder } from '../src/session/session-files.js';
import { scanForSecrets } from '../src/session/secrets/scan.js';
import { createSampleSession, SESSION_KINDS, type SessionKind } from './sample-session.js';
import { receiverHomeFor, runBeam, type BeamRun } from './bench/beam-run.js';
import { measureCompressibility, type Compressibility } from './bench/compressibility.js';
import { MB, MiB, median, mebibytes, rate, seconds } from './bench/measure.js';
import { RAW_IN_FLIGHT_BYTES, runRawSwarm, type RawRun } from './bench/raw-swarm-run.js';
import { shapedLinkUnavailable } from './bench/shaped-link.js';
import { shapedBeam, shapedWormhole, startShapedNetwork, type ShapedNetwork, type ShapedRun } from './bench/shaped-run.js';
import { canMeasureRss, stopMeasured } from './bench/spawn-measured.js';
import { nodeStartMs, startupMs } from './bench/startup.js';
import { missingWormhole, runWormhole, startWormholeServices, type WormholeRun, type WormholeServices } from './bench/wormhole-run.js';

/**
 * `npm run bench` (not part of `npm test`): measures on this machine and rewrites the generated
 * part of docs/BENCHMARKS.md against the goals of issue 16. Medians of BENCH_RUNS runs (default
 * 3), each tool at each size after BENCH_WARMUP untimed runs (default 1). Loopback: one DHT
 * testnet shared by copilot-beam and the raw swarm, magic-wormhole with its own services.
 * Shaped: two network namespaces joined by a 20 MB/s link (root only). A benchmark measures; it
 * asserts nothing except that every transfer it times succeeded.
 *
 *   BENCH_RUNS=3  BENCH_WARMUP=1 (untimed runs before them)  BENCH_SIZES=1,100,1024 (MiB)
 *   BENCH_KINDS=compressible,source,incompressible
 *   BENCH_SHAPED=0 skips the shaped link  BENCH_SHAPED_SIZES=1,100 (MiB)
 *   BENCH_RAW_IN_FLIGHT=<bytes> the raw swarm sender's write window  BENCH_SKIP_PROPERTIES=1
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP = warmupCount(process.env.BENCH_WARMUP ?? '1');
const SIZES = mebibyteList(process.env.BENCH_SIZES ?? '1,100,1024');
const KINDS = kindList(process.env.BENCH_KINDS);
const SHAPED = process.env.BENCH_SHAPED !== '0';
const SHAPED_SIZES = mebibyteList(process.env.BENCH_SHAPED_SIZES ?? '1,100');
const SHAPED_MEGABYTES_PER_SECOND = 20;
const RAW_IN_FLIGHT = Number(process.env.BENCH_RAW_IN_FLIGHT ?? RAW_IN_FLIGHT_BYTES);
/**
 * NODE_EXTRA_CA_CERTS, when this machine sets it (this one does, for its package registry), is
 * left out of every process the bench starts: Node 20 reads and parses that CA file at each start,
 * before any code of the tool runs (about 39 ms per process here), and no tool measured makes a
 * TLS connection. A machine without it does not pay that; the report gives Node's start both ways.
 */
const EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;
const HISTORY_MARKER = '<!-- Everything below is kept by npm run bench: profiling notes, before and after. -->';

/** The kinds magic-wormhole is the yardstick for; an incompressible session is held to the raw socket. */
const AGAINST_WORMHOLE: ReadonlySet<SessionKind> = new Set(['compressible', 'source']);

/** Issue 16's goals. */
const GOALS = {
  endToEndVsWormhole: 0.5,
  endToEndVsRaw: 1.0,
  pairingVsWormhole: 1.0,
  peakRss: 150 * MiB,
  peakRssAt: 1024,
  /** "Flat from 100 MiB up": each side's peak at most this much above its 100 MiB peak. */
  rssGrowth: 1.1,
  shapedWireVsWormhole: 1.0,
  shapedEndToEndVsWormhole: 1.0,
} as const;

function mebibyteList(text: string): number[] {
  return text.split(',').map(Number).filter((value) => value > 0);
}

function kindList(text: string | undefined): SessionKind[] {
  if (!text) return [...SESSION_KINDS];
  const kinds = text.split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !SESSION_KINDS.includes(kind as SessionKind));
  if (unknown.length > 0) throw new Error(`BENCH_KINDS: unknown kind ${unknown.join(', ')} (known: ${SESSION_KINDS.join(', ')})`);
  return kinds as SessionKind[];
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

/**
 * The timed runs, after `warmups` untimed ones (numbered from -1 down) that the medians leave out;
 * the first of those is kept for the report (the loopback table's *first run*). On this VM the
 * first run of a tool at a size was often 10-35% slower than the next, with more CPU, mostly on
 * the receiving side, for copilot-beam and the raw socket alike (docs/BENCHMARKS.md, part 6 of
 * the tuning history: the slow first run).
 */
async function repeat<T>(runs: number, once: (run: number) => Promise<T>, warmups = WARMUP): Promise<Runs<T>> {
  let first: T | undefined;
  for (let warmup = 1; warmup <= warmups; warmup++) {
    const result = await once(-warmup);
    first ??= result;
  }
  const timed: T[] = [];
  for (let run = 0; run < runs; run++) timed.push(await once(run));
  return { timed, first };
}

/** The runs that count, and the first (untimed) one: reported beside the medians, since a person's beam is always a first run. */
interface Runs<T> {
  readonly timed: readonly T[];
  readonly first: T | undefined;
}

/** The first run's end to end, when there was a warm-up. */
function firstEndToEnd(runs: Runs<{ readonly endToEndMs: number }> | undefined): number | undefined {
  return runs?.first?.endToEndMs;
}

function warmupCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 0) throw new Error(`BENCH_WARMUP must be a whole number of runs, 0 or more (it is "${text}")`);
  return count;
}

function sizeLabel(mebibytesTarget: number): string {
  return mebibytesTarget >= 1024 ? `${mebibytesTarget / 1024} GiB` : `${mebibytesTarget} MiB`;
}

interface SessionResult {
  readonly kind: SessionKind;
  readonly mebibytes: number;
  readonly label: string;
  readonly bytes: number;
  readonly fileCount: number;
  readonly compressibility: Compressibility;
  readonly beam: Summary<BeamRun>;
  readonly raw: Summary<RawRun>;
  readonly wormhole: Summary<WormholeRun> | undefined;
  /** End to end of each tool's untimed first run (undefined without a warm-up). */
  readonly firstRuns: { readonly beam: number | undefined; readonly raw: number | undefined; readonly wormhole: number | undefined };
}

interface ShapedResult {
  readonly kind: SessionKind;
  readonly mebibytes: number;
  readonly label: string;
  readonly bytes: number;
  readonly beam: Summary<ShapedRun>;
  readonly wormhole: Summary<ShapedRun> | undefined;
}

interface Sample {
  readonly id: string;
  readonly dir: string;
  readonly home: string;
  readonly bytes: number;
  readonly files: ReadonlyArray<{ path: string; size: number }>;
}

/**
 * What each kind is made of: compressible and source sessions are 7/8 history and one
 * incompressible rewind backup of 1/8 (the mix of earlier benches); an incompressible session is
 * a small history and its bulk in 8 MiB backups.
 */
function sessionShape(kind: SessionKind, total: number): { eventsBytes: number; binaryBytes: number } {
  if (kind === 'incompressible') {
    const eventsBytes = Math.min(256 * 1024, Math.round(total / 8));
    return { eventsBytes, binaryBytes: total - eventsBytes };
  }
  return { eventsBytes: Math.round((total * 7) / 8), binaryBytes: Math.round(total / 8) };
}

async function makeSample(folder: string, kind: SessionKind, target: number): Promise<Sample> {
  const home = join(folder, 'sender', '.copilot');
  const session = await createSampleSession({ copilotHome: home, kind, ...sessionShape(kind, target * MiB) });
  const { files } = await scanSessionFolder(session.dir);
  await flushToDisk(files.map((file) => join(session.dir, file.path)));
  return { ...session, home, files, bytes: files.reduce((sum, file) => sum + file.size, 0) };
}

/**
 * The kernel writes a new file back about 30 s after it was written: for a 1 GiB sample that
 * fell in the middle of whichever tool ran first, and cost it a second or more. Written back
 * now, every tool reads a sample that is only in the page cache.
 */
async function flushToDisk(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

function runLine(tool: string, run: number, fields: string): void {
  console.log(`  ${tool.padEnd(14)} ${run < 0 ? 'warm-up' : `run ${run + 1}`}: ${fields}`);
}

function cpu(senderMs: number | undefined, receiverMs: number | undefined): string {
  return `${seconds(senderMs ?? Number.NaN)} / ${seconds(receiverMs ?? Number.NaN)}`;
}

async function benchBeam(root: string, folder: string, sample: Sample, bootstrap: string): Promise<Runs<BeamRun>> {
  return repeat(RUNS, async (run) => {
    const receiverHome = receiverHomeFor(root, folder, run);
    const result = await runBeam(sample.id, sample.home, receiverHome, bootstrap, root);
    await rm(join(receiverHome, '..'), { recursive: true, force: true });
    runLine('copilot-beam', run, `end to end ${seconds(result.endToEndMs)}, pairing ${seconds(result.pairingMs)}, transfer ${rate(result.bytes, result.transferMs)}, RSS ${mebibytes(result.senderRss)} / ${mebibytes(result.receiverRss)}, CPU ${cpu(result.senderCpuMs, result.receiverCpuMs)}`);
    return result;
  });
}

async function benchRaw(folder: string, sample: Sample, bootstrap: string): Promise<Runs<RawRun>> {
  return repeat(RUNS, async (run) => {
    const output = join(folder, `raw-${run}.bin`);
    const result = await runRawSwarm(sample.files.map((file) => join(sample.dir, file.path)), output, bootstrap, RAW_IN_FLIGHT);
    await rm(output, { force: true });
    if (result.bytes !== sample.bytes) throw new Error(`raw swarm moved ${result.bytes} of ${sample.bytes} bytes`);
    runLine('raw swarm', run, `end to end ${seconds(result.endToEndMs)}, transfer ${rate(result.bytes, result.transferMs)}, RSS ${mebibytes(result.senderRss)} / ${mebibytes(result.receiverRss)}, CPU ${cpu(result.senderCpuMs, result.receiverCpuMs)}`);
    return result;
  });
}

async function benchWormhole(folder: string, sample: Sample, wormhole: WormholeServices): Promise<Runs<WormholeRun>> {
  return repeat(RUNS, async (run) => {
    const work = join(folder, `wormhole-${run}`);
    const result = await runWormhole(sample.dir, work, wormhole);
    await rm(work, { recursive: true, force: true });
    runLine('magic-wormhole', run, `end to end ${seconds(result.endToEndMs)}, pairing ${seconds(result.pairingMs)}, zip ${seconds(result.zipMs)}, RSS ${mebibytes(result.senderRss)} / ${mebibytes(result.receiverRss)}, CPU ${cpu(result.senderCpuMs, result.receiverCpuMs)}`);
    return result;
  });
}

/** One kind at one size on loopback: copilot-beam, the raw swarm, and magic-wormhole where it is the yardstick. */
async function benchSession(root: string, kind: SessionKind, target: number, bootstrap: string, wormhole: WormholeServices | undefined): Promise<SessionResult> {
  const label = sizeLabel(target);
  const folder = join(root, `${kind}-${target}`);
  const sample = await makeSample(folder, kind, target);
  const compressibility = await measureCompressibility(sample.dir, sample.files);
  console.log(
    `\n${kind}, ${label}: ${(sample.bytes / MB).toFixed(1)} MB in ${sample.files.length} files; events.jsonl ${ratioText(compressibility.eventsDeflate1)} at deflate 1; session ${ratioText(compressibility.sessionDeflate6)} at deflate 6, ${ratioText(compressibility.sessionZstdLowest)} to ${ratioText(compressibility.sessionZstdHighest)} by copilot-beam's codec`,
  );
  const beams = await benchBeam(root, `${kind}-${target}`, sample, bootstrap);
  const raws = await benchRaw(folder, sample, bootstrap);
  const wormholes = wormhole && AGAINST_WORMHOLE.has(kind) ? await benchWormhole(folder, sample, wormhole) : undefined;
  await rm(folder, { recursive: true, force: true });
  return {
    kind,
    mebibytes: target,
    label,
    bytes: sample.bytes,
    fileCount: sample.files.length,
    compressibility,
    beam: summarise(beams.timed),
    raw: summarise(raws.timed),
    wormhole: wormholes && summarise(wormholes.timed),
    firstRuns: { beam: firstEndToEnd(beams), raw: firstEndToEnd(raws), wormhole: firstEndToEnd(wormholes) },
  };
}

function wireLine(run: ShapedRun): string {
  return `end to end ${seconds(run.endToEndMs)}, pairing ${seconds(run.pairingMs)}, on the wire ${(run.senderToReceiver / MB).toFixed(2)} MB in ${run.senderFrames} frames / ${(run.receiverToSender / MB).toFixed(2)} MB in ${run.receiverFrames} frames`;
}

/** One kind at one size across the shaped link. */
async function benchShaped(root: string, network: ShapedNetwork, kind: SessionKind, target: number): Promise<ShapedResult> {
  const label = sizeLabel(target);
  const name = `shaped-${kind}-${target}`;
  const folder = join(root, name);
  const sample = await makeSample(folder, kind, target);
  console.log(`\nshaped ${SHAPED_MEGABYTES_PER_SECOND} MB/s, ${kind}, ${label}: ${(sample.bytes / MB).toFixed(1)} MB`);
  const beams = await repeat(RUNS, async (run) => {
    const receiverHome = receiverHomeFor(root, name, run);
    const result = await shapedBeam(network, sample.id, sample.home, receiverHome, root);
    await rm(join(receiverHome, '..'), { recursive: true, force: true });
    runLine('copilot-beam', run, wireLine(result));
    return result;
  });
  const wormholes = network.wormholeArgs
    ? await repeat(RUNS, async (run) => {
        const work = join(folder, `wormhole-${run}`);
        const result = await shapedWormhole(network, sample.dir, work);
        await rm(work, { recursive: true, force: true });
        runLine('magic-wormhole', run, wireLine(result));
        return result;
      })
    : undefined;
  await rm(folder, { recursive: true, force: true });
  return { kind, mebibytes: target, label, bytes: sample.bytes, beam: summarise(beams.timed), wormhole: wormholes && summarise(wormholes.timed) };
}

/** The shaped runs, or why there are none (a "Skipped:" line in the report). */
async function benchShapedAll(root: string, withWormhole: boolean): Promise<{ results: ShapedResult[]; skipped?: string; link?: string }> {
  const kinds = KINDS.filter((kind) => AGAINST_WORMHOLE.has(kind));
  if (!SHAPED) return { results: [], skipped: 'the shaped link (BENCH_SHAPED=0)' };
  if (kinds.length === 0 || SHAPED_SIZES.length === 0) return { results: [], skipped: 'the shaped link (no compressible or source kind, or no BENCH_SHAPED_SIZES)' };
  const unavailable = shapedLinkUnavailable();
  if (unavailable) return { results: [], skipped: `the shaped link: ${unavailable}` };
  let network: ShapedNetwork;
  try {
    network = await startShapedNetwork(join(root, 'shaped-services'), SHAPED_MEGABYTES_PER_SECOND, withWormhole);
  } catch (error) {
    return { results: [], skipped: `the shaped link: ${error instanceof Error ? error.message : String(error)}` };
  }
  undoOnInterrupt.add(network.stop);
  try {
    const link = network.link.describe();
    console.log(`\nshaped link: ${link}`);
    const results: ShapedResult[] = [];
    for (const kind of kinds) for (const size of SHAPED_SIZES) results.push(await benchShaped(root, network, kind, size));
    return { results, link };
  } finally {
    undoOnInterrupt.delete(network.stop);
    await network.stop();
  }
}

async function benchSecretScan(root: string): Promise<{ bytes: number; mbPerSecond: number }> {
  const session = await createSampleSession({ copilotHome: join(root, 'scan'), eventsBytes: 200 * 1024 * 1024, binaryBytes: 1024 * 1024 });
  const token = ['ghp', '_', 'Zq8Tn3Lr5Vx1Bc7Hd2Jf6Kg9Mp4Ws0Ya3Ee1'].join('');
  await appendFile(join(session.dir, 'events.jsonl'), `${JSON.stringify({ type: 'tool.execution_complete', data: { result: { content: token } } })}\n`);
  const { files } = await scanSessionFolder(session.dir);
  let bytes = 0;
  const { timed: times } = await repeat(RUNS, async () => {
    const start = performance.now();
    const { summary } = await scanForSecrets(session.dir, files);
    if (summary.found !== 1) throw new Error(`scan found ${summary.found} secrets, expected 1`);
    bytes = summary.bytesScanned;
    return performance.now() - start;
  }, 0); // no warm-up: comparable with the scan rates of earlier reports
  await rm(join(root, 'scan'), { recursive: true, force: true });
  return { bytes, mbPerSecond: bytes / MB / (median(times) / 1000) };
}

interface Startup {
  readonly help: number;
  readonly list: number;
  /** `node -e 0` as the bench runs it, and with this machine's NODE_EXTRA_CA_CERTS (when it sets one). */
  readonly node: number;
  readonly nodeWithExtraCaCerts?: number;
}

async function benchStartup(root: string): Promise<Startup> {
  const home = join(root, 'startup', '.copilot');
  for (let i = 0; i < 3; i++) await createSampleSession({ copilotHome: home, eventsBytes: 64 * 1024 });
  const env = { ...process.env, COPILOT_HOME: home, NO_COLOR: '1' };
  const runs = Math.max(10, RUNS);
  return {
    help: startupMs(['--help'], env, runs),
    list: startupMs(['list'], env, runs),
    node: nodeStartMs(process.env, runs),
    ...(EXTRA_CA_CERTS ? { nodeWithExtraCaCerts: nodeStartMs({ ...process.env, NODE_EXTRA_CA_CERTS: EXTRA_CA_CERTS }, runs) } : {}),
  };
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

function x(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

/** One cell of the targets table: what was measured and whether it meets the goal. */
interface Cell {
  readonly text: string;
  readonly ok: boolean;
}

function ratioCell(ours: number, theirs: number, limit: number): Cell | undefined {
  const value = ours / theirs;
  return Number.isFinite(value) ? { text: x(value), ok: value <= limit } : undefined;
}

function verdict(cells: ReadonlyArray<readonly [string, Cell | undefined]>): string {
  const measured = cells.filter((entry): entry is readonly [string, Cell] => entry[1] !== undefined);
  if (measured.length === 0) return 'not measured';
  const missed = measured.filter(([, cell]) => !cell.ok).map(([label]) => label);
  return missed.length === 0 ? 'met' : `**missed** (${missed.join(', ')})`;
}

interface Measured {
  readonly results: readonly SessionResult[];
  readonly shaped: readonly ShapedResult[];
}

/** Each size's column of one target row, blank where the goal does not apply or was not measured. */
function targetRow(goal: string, kind: SessionKind, columns: readonly number[], cellAt: (mebibytesTarget: number) => Cell | undefined): string {
  const cells = columns.map((column) => [sizeLabel(column), cellAt(column)] as const);
  return `| ${goal} | ${kind} | ${cells.map(([, cell]) => cell?.text ?? '').join(' | ')} | ${verdict(cells)} |`;
}

function rssCell(run: Summary<BeamRun> | undefined): Cell | undefined {
  if (!run || !Number.isFinite(run.senderRss) || !Number.isFinite(run.receiverRss)) return undefined;
  return { text: `${mebibytes(run.senderRss)} / ${mebibytes(run.receiverRss)}`, ok: Math.max(run.senderRss, run.receiverRss) < GOALS.peakRss };
}

function growthCell(run: Summary<BeamRun> | undefined, base: Summary<BeamRun> | undefined): Cell | undefined {
  if (!run || !base) return undefined;
  const sender = run.senderRss / base.senderRss;
  const receiver = run.receiverRss / base.receiverRss;
  if (!Number.isFinite(sender) || !Number.isFinite(receiver)) return undefined;
  return { text: `${x(sender)} / ${x(receiver)}`, ok: Math.max(sender, receiver) <= GOALS.rssGrowth };
}

function meanFrame(bytes: number, frames: number): string {
  return frames > 0 ? `${Math.round(bytes / frames)} B` : 'n/a';
}

function wireTotal(run: Summary<ShapedRun>): number {
  return run.senderToReceiver + run.receiverToSender;
}

function targetsTable({ results, shaped }: Measured): string[] {
  const columns = [...new Set([...results.map((r) => r.mebibytes), ...shaped.map((r) => r.mebibytes)])].sort((a, b) => a - b);
  const at = (kind: SessionKind, size: number): SessionResult | undefined => results.find((r) => r.kind === kind && r.mebibytes === size);
  const shapedAt = (kind: SessionKind, size: number): ShapedResult | undefined => shaped.find((r) => r.kind === kind && r.mebibytes === size);
  const kinds = KINDS;
  const wormholeKinds = kinds.filter((kind) => AGAINST_WORMHOLE.has(kind));
  const rate = `${SHAPED_MEGABYTES_PER_SECOND} MB/s`;
  return [
    '## Targets (issue 16; ratios from this run)',
    '',
    'Ratios are copilot-beam\'s over the other tool\'s, each a median of the runs; a verdict is met when every measured size',
    'meets it. Peak RSS is sender / receiver.',
    '',
    `| target | kind | ${columns.map(sizeLabel).join(' | ')} | verdict |`,
    `| --- | --- | ${columns.map(() => '---').join(' | ')} | --- |`,
    ...wormholeKinds.map((kind) =>
      targetRow(`end to end at most ${GOALS.endToEndVsWormhole}x magic-wormhole's`, kind, columns, (size) => {
        const r = at(kind, size);
        return r?.wormhole && ratioCell(r.beam.endToEndMs, r.wormhole.endToEndMs, GOALS.endToEndVsWormhole);
      }),
    ),
    ...kinds
      .filter((kind) => !AGAINST_WORMHOLE.has(kind))
      .map((kind) =>
        targetRow(`end to end at most ${GOALS.endToEndVsRaw.toFixed(1)}x the raw Hyperswarm socket's`, kind, columns, (size) => {
          const r = at(kind, size);
          return r && ratioCell(r.beam.endToEndMs, r.raw.endToEndMs, GOALS.endToEndVsRaw);
        }),
      ),
    ...wormholeKinds.map((kind) =>
      targetRow(`pairing at most ${GOALS.pairingVsWormhole.toFixed(1)}x magic-wormhole's`, kind, columns, (size) => {
        const r = at(kind, size);
        return r?.wormhole && ratioCell(r.beam.pairingMs, r.wormhole.pairingMs, GOALS.pairingVsWormhole);
      }),
    ),
    ...kinds.map((kind) =>
      targetRow(`peak RSS under ${mebibytes(GOALS.peakRss)} per side at ${sizeLabel(GOALS.peakRssAt)}`, kind, columns, (size) =>
        size === GOALS.peakRssAt ? rssCell(at(kind, size)?.beam) : undefined,
      ),
    ),
    ...kinds.map((kind) =>
      targetRow(`peak RSS flat from 100 MiB up (at most ${GOALS.rssGrowth}x the 100 MiB peak)`, kind, columns, (size) =>
        size > 100 ? growthCell(at(kind, size)?.beam, at(kind, 100)?.beam) : undefined,
      ),
    ),
    ...wormholeKinds.map((kind) =>
      targetRow(`at ${rate}: bytes on the wire at most ${GOALS.shapedWireVsWormhole.toFixed(1)}x magic-wormhole's`, kind, columns, (size) => {
        const r = shapedAt(kind, size);
        return r?.wormhole && ratioCell(wireTotal(r.beam), wireTotal(r.wormhole), GOALS.shapedWireVsWormhole);
      }),
    ),
    ...wormholeKinds.map((kind) =>
      targetRow(`at ${rate}: end to end at most ${GOALS.shapedEndToEndVsWormhole.toFixed(1)}x magic-wormhole's`, kind, columns, (size) => {
        const r = shapedAt(kind, size);
        return r?.wormhole && ratioCell(r.beam.endToEndMs, r.wormhole.endToEndMs, GOALS.shapedEndToEndVsWormhole);
      }),
    ),
    '',
  ];
}

function ratioText(ratio: number): string {
  return `${ratio.toFixed(2)}:1`;
}

function compositionTable(results: readonly SessionResult[]): string[] {
  return [
    'How each session compresses, from the first 16 MiB of each file: events.jsonl by raw deflate level 1 on 256 KiB',
    'blocks (the measure issue 16 describes the kinds by); the whole session by deflate level 6 as one stream per file',
    `(magic-wormhole's zip), and by copilot-beam's own codec (zstd, ${mebibytes(2 ** WINDOW_LOG)} window, flushed ${COMPRESSED_CHUNK_BYTES / 1024} KiB blocks) at the`,
    `lowest and the highest level its sender picks from (${MIN_LEVEL} and ${MAX_LEVEL}).`,
    '',
    `| kind | session | files | events.jsonl, deflate 1 | session, deflate 6 | session, zstd ${MIN_LEVEL} | session, zstd ${MAX_LEVEL} |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => {
      const c = r.compressibility;
      return `| ${r.kind} | ${r.label} | ${r.fileCount} | ${ratioText(c.eventsDeflate1)} | ${ratioText(c.sessionDeflate6)} | ${ratioText(c.sessionZstdLowest)} | ${ratioText(c.sessionZstdHighest)} |`;
    }),
    '',
  ];
}

function sessionsTable(results: readonly SessionResult[]): string[] {
  const row = (r: SessionResult, tool: string, run: Summary<BeamRun> | Summary<RawRun> | Summary<WormholeRun> | undefined, first: number | undefined): string[] => {
    if (!run) return [];
    const pairing = 'pairingMs' in run ? seconds(run.pairingMs) : '-';
    const firstRun = first === undefined ? '-' : seconds(first);
    return [`| ${r.kind} | ${r.label} | ${tool} | ${seconds(run.endToEndMs)} | ${firstRun} | ${pairing} | ${rate(r.bytes, run.transferMs)} | ${mebibytes(run.senderRss)} / ${mebibytes(run.receiverRss)} | ${cpu(run.senderCpuMs, run.receiverCpuMs)} |`];
  };
  return [
    '| kind | session | tool | end to end | first run | pairing | transfer | peak RSS | CPU |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.flatMap((r) => [
      ...row(r, 'copilot-beam', r.beam, r.firstRuns.beam),
      ...row(r, 'raw Hyperswarm socket', r.raw, r.firstRuns.raw),
      ...row(r, 'magic-wormhole 0.12', r.wormhole, r.firstRuns.wormhole),
    ]),
    '',
  ];
}

function wormholePhases(results: readonly SessionResult[]): string[] {
  const measured = results.filter((r) => r.wormhole);
  if (measured.length === 0) return [];
  return [
    'magic-wormhole phases (zip is built before its code is shown):',
    '',
    '| kind | session | zip | unzip |',
    '| --- | --- | --- | --- |',
    ...measured.map((r) => `| ${r.kind} | ${r.label} | ${seconds(r.wormhole!.zipMs)} | ${seconds(r.wormhole!.unzipMs)} |`),
    '',
  ];
}

function shapedSection(shaped: readonly ShapedResult[], link: string | undefined): string[] {
  if (shaped.length === 0) return [];
  const row = (r: ShapedResult, tool: string, run: Summary<ShapedRun> | undefined): string[] =>
    run
      ? [
          `| ${r.kind} | ${r.label} | ${tool} | ${seconds(run.endToEndMs)} | ${seconds(run.pairingMs)} | ${(run.senderToReceiver / MB).toFixed(2)} MB | ${(run.receiverToSender / MB).toFixed(2)} MB | ${(wireTotal(run) / r.bytes).toFixed(3)} | ${meanFrame(run.senderToReceiver, run.senderFrames)} / ${meanFrame(run.receiverToSender, run.receiverFrames)} | ${mebibytes(run.senderRss)} / ${mebibytes(run.receiverRss)} |`,
        ]
      : [];
  return [
    `## A ${SHAPED_MEGABYTES_PER_SECOND} MB/s link`,
    '',
    'Sender and receiver in two network namespaces joined by a veth pair, each end\'s egress shaped by a token bucket, no',
    `delay added; one segment per frame (gso_max_segs 1), as on a real wire. tc: \`${link ?? 'tbf'}\`.`,
    'Three DHT nodes (as `copilot-beam dht` runs them), the mailbox server and the transit relay run in the sender\'s',
    'namespace, so what the receiver says to them crosses the link. *On the wire*: Ethernet frames each end sent during the',
    'run (its veth tx_bytes counter, read before and after), DHT and mailbox traffic included. *Wire / session*: both',
    'directions over the session\'s bytes. *Mean frame*: bytes over frames, each way (headers are a larger share of small',
    'frames; acknowledgements are most of the way back).',
    '',
    '| kind | session | tool | end to end | pairing | sender to receiver | receiver to sender | wire / session | mean frame | peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...shaped.flatMap((r) => [...row(r, 'copilot-beam', r.beam), ...row(r, 'magic-wormhole 0.12', r.wormhole)]),
    '',
  ];
}

/**
 * The raw swarm's write window in words. 1 MiB was measured against draining after every write
 * on this 2-core machine (issue 16, 1 GiB incompressible, 7 runs each, interleaved): median 13.7
 * against 19.2 s end to end; at 100 MiB the two were level (2.70 against 2.67 s, 14 runs each).
 */
function rawWindowText(bytes: number): string {
  if (bytes <= 0) return 'waits for `drain` whenever a 64 KiB write finds the socket full (BENCH_RAW_IN_FLIGHT=0)';
  return `keeps writing until ${mebibytes(bytes)} is queued past the socket's 16 KiB high-water mark, then waits for \`drain\` (as copilot-beam does; faster than waiting at every full buffer, which emptied the pipe between writes)`;
}

function report(
  measured: Measured,
  scan: { bytes: number; mbPerSecond: number },
  startup: Startup,
  properties: { cases: number; seconds: number; passed: boolean } | undefined,
  skipped: readonly string[],
  link: string | undefined,
): string[] {
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
  return [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${machine}.`,
    `${RUNS === 1 ? 'One run of each' : `Medians of ${RUNS} runs`}${WARMUP > 0 ? `, after ${WARMUP === 1 ? 'one untimed warm-up run' : `${WARMUP} untimed warm-up runs`} of each tool at each size` : ''}. Loopback: one hyperdht testnet (3 nodes on 127.0.0.1) for copilot-beam and the raw swarm;`,
    'magic-wormhole 0.12 with its own mailbox server and transit relay on 127.0.0.1. Shaped: see below.',
    ...(EXTRA_CA_CERTS
      ? ['Every process runs without NODE_EXTRA_CA_CERTS, which this machine sets: Node reads that file at each start (see', 'Other measurements for what it costs), and no tool measured makes a TLS connection.']
      : []),
    ...(skipped.length ? ['', ...skipped.map((line) => `Skipped: ${line}.`)] : []),
    '',
    ...targetsTable(measured),
    '## Sessions side by side (loopback)',
    '',
    'Three kinds of generated session. *compressible*: `events.jsonl` (7/8 of the size) of Copilot-shaped events whose tool',
    'output repeats, plus one incompressible rewind backup (1/8) and the small files a session has. *source*: the same mix,',
    'but the tool calls view and edit source-like files with varied, pseudo-random identifiers. *incompressible*: a small',
    '`events.jsonl` (at most 256 KiB); the bulk is rewind backups of pseudo-random bytes, 8 MiB each. magic-wormhole is',
    'the yardstick for the first two; an incompressible session is held to the raw Hyperswarm socket.',
    '',
    ...compositionTable(measured.results),
    '*End to end*: first process started to both exited (copilot-beam: hash, secret scan, DHT announce, pairing, stream,',
    'verify, path rewrite, atomic install; magic-wormhole: zip, mailbox, transit, unzip). *Pairing*: code printed to both',
    'sides holding a confirmed key (includes starting the receiving process). *Transfer*: session bytes over the receiver\'s',
    'streaming time (copilot-beam: first byte to every file decompressed, hashed, rewritten where needed and written, fsync',
    'excluded; raw swarm: first byte to last byte written; magic-wormhole: its `rx file`, of a deflated zip). *Peak RSS*',
    'and *CPU* (user + system): sender / receiver, from wait4. *First run*: end to end of the untimed warm-up run, each',
    'tool\'s first at that size, left out of the medians (on this VM a first run was often much slower, for copilot-beam',
    'and the raw socket alike; see the tuning history, part 6).',
    'The raw swarm moves the same files as one byte stream over',
    `the same Hyperswarm setup. Its sender ${rawWindowText(RAW_IN_FLIGHT)}.`,
    '',
    ...sessionsTable(measured.results),
    ...wormholePhases(measured.results),
    ...shapedSection(measured.shaped, link),
    '## Other measurements',
    '',
    '| measurement | result |',
    '| --- | --- |',
    `| \`copilot-beam --help\` (fresh process, median of ${Math.max(10, RUNS)}) | ${startup.help.toFixed(0)} ms |`,
    `| Node's own start (\`node -e 0\`, median of ${Math.max(10, RUNS)})${startup.nodeWithExtraCaCerts === undefined ? '' : ', as the bench runs it / with this machine\'s NODE_EXTRA_CA_CERTS'} | ${startup.node.toFixed(0)} ms${startup.nodeWithExtraCaCerts === undefined ? '' : ` / ${startup.nodeWithExtraCaCerts.toFixed(0)} ms`} |`,
    `| \`copilot-beam list\` with 3 sessions (fresh process, median of ${Math.max(10, RUNS)}) | ${startup.list.toFixed(0)} ms |`,
    `| secret scan (secretlint recommended preset) of ${(scan.bytes / MB).toFixed(0)} MB, events.jsonl first | ${scan.mbPerSecond.toFixed(1)} MB/s |`,
    ...(properties ? [`| property-based tests at ${properties.cases} cases per property | ${properties.passed ? 'all passed' : 'FAILED'} in ${properties.seconds.toFixed(1)} s |`] : []),
    '',
  ];
}

async function keptHistory(path: URL): Promise<string> {
  const current = await readFile(path, 'utf8').catch(() => '');
  const at = current.indexOf(HISTORY_MARKER);
  return at === -1 ? `${HISTORY_MARKER}\n` : current.slice(at);
}

async function benchLoopback(root: string, skipped: string[]): Promise<SessionResult[]> {
  const missing = missingWormhole();
  if (missing) {
    skipped.push(`magic-wormhole comparison: ${missing} is not installed`);
    console.log(`skipping magic-wormhole: ${missing} is not installed`);
  }
  const testnet = await createTestnet(3, { host: '127.0.0.1' });
  const bootstrap = testnet.bootstrap.map((node) => `${node.host}:${node.port}`).join(',');
  const wormhole = missing ? undefined : await startWormholeServices(join(root, 'wormhole-services'));
  const stopWormhole = (): void => wormhole?.stop();
  undoOnInterrupt.add(stopWormhole);
  try {
    const results: SessionResult[] = [];
    for (const size of SIZES) for (const kind of KINDS) results.push(await benchSession(root, kind, size, bootstrap, wormhole));
    return results;
  } finally {
    undoOnInterrupt.delete(stopWormhole);
    wormhole?.stop();
    await testnet.destroy();
  }
}

/** What an interrupted bench must still undo (namespaces outlive us; the temporary folder too). */
const undoOnInterrupt = new Set<() => Promise<void> | void>();
let interrupted = false;

function undoWhenInterrupted(): void {
  const stop = async (): Promise<void> => {
    interrupted = true;
    stopMeasured();
    for (const undo of [...undoOnInterrupt].reverse()) await undo();
    process.exit(130);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'copilot-beam-bench-'));
  undoOnInterrupt.add(() => rm(root, { recursive: true, force: true }));
  undoWhenInterrupted();
  const skipped: string[] = [];
  if (!canMeasureRss()) skipped.push('peak RSS (needs python3 for wait4)');
  try {
    const startup = await benchStartup(root);
    console.log(`start-up: --help ${startup.help.toFixed(0)} ms, list ${startup.list.toFixed(0)} ms, node -e 0 ${startup.node.toFixed(0)} ms${startup.nodeWithExtraCaCerts === undefined ? '' : ` (${startup.nodeWithExtraCaCerts.toFixed(0)} ms with NODE_EXTRA_CA_CERTS)`}`);
    const results = await benchLoopback(root, skipped);
    const shaped = await benchShapedAll(root, !missingWormhole());
    if (shaped.skipped) {
      skipped.push(shaped.skipped);
      console.log(`Skipped: ${shaped.skipped}`);
    }
    const scan = await benchSecretScan(root);
    console.log(`secret scan: ${(scan.bytes / MB).toFixed(0)} MB at ${scan.mbPerSecond.toFixed(1)} MB/s`);
    const properties = process.env.BENCH_SKIP_PROPERTIES ? undefined : benchProperties();
    if (properties) console.log(`property tests: ${properties.cases} cases each, ${properties.passed ? 'passed' : 'FAILED'} in ${properties.seconds.toFixed(1)} s`);
    else skipped.push('the property-based tests at 10,000 cases (BENCH_SKIP_PROPERTIES)');
    const target = new URL('../../docs/BENCHMARKS.md', import.meta.url);
    const lines = report({ results, shaped: shaped.results }, scan, startup, properties, skipped, shaped.link);
    await writeFile(target, `${lines.join('\n')}\n${await keptHistory(target)}`);
    console.log(`\nwrote ${fileURLToPath(target)}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (interrupted) return; // the runs we killed fail; the interrupt handler exits once it has cleaned up
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
