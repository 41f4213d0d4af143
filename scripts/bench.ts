import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import createTestnet from 'hyperdht/testnet.js';
import { scanFolder } from '../src/bundle/pack.js';
import { scanForSecrets } from '../src/session/secrets/scan.js';
import { createSampleSession } from './sample-session.js';
import { spawnBeam } from './spawn-beam.js';

/**
 * `npm run bench` (not part of `npm test`): measures on this machine and rewrites
 * docs/BENCHMARKS.md. Medians of several runs; a benchmark measures, it asserts nothing.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MB = 1e6;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function benchSecretScan(root: string): Promise<{ bytes: number; mbPerSecond: number }> {
  const session = await createSampleSession({ copilotHome: join(root, 'scan'), eventsBytes: 200 * 1024 * 1024, binaryBytes: 1024 * 1024 });
  const token = ['ghp', '_', 'Zq8Tn3Lr5Vx1Bc7Hd2Jf6Kg9Mp4Ws0Ya3Ee1'].join('');
  await appendFile(join(session.dir, 'events.jsonl'), `${JSON.stringify({ type: 'tool.execution_complete', data: { result: { content: token } } })}\n`);
  const { files } = await scanFolder(session.dir);
  let bytes = 0;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    times.push(
      await timed(async () => {
        const { summary } = await scanForSecrets(session.dir, files);
        if (summary.found !== 1) throw new Error(`scan found ${summary.found} secrets, expected 1`);
        bytes = summary.bytesScanned;
      }),
    );
  }
  return { bytes, mbPerSecond: bytes / MB / (median(times) / 1000) };
}

async function benchBeam(root: string, eventsBytes: number): Promise<{ bytes: number; seconds: number }> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' });
  const bootstrap = testnet.bootstrap.map((node) => `${node.host}:${node.port}`).join(',');
  try {
    const laptop = join(root, `beam-${eventsBytes}`, 'laptop');
    const session = await createSampleSession({ copilotHome: laptop, eventsBytes, binaryBytes: 8 * 1024 * 1024 });
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RUNS; i++) {
      const codespace = join(root, `beam-${eventsBytes}`, `codespace-${i}`);
      const env = (home: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: root, COPILOT_HOME: home, COPILOT_BEAM_BOOTSTRAP: bootstrap });
      times.push(
        await timed(async () => {
          let receiverDone: Promise<number> = Promise.resolve(1);
          const sender = spawnBeam(['send', session.id, '--yes', '--json'], env(laptop), (stream, line) => {
            const event = stream === 'stdout' ? (JSON.parse(line) as { event: string; code?: string; bytes?: number }) : undefined;
            if (event?.event === 'code') receiverDone = spawnBeam(['receive', event.code!, '--yes', '--json'], env(codespace)).exited;
            if (event?.event === 'done') bytes = event.bytes ?? 0;
          });
          const status = await sender.exited;
          if (status !== 0 || (await receiverDone) !== 0) throw new Error(`beam failed: ${sender.stdout}`);
        }),
      );
    }
    return { bytes, seconds: median(times) / 1000 };
  } finally {
    await testnet.destroy();
  }
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

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'copilot-beam-bench-'));
  try {
    const properties = benchProperties();
    console.log(`property tests: ${properties.cases} cases each, ${properties.passed ? 'passed' : 'FAILED'} in ${properties.seconds.toFixed(1)} s`);
    if (!properties.passed) throw new Error('property tests failed at full strength');
    const scan = await benchSecretScan(root);
    console.log(`secret scan: ${(scan.bytes / MB).toFixed(0)} MB at ${scan.mbPerSecond.toFixed(1)} MB/s`);
    const beams: Array<[string, { bytes: number; seconds: number }]> = [];
    for (const [label, size] of [['~10 MB', 2 * 1024 * 1024], ['~110 MB', 100 * 1024 * 1024]] as const) {
      const result = await benchBeam(root, size);
      beams.push([label, result]);
      console.log(`beam ${label}: ${(result.bytes / MB).toFixed(1)} MB in ${result.seconds.toFixed(2)} s`);
    }
    const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
    const table = [
      '# Benchmarks',
      '',
      `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}; machine: ${machine}.`,
      `Medians of ${RUNS} runs, loopback only (DHT testnet). Issue 6 extends this with pairing, memory,`,
      'start-up and side-by-side comparisons.',
      '',
      '| measurement | size | result |',
      '| --- | --- | --- |',
      `| secret scan (secretlint recommended preset), events.jsonl first | ${(scan.bytes / MB).toFixed(0)} MB | ${scan.mbPerSecond.toFixed(1)} MB/s |`,
      ...beams.map(
        ([label, result]) =>
          `| beam end to end: \`send\` start to both processes exited (hash, scan, pair, stream, verify, transform, install) | ${(result.bytes / MB).toFixed(1)} MB (${label}) | ${result.seconds.toFixed(2)} s, ${(result.bytes / MB / result.seconds).toFixed(1)} MB/s |`,
      ),
      `| property-based tests (codes, frames, manifests, path remap, event transform) | ${properties.cases} cases per property | all passed in ${properties.seconds.toFixed(1)} s |`,
      '',
    ];
    await writeFile(new URL('../../docs/BENCHMARKS.md', import.meta.url), table.join('\n'));
  } finally {
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
