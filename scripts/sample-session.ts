import * as nodeCrypto from 'node:crypto';
import { createCipheriv, createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { gunzipSync } from 'node:zlib';
import { sourceFile, sourceFunction, sourcePool, type SourcePool } from './bench/source-text.js';

/**
 * What the bulk of a sample session is made of, which decides how well it compresses:
 * - `compressible` (the default): the same test output turn after turn, events.jsonl about 8.5:1 at raw
 *   deflate level 1 (256 KiB blocks);
 * - `source`: tool calls that view and edit source-like files with varied identifiers,
 *   events.jsonl about 2.84:1 the same way (scripts/bench/source-text.ts has the measurements);
 * - `incompressible`: a small history; the bulk is binary rewind backups of pseudo-random bytes.
 */
export type SessionKind = 'compressible' | 'source' | 'incompressible';
export const SESSION_KINDS: readonly SessionKind[] = ['compressible', 'source', 'incompressible'];

/** Incompressible sessions split their bulk into backups of this size, as many snapshots would. */
const INCOMPRESSIBLE_BACKUP_BYTES = 8 * 1024 * 1024;

/**
 * Generates a session folder shaped like the ones Copilot CLI 1.0.x writes (see
 * ../shared/copilot-session-notes.md): events.jsonl with start, user, assistant and tool events,
 * workspace.yaml, a real SQLite session.db with the todos schema, plan.md, checkpoints, rewind
 * snapshots with a binary backup, and the lock files Copilot leaves behind. For demos, tests and
 * benchmarks; the interoperability suite uses sessions made by the real client instead.
 */
export interface SampleOptions {
  readonly copilotHome: string;
  readonly sessionId?: string;
  /** Approximate size of events.jsonl in bytes. */
  readonly eventsBytes?: number;
  /** Size of the binary rewind backups in bytes (one backup, or 8 MiB pieces for `incompressible`). */
  readonly binaryBytes?: number;
  readonly cwd?: string;
  readonly name?: string;
  /**
   * Ends the history the way a session interrupted on the laptop ends: in autopilot with
   * allow-all permissions, a skill that auto-approved tools, and a bash call that started but
   * never completed.
   */
  readonly interrupted?: boolean;
  /** Default `compressible`; see SessionKind. */
  readonly kind?: SessionKind;
  /** What the generated content of the `source` and `incompressible` kinds derives from; default the session id. */
  readonly seed?: string;
}

/** An SQLite database made with Copilot's todos and todo_deps tables and three todos (gzip, base64). */
const SESSION_DB_GZ_BASE64 = 'H4sIAInrBGsC/+3Z0WvTQBwH8EvTtdugjS8jikIOpHSFdqzNcDAYWruIc+2cXQbuKWS9axfMkpq7jj2q+Oh/498h+LpXH3z20UeTtMSKQ/cmk++HHLm7HHc/0r78fjl80fUkp8MwOnMlNcktoijkEaWEEDVuC+SnXNzyc2OF/J1K1gZKSftO8uUCKX/UPpUL5TcEAAAAAAAA/pELtagbhvL2oXRPfC5DFjqMj0XWyXf6Vtu2qN1+3LVoNk1X067HqG29tOs0nuMBE04YzCYO+ru9dv+Y7lnH2dr5ZbVaM1/QLUMhXsD4hXjtx8mo405kmI6d7CSnmXUX3ulKUdd15X0pizaNVOR+izKOcBbcfCh1Kj3p8+n8/vO4HXW7SVhiEHlj6WXhC+nKiZiu27GetI+6Nq0msXvBqEo7T63O3upsze4+Xc0e1ate4IyjcBRxIeIRCwMe3078cPCKs2qtVqeDiLuSMydOun/ZvnPU71v7tmPv9qxDu907qNPJmF1vaa2WK+jb+p9e5uxFiiS3X0x++VKSpJc/E+2Ddi++AQAAAAAAANwIz9TiSpPcNU0WDsROOJic8UBSecrp0HdHYpaht9ZbDxrNZqO1QdebWxutLbN5xVSQKxrbm/dN02WsIbmQos0YTTvJB/N017EbCR51wnM+HfMoip+MXXkq5moA1zsvUoqVzd6KaaabNgZhMPRGB0k/3Xo6pkPP533ustl4TYZnPnUDRs9d30sqBdSTScHhemcuJ/m/dkm0L9ql9g3/HwAAAAAAAIAbZVFdUZIaiFpSDSUrYOQ0tbI0X15Ivv8r2lcSXwAAAAAAAABwo91WVKOSFQHm8/9l5P8AAAAAAAAA/4k7eaOydGX+/wMPfB3oAFAAAA==';

export async function createSampleSession(options: SampleOptions): Promise<{ id: string; dir: string }> {
  const id = options.sessionId ?? randomUUID();
  const kind = options.kind ?? 'compressible';
  const seed = options.seed ?? id;
  const dir = join(options.copilotHome, 'session-state', id);
  const cwd = options.cwd ?? '/home/alice/code/app';
  const created = new Date('2026-11-20T09:00:00.000Z');
  await mkdir(join(dir, 'checkpoints'), { recursive: true });
  await mkdir(join(dir, 'files'), { recursive: true });
  await mkdir(join(dir, 'research', 'notes'), { recursive: true });
  await mkdir(join(dir, 'rewind-file-snapshots', 'backups'), { recursive: true });
  await mkdir(join(options.copilotHome, 'session-state', '.session-operation-locks'), { recursive: true });

  await writeFile(
    join(dir, 'workspace.yaml'),
    [
      `id: ${id}`,
      `cwd: ${cwd}`,
      `git_root: ${cwd}`,
      'branch: main',
      'client_name: github/cli',
      `name: ${options.name ?? 'Fix the config parser'}`,
      'user_named: false',
      'summary_count: 0',
      `created_at: ${created.toISOString()}`,
      `updated_at: ${new Date(created.getTime() + 3_600_000).toISOString()}`,
      '',
    ].join('\n'),
  );
  await writeEvents(join(dir, 'events.jsonl'), id, cwd, created, options.eventsBytes ?? 256 * 1024, options.interrupted ?? false, kind, seed);
  await writeFile(join(dir, 'session.db'), gunzipSync(Buffer.from(SESSION_DB_GZ_BASE64, 'base64')));
  await writeFile(join(dir, 'plan.md'), '# Plan\n\n1. Parse the config\n2. Add tests\n3. Document the flags\n');
  await writeFile(join(dir, 'checkpoints', 'index.md'), '| # | title | file |\n|---|---|---|\n| 1 | Parser done | 001-parser-done.md |\n');
  await writeFile(join(dir, 'checkpoints', '001-parser-done.md'), '# Checkpoint 1\n\nThe parser reads config.toml.\n');
  await writeFile(join(dir, 'research', 'notes', 'toml.md'), 'TOML tables map to nested objects.\n');
  await writeFile(join(dir, 'files', 'empty.txt'), '');

  const backups = await writeBackups(join(dir, 'rewind-file-snapshots', 'backups'), options.binaryBytes ?? 64 * 1024, kind === 'compressible' ? id : seed, kind, cwd);
  // The shape Copilot CLI 1.0.102 writes: entries keyed by the first 32 hex digits of SHA-256(path).
  await writeFile(
    join(dir, 'rewind-file-snapshots', 'index.json'),
    JSON.stringify({
      schema: 1,
      snapshots: [
        {
          snapshotId: 'a3c1e2d4-0000-4000-8000-000000000001',
          userMessage: 'Replace the logo',
          timestamp: created.toISOString(),
          files: Object.fromEntries(backups.map((backup) => [createHash('sha256').update(backup.path).digest('hex').slice(0, 32), snapshotEntry(backup)])),
          backupFiles: backups.map((backup) => backup.name),
          fileCount: backups.length,
        },
      ],
    }),
  );
  await writeFile(join(dir, 'rewind-file-snapshots', 'tracking.json'), '{"schema":1,"tracking":true}');
  // Left behind by every Copilot run; machine-local, never sent.
  await writeFile(join(dir, '.workspace-fork.lock'), '');
  await writeFile(join(options.copilotHome, 'session-state', '.session-operation-locks', `${id}.lock`), '');
  return { id, dir };
}

interface Backup {
  readonly name: string;
  readonly size: number;
  /** The file in the checkout it is a snapshot of. */
  readonly path: string;
}

function snapshotEntry(backup: Backup): object {
  const encodedPath = { encoding: 'unix-bytes', data: Buffer.from(backup.path).toString('hex') };
  return {
    path: backup.path,
    preimage: { kind: 'content', contentHash: backup.name, backupFile: backup.name, mode: 33188, size: backup.size, resolvedPath: backup.path, encodedPath },
    postimage: { kind: 'content', contentHash: backup.name, resolvedPath: backup.path, encodedPath },
  };
}

/**
 * The content-addressed rewind backups: one (the logo) for compressible and source sessions,
 * the whole bulk in 8 MiB pieces for incompressible ones. The default keeps its original bytes;
 * the other kinds use a keystream, fast enough for a gibibyte.
 */
async function writeBackups(folder: string, bytes: number, seed: string, kind: SessionKind, cwd: string): Promise<Backup[]> {
  if (kind === 'compressible') {
    const binary = pseudoRandomBytes(bytes, seed);
    const name = createHash('sha256').update(binary).digest('hex');
    await writeFile(join(folder, name), binary);
    return [{ name, size: binary.length, path: `${cwd}/assets/logo.png` }];
  }
  const pieceBytes = kind === 'incompressible' ? INCOMPRESSIBLE_BACKUP_BYTES : bytes;
  const pieces = pieceBytes > 0 ? Math.max(1, Math.ceil(bytes / pieceBytes)) : 1;
  const backups: Backup[] = [];
  for (let piece = 0; piece < pieces; piece++) {
    const size = Math.min(pieceBytes, bytes - piece * pieceBytes);
    const name = await writeKeystreamFile(folder, size, `${seed}/${piece}`);
    backups.push({ name, size, path: pieces === 1 ? `${cwd}/assets/logo.png` : `${cwd}/assets/blob-${piece}.bin` });
  }
  return backups;
}

/** Writes `length` pseudo-random bytes under their SHA-256 name; returns the name. */
async function writeKeystreamFile(folder: string, length: number, seed: string): Promise<string> {
  const partial = join(folder, 'partial');
  const out = createWriteStream(partial);
  const hash = createHash('sha256');
  for (const chunk of keystream(length, seed)) {
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const name = hash.digest('hex');
  await rename(partial, join(folder, name));
  return name;
}

/** Deterministic incompressible bytes at GB/s: AES-CTR of zeros, keyed by the seed, 1 MiB at a time. */
function* keystream(length: number, seed: string): Generator<Buffer> {
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let left = length; left > 0; left -= zeros.length) yield cipher.update(zeros.subarray(0, Math.min(left, zeros.length)));
}

/** The events of one turn: a user message, a tool call and its result, maybe more. */
type TurnWriter = (turn: number, write: (type: string, data: object) => Promise<void>) => Promise<void>;

/** The default turn: run the tests; the result is forty near-identical lines. */
function testTurn(cwd: string): TurnWriter {
  return async (turn, write) => {
    const callId = `call_${turn}`;
    await write('user.message', { content: `Step ${turn}: run the tests and fix what fails` });
    await write('assistant.message', {
      content: `Running the tests (step ${turn}).`,
      toolRequests: [{ toolCallId: callId, name: 'bash', arguments: { command: `cd ${cwd} && npm test` } }],
    });
    await write('tool.execution_start', { toolCallId: callId, toolName: 'bash', arguments: { command: `cd ${cwd} && npm test` } });
    await write('tool.execution_complete', {
      toolCallId: callId,
      success: true,
      result: { content: testOutput(turn, cwd) },
    });
  };
}

/** A source turn: view a file (numbered lines, as the view tool prints them); one turn in three also edits it. */
function sourceTurn(cwd: string, pool: SourcePool): TurnWriter {
  return async (turn, write) => {
    const file = sourceFile(pool);
    const path = `${cwd}/${file.path}`;
    const viewId = `call_${turn}_view`;
    await write('user.message', { content: `Step ${turn}: look at ${file.path} and tidy it up` });
    await write('assistant.message', { content: `Reading ${file.path}.`, toolRequests: [{ toolCallId: viewId, name: 'view', arguments: { path } }] });
    await write('tool.execution_start', { toolCallId: viewId, toolName: 'view', arguments: { path } });
    await write('tool.execution_complete', { toolCallId: viewId, success: true, result: { content: numbered(file.text) } });
    if (pool.random() % 3 !== 0) return;
    const editId = `call_${turn}_edit`;
    // An edit replaces one function: Copilot repeats its arguments in the request and the start event.
    const edit = { path, old_str: sourceFunction(pool), new_str: sourceFunction(pool) };
    await write('assistant.message', { content: `Rewriting part of ${file.path}.`, toolRequests: [{ toolCallId: editId, name: 'edit', arguments: edit }] });
    await write('tool.execution_start', { toolCallId: editId, toolName: 'edit', arguments: edit });
    await write('tool.execution_complete', { toolCallId: editId, success: true, result: { content: `File ${path} updated with changes.` } });
  };
}

function numbered(text: string): string {
  return text
    .split('\n')
    .map((line, at) => `${at + 1}. ${line}`)
    .join('\n');
}

async function writeEvents(path: string, id: string, cwd: string, start: Date, targetBytes: number, interrupted: boolean, kind: SessionKind, seed: string): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  let parentId: string | null = null;
  let clock = start.getTime();
  // Lines go to the stream in batches of about 1 MiB: a write (and an await) per line made 256 MiB
  // of history in 3.6 s, batches in 2.6 s. The bytes are the same.
  let batch: string[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    const text = batch.join('');
    batch = [];
    batchBytes = 0;
    if (!out.write(text)) await once(out, 'drain');
  };
  const write = async (type: string, data: object): Promise<void> => {
    const eventId = randomUUID();
    const line = JSON.stringify({ type, data, id: eventId, timestamp: new Date(clock).toISOString(), parentId }) + '\n';
    parentId = eventId;
    clock += 1000;
    const bytes = Buffer.byteLength(line);
    written += bytes;
    batch.push(line);
    batchBytes += bytes;
    if (batchBytes >= 1024 * 1024) await flush();
  };
  await write('session.start', {
    sessionId: id,
    version: 1,
    producer: 'copilot-agent',
    copilotVersion: '1.0.102',
    startTime: start.toISOString(),
    context: { cwd, gitRoot: cwd, branch: 'main' },
  });
  const writeTurn = kind === 'source' ? sourceTurn(cwd, sourcePool(seed)) : testTurn(cwd);
  let turn = 0;
  do {
    turn++;
    await writeTurn(turn, write);
  } while (written < targetBytes);
  if (interrupted) {
    await write('session.mode_changed', { previousMode: 'interactive', newMode: 'autopilot' });
    await write('session.permissions_changed', { previousMode: 'manual', mode: 'allow-all' });
    await write('skill.invoked', { name: 'deploy', path: `${cwd}/.github/skills/deploy/SKILL.md`, content: 'Deploy the app.', allowedTools: ['bash', 'write'] });
    await write('user.message', { content: 'Deploy it to staging' });
    const request = { toolCallId: 'call_deploy', name: 'bash', arguments: { command: `cd ${cwd} && ./deploy.sh staging` } };
    await write('assistant.message', { content: 'Deploying.', toolRequests: [request] });
    await write('tool.execution_start', { toolCallId: request.toolCallId, toolName: 'bash', arguments: request.arguments });
  }
  await flush();
  out.end();
  await once(out, 'finish');
}

function testOutput(turn: number, cwd: string): string {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) lines.push(`ok ${turn * 40 + i} - ${cwd}/src/parser.test.ts > case ${i} (${(i * 7919 + turn) % 997} ms)`);
  return lines.join('\n');
}

/**
 * SHA-256 of seed and counter as one string (the same bytes as hashing them in two updates):
 * crypto.hash, where this Node has it (20.12 and later), is about 1.6 times as fast as a hash
 * object per block.
 */
function sha256(text: string): Buffer {
  return typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash('sha256', text, 'buffer') : createHash('sha256').update(text).digest();
}

/** Deterministic bytes that do not compress: a binary file's worst case. */
export function pseudoRandomBytes(length: number, seed: string): Buffer {
  const out = Buffer.alloc(length);
  let counter = 0;
  for (let offset = 0; offset < length; offset += 32) sha256(`${seed}${counter++}`).copy(out, offset);
  return out;
}
