import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chmod, mkdtemp, readdir, readFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createTestnet, { type Testnet } from 'hyperdht/testnet.js';
import { spawnBeam, type BeamProcess } from '../../scripts/spawn-beam.js';

export { spawnBeam, type BeamProcess };

export interface TestNetwork {
  /** host:port list of the testnet's bootstrap nodes. */
  readonly bootstrap: string;
  /** A private HOME for copilot-beam processes (a readable one counts as a shared machine). */
  readonly home: string;
}

/** A DHT testnet and a private HOME for the tests of the current suite, set up once. */
export function useTestNetwork(): TestNetwork {
  let testnet: Testnet | undefined;
  const network = { bootstrap: '', home: '' };
  before(async () => {
    const started = await startTestnet();
    testnet = started.testnet;
    network.bootstrap = started.bootstrap;
    network.home = await privateHome();
  });
  after(async () => {
    await testnet?.destroy();
  });
  return network;
}

export async function startTestnet(): Promise<{ testnet: Testnet; bootstrap: string }> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' });
  return { testnet, bootstrap: testnet.bootstrap.map((node) => `${node.host}:${node.port}`).join(',') };
}

const madeDirs: string[] = [];
// Each test file runs in its own process: remove what it made when it ends.
process.on('exit', () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `copilot-beam-${prefix}-`));
  madeDirs.push(dir);
  return dir;
}

export type JsonEvent = { event: string } & Record<string, unknown>;

export function jsonEvents(output: string): JsonEvent[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as JsonEvent);
}

export function lastEvent(output: string): JsonEvent | undefined {
  return jsonEvents(output).at(-1);
}

/** Path -> "mode sha256" for every entry under dir (folders too): equal maps mean identical trees. */
export async function treeDigest(dir: string, options: { skipLocks?: boolean } = {}): Promise<Map<string, string>> {
  const digest = new Map<string, string>();
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(join(dir, relative))).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      const stats = await lstat(join(dir, path));
      if (stats.isDirectory()) {
        digest.set(`${path}/`, 'dir');
        await walk(path);
      } else if (!(options.skipLocks && (name.endsWith('.lock') || name.endsWith('.hold')))) {
        const hash = createHash('sha256').update(await readFile(join(dir, path))).digest('hex');
        digest.set(path, `${(stats.mode & 0o777).toString(8)} ${stats.size} ${hash} ${stats.mtimeMs}`);
      }
    }
  };
  await walk('');
  return digest;
}

/** Content-only view (no modes or times): what must match between sender and receiver. */
export function contentOnly(digest: Map<string, string>): Map<string, string> {
  return new Map([...digest].map(([path, value]) => [path, value === 'dir' ? value : value.split(' ').slice(1, 3).join(' ')]));
}

/** A HOME only this user can read: the receiver reports a readable home as a shared machine. */
export async function privateHome(): Promise<string> {
  const dir = await tempDir('home');
  await chmod(dir, 0o700);
  return dir;
}

/** Starts `send --json --yes` and resolves with the code once it is shown. */
export async function startSender(
  env: NodeJS.ProcessEnv,
  args: readonly string[],
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void,
): Promise<{ sender: BeamProcess; code: string }> {
  let resolveCode: (code: string) => void = () => undefined;
  const shown = new Promise<string>((resolve) => (resolveCode = resolve));
  const sender = spawnBeam(['send', ...args, '--json', '--yes'], env, (stream, line) => {
    onLine?.(stream, line);
    if (stream !== 'stdout') return;
    const event = JSON.parse(line) as JsonEvent;
    if (event.event === 'code') resolveCode(event.code as string);
  });
  const code = await Promise.race([
    shown,
    sender.exited.then((status) => {
      throw new Error(`sender exited ${status} before showing a code: ${sender.stdout}${sender.stderr}`);
    }),
  ]);
  return { sender, code };
}

export async function listOrEmpty(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** The files the receiver rebuilds or neutralises rather than installs as sent. */
export const REWRITTEN_FILES = ['events.jsonl', 'workspace.yaml', 'checkpoints/index.md', 'rewind-file-snapshots/index.json'];

/**
 * A beamed session equals its source except the files the receiver rewrites; events.jsonl keeps
 * the source's bytes as its prefix and gains the receiver's closing events (the last one the
 * handoff note).
 */
export async function assertBeamedCopy(source: string, installed: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const expected = contentOnly(await treeDigest(source, { skipLocks: true }));
  const actual = contentOnly(await treeDigest(installed));
  for (const rewritten of REWRITTEN_FILES) {
    assert.equal(actual.has(rewritten), expected.has(rewritten), rewritten);
    expected.delete(rewritten);
    actual.delete(rewritten);
  }
  // Checkpoint files are renamed ("checkpoint-N.md": their names reach the system prompt); the
  // contents stay.
  const takeCheckpoints = (digest: Map<string, string>): string[] => {
    const contents: string[] = [];
    for (const [path, value] of [...digest]) {
      if (!path.startsWith('checkpoints/') || path === 'checkpoints/') continue;
      contents.push(value);
      digest.delete(path);
    }
    return contents.sort();
  };
  assert.deepEqual(takeCheckpoints(actual), takeCheckpoints(expected), 'checkpoint contents');
  assert.deepEqual(actual, expected);
  const [before, after] = await Promise.all([readFile(join(source, 'events.jsonl')), readFile(join(installed, 'events.jsonl'))]);
  assert.ok(after.subarray(0, before.length).equals(before), 'the history is kept byte for byte');
  const appended = after.subarray(before.length).toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
  assert.equal(appended.at(-1)?.type, 'session.handoff');
  return appended;
}
