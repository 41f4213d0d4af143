import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSampleSession } from '../scripts/sample-session.js';
import { transformReceivedSession, NOT_EXECUTED_CODE } from '../src/session/transform/index.js';
import { repositoryIdentity } from '../src/session/repository.js';
import { compareVersions } from '../src/session/copilot-version.js';
import { chooseDestination } from '../src/session/destination.js';
import { tempDir } from './helpers/e2e.js';
import { pathKey } from '../src/session/transform/rewind-index.js';

type Event = { type: string; data: Record<string, unknown>; id: string; parentId: string | null };

async function readEvents(dir: string): Promise<Event[]> {
  return (await readFile(join(dir, 'events.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Event);
}

const move = (mapping?: { from: string; to: string }) => ({
  sourceHost: 'laptop',
  destinationHost: 'codespace',
  movedAt: new Date('2026-11-24T10:00:00.000Z'),
  ...(mapping ? { mapping } : {}),
});

test('an interrupted session is neutralised: not-executed completion, interactive mode, manual permissions, no skill approvals', async () => {
  const { dir } = await createSampleSession({ copilotHome: await tempDir('transform'), interrupted: true, eventsBytes: 4096 });
  const before = await readEvents(dir);
  const report = await transformReceivedSession(dir, move());
  const after = await readEvents(dir);

  assert.deepEqual(report.neutralisedToolCalls, [{ id: 'call_deploy', name: 'bash' }]);
  assert.equal(report.modeReset, 'autopilot');
  assert.equal(report.permissionReset, 'allow-all');
  assert.equal(report.droppedApprovals, 2);

  const skill = after.find((event) => event.type === 'skill.invoked');
  assert.equal(skill?.data.allowedTools, undefined);
  const appended = after.slice(before.length);
  assert.deepEqual(appended.map((event) => event.type), [
    'tool.execution_complete',
    'session.mode_changed',
    'session.permissions_changed',
    'session.handoff',
  ]);
  const [completion, mode, permissions, handoff] = appended as [Event, Event, Event, Event];
  assert.equal(completion.data.toolCallId, 'call_deploy');
  assert.equal(completion.data.success, false);
  assert.equal((completion.data.error as { code: string }).code, NOT_EXECUTED_CODE);
  assert.match((completion.data.result as { content: string }).content, /^Not executed: copilot-beam moved this session from laptop to codespace at 2026-11-24 10:00:00 UTC/);
  assert.deepEqual(mode.data, { previousMode: 'autopilot', newMode: 'interactive' });
  assert.deepEqual(permissions.data, { previousMode: 'allow-all', mode: 'manual' });
  assert.match(String(handoff.data.context), /1 tool call\(s\) that had not completed on laptop were not run here \(bash\)/);
  assert.match(String(handoff.data.context), /back in interactive mode \(it was in autopilot\)/);
  // The appended events continue the parentId chain.
  assert.equal(appended[0]!.parentId, before.at(-1)!.id);
  for (let i = 1; i < appended.length; i++) assert.equal(appended[i]!.parentId, appended[i - 1]!.id);
});

test('paths are remapped in workspace.yaml, event contexts, tool calls and the rewind index', async () => {
  const { dir } = await createSampleSession({ copilotHome: await tempDir('transform'), cwd: '/Users/alice/code/app', eventsBytes: 4096, interrupted: true });
  const mapping = { from: '/Users/alice/code/app', to: '/workspaces/app' };
  const report = await transformReceivedSession(dir, move(mapping));
  assert.ok(report.remappedStrings > 0);
  assert.equal(report.remappedWorkspaceFields, 2);
  assert.equal(report.remappedRewindPaths, 5);

  const workspace = await readFile(join(dir, 'workspace.yaml'), 'utf8');
  assert.match(workspace, /^cwd: \/workspaces\/app$/m);
  assert.match(workspace, /^git_root: \/workspaces\/app$/m);
  assert.match(workspace, /^name: Fix the config parser$/m);

  const events = await readEvents(dir);
  const start = events.find((event) => event.type === 'session.start')!;
  assert.deepEqual(start.data.context, { cwd: '/workspaces/app', gitRoot: '/workspaces/app', branch: 'main' });
  const toolStart = events.find((event) => event.type === 'tool.execution_start')!;
  assert.equal((toolStart.data.arguments as { command: string }).command, 'cd /workspaces/app && npm test');
  const userMessage = events.find((event) => event.type === 'user.message')!;
  assert.equal(userMessage.data.content, 'Step 1: run the tests and fix what fails', 'conversation text is history and stays');
  const contextChanged = events.filter((event) => event.type === 'session.context_changed').at(-1)!;
  assert.deepEqual(contextChanged.data, { cwd: '/workspaces/app', gitRoot: '/workspaces/app', branch: 'main' });

  const rewind = JSON.parse(await readFile(join(dir, 'rewind-file-snapshots', 'index.json'), 'utf8')) as {
    snapshots: Array<{ files: Record<string, { path: string; preimage: { resolvedPath: string; encodedPath: { data: string } }; postimage: { encodedPath: { data: string } } }> }>;
  };
  const files = rewind.snapshots[0]!.files;
  const target = '/workspaces/app/assets/logo.png';
  assert.deepEqual(Object.keys(files), [pathKey(target)], 'entries are re-keyed by the hash of the new path');
  const file = files[pathKey(target)]!;
  assert.equal(file.path, target);
  assert.equal(file.preimage.resolvedPath, target);
  assert.equal(Buffer.from(file.preimage.encodedPath.data, 'hex').toString(), target);
  assert.equal(Buffer.from(file.postimage.encodedPath.data, 'hex').toString(), target);
});

test('a finished session without a mapping gains only the handoff note and keeps its bytes', async () => {
  const { dir } = await createSampleSession({ copilotHome: await tempDir('transform'), eventsBytes: 4096 });
  const original = await readFile(join(dir, 'events.jsonl'));
  const report = await transformReceivedSession(dir, move());
  assert.deepEqual(report.neutralisedToolCalls, []);
  const after = await readFile(join(dir, 'events.jsonl'));
  assert.ok(after.subarray(0, original.length).equals(original));
  const appended = after.subarray(original.length).toString().trim().split('\n');
  assert.equal(appended.length, 1);
  assert.match(appended[0]!, /"type":"session.handoff"/);
  assert.match(appended[0]!, /Paths from laptop were kept as they were/);
});

test('numbers written as 0.0 by the client survive an untouched line', async () => {
  const { dir } = await createSampleSession({ copilotHome: await tempDir('transform'), eventsBytes: 1024 });
  const line = '{"type":"session.usage_record","data":{"usage":{"cost":0.0}},"id":"x","timestamp":"t","parentId":null}\n';
  await writeFile(join(dir, 'events.jsonl'), line);
  await transformReceivedSession(dir, move({ from: '/home/alice/code/app', to: '/w' }));
  assert.ok((await readFile(join(dir, 'events.jsonl'), 'utf8')).startsWith(line));
});

test('repository identity ignores how it was cloned', () => {
  for (const url of ['git@github.com:Octo-Org/App.git', 'https://github.com/octo-org/app', 'ssh://git@github.com/octo-org/app.git', 'https://user@github.com/octo-org/app.git/']) {
    assert.equal(repositoryIdentity(url), 'github.com/octo-org/app', url);
  }
  assert.notEqual(repositoryIdentity('git@github.com:octo-org/app2.git'), 'github.com/octo-org/app');
  assert.equal(repositoryIdentity('not a url'), undefined);
});

test('version comparison', () => {
  assert.equal(compareVersions('1.0.102', '1.0.99'), 1);
  assert.equal(compareVersions('0.0.415', '1.0.102'), -1);
  assert.equal(compareVersions('1.0.102', '1.0.102'), 0);
});

test('--cwd must be an existing folder; without a remote nothing is remapped', async () => {
  const source = { hostname: 'laptop', platform: 'darwin', cwd: '/Users/alice/app', gitRoot: '/Users/alice/app' };
  await assert.rejects(chooseDestination(source, { cwdOption: '/nonexistent/place', currentDir: '/' }), /is not a folder/);
  const here = await tempDir('dest');
  assert.deepEqual((await chooseDestination(source, { cwdOption: here, currentDir: '/' })).mapping, { from: '/Users/alice/app', to: here });
  const none = await chooseDestination(source, { currentDir: here, workspacesDir: here });
  assert.equal(none.mapping, undefined);
  assert.match(none.reason, /no known git remote/);
});
