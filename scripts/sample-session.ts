import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { gunzipSync } from 'node:zlib';

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
  /** Size of the binary rewind backup in bytes. */
  readonly binaryBytes?: number;
  readonly cwd?: string;
  readonly name?: string;
  /**
   * Ends the history the way a session interrupted on the laptop ends: in autopilot with
   * allow-all permissions, a skill that auto-approved tools, and a bash call that started but
   * never completed.
   */
  readonly interrupted?: boolean;
}

/** An SQLite database made with Copilot's todos and todo_deps tables and three todos (gzip, base64). */
const SESSION_DB_GZ_BASE64 = 'H4sIAInrBGsC/+3Z0WvTQBwH8EvTtdugjS8jikIOpHSFdqzNcDAYWruIc+2cXQbuKWS9axfMkpq7jj2q+Oh/498h+LpXH3z20UeTtMSKQ/cmk++HHLm7HHc/0r78fjl80fUkp8MwOnMlNcktoijkEaWEEDVuC+SnXNzyc2OF/J1K1gZKSftO8uUCKX/UPpUL5TcEAAAAAAAA/pELtagbhvL2oXRPfC5DFjqMj0XWyXf6Vtu2qN1+3LVoNk1X067HqG29tOs0nuMBE04YzCYO+ru9dv+Y7lnH2dr5ZbVaM1/QLUMhXsD4hXjtx8mo405kmI6d7CSnmXUX3ulKUdd15X0pizaNVOR+izKOcBbcfCh1Kj3p8+n8/vO4HXW7SVhiEHlj6WXhC+nKiZiu27GetI+6Nq0msXvBqEo7T63O3upsze4+Xc0e1ate4IyjcBRxIeIRCwMe3078cPCKs2qtVqeDiLuSMydOun/ZvnPU71v7tmPv9qxDu907qNPJmF1vaa2WK+jb+p9e5uxFiiS3X0x++VKSpJc/E+2Ddi++AQAAAAAAANwIz9TiSpPcNU0WDsROOJic8UBSecrp0HdHYpaht9ZbDxrNZqO1QdebWxutLbN5xVSQKxrbm/dN02WsIbmQos0YTTvJB/N017EbCR51wnM+HfMoip+MXXkq5moA1zsvUoqVzd6KaaabNgZhMPRGB0k/3Xo6pkPP533ustl4TYZnPnUDRs9d30sqBdSTScHhemcuJ/m/dkm0L9ql9g3/HwAAAAAAAIAbZVFdUZIaiFpSDSUrYOQ0tbI0X15Ivv8r2lcSXwAAAAAAAABwo91WVKOSFQHm8/9l5P8AAAAAAAAA/4k7eaOydGX+/wMPfB3oAFAAAA==';

export async function createSampleSession(options: SampleOptions): Promise<{ id: string; dir: string }> {
  const id = options.sessionId ?? randomUUID();
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
  await writeEvents(join(dir, 'events.jsonl'), id, cwd, created, options.eventsBytes ?? 256 * 1024, options.interrupted ?? false);
  await writeFile(join(dir, 'session.db'), gunzipSync(Buffer.from(SESSION_DB_GZ_BASE64, 'base64')));
  await writeFile(join(dir, 'plan.md'), '# Plan\n\n1. Parse the config\n2. Add tests\n3. Document the flags\n');
  await writeFile(join(dir, 'checkpoints', 'index.md'), '| # | title | file |\n|---|---|---|\n| 1 | Parser done | 001-parser-done.md |\n');
  await writeFile(join(dir, 'checkpoints', '001-parser-done.md'), '# Checkpoint 1\n\nThe parser reads config.toml.\n');
  await writeFile(join(dir, 'research', 'notes', 'toml.md'), 'TOML tables map to nested objects.\n');
  await writeFile(join(dir, 'files', 'empty.txt'), '');

  const binary = pseudoRandomBytes(options.binaryBytes ?? 64 * 1024, id);
  const backupName = createHash('sha256').update(binary).digest('hex');
  await writeFile(join(dir, 'rewind-file-snapshots', 'backups', backupName), binary);
  const snapshotPath = `${cwd}/assets/logo.png`;
  const encodedPath = { encoding: 'unix-bytes', data: Buffer.from(snapshotPath).toString('hex') };
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
          files: {
            [createHash('sha256').update(snapshotPath).digest('hex').slice(0, 32)]: {
              path: snapshotPath,
              preimage: { kind: 'content', contentHash: backupName, backupFile: backupName, mode: 33188, size: binary.length, resolvedPath: snapshotPath, encodedPath },
              postimage: { kind: 'content', contentHash: backupName, resolvedPath: snapshotPath, encodedPath },
            },
          },
          backupFiles: [backupName],
          fileCount: 1,
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

async function writeEvents(path: string, id: string, cwd: string, start: Date, targetBytes: number, interrupted: boolean): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  let parentId: string | null = null;
  let clock = start.getTime();
  const write = async (type: string, data: object): Promise<void> => {
    const eventId = randomUUID();
    const line = JSON.stringify({ type, data, id: eventId, timestamp: new Date(clock).toISOString(), parentId }) + '\n';
    parentId = eventId;
    clock += 1000;
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  };
  await write('session.start', {
    sessionId: id,
    version: 1,
    producer: 'copilot-agent',
    copilotVersion: '1.0.102',
    startTime: start.toISOString(),
    context: { cwd, gitRoot: cwd, branch: 'main' },
  });
  let turn = 0;
  do {
    turn++;
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
  out.end();
  await once(out, 'finish');
}

function testOutput(turn: number, cwd: string): string {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) lines.push(`ok ${turn * 40 + i} - ${cwd}/src/parser.test.ts > case ${i} (${(i * 7919 + turn) % 997} ms)`);
  return lines.join('\n');
}

/** Deterministic bytes that do not compress: a binary file's worst case. */
export function pseudoRandomBytes(length: number, seed: string): Buffer {
  const out = Buffer.alloc(length);
  let counter = 0;
  for (let offset = 0; offset < length; offset += 32) {
    createHash('sha256').update(seed).update(String(counter++)).digest().copy(out, offset);
  }
  return out;
}
