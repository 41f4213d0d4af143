import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Testnet } from 'hyperdht/testnet.js';
import { copilotAvailable, runCopilot } from './helpers/copilot-cli.js';
import { FakeModel, transcript, type ChatRequest } from './helpers/fake-model.js';
import { jsonEvents, lastEvent, privateHome, spawnBeam, startSender, startTestnet, tempDir, treeDigest } from './helpers/e2e.js';

const run = promisify(execFile);
const SESSION_ID = '5eed0000-beam-4000-8000-000000000001'.replace('beam', 'b0a1');
const REMOTE = 'https://github.com/octo-org/app.git';

/**
 * Test fixture, independent of the code under test: the same session as if it had been made on a
 * Mac in /Users/alice/code/app (plain text and hex replacement, rewind keys recomputed).
 */
async function relocatedCopy(from: string, to: string, oldRoot: string, newRoot: string): Promise<void> {
  await cp(from, to, { recursive: true, filter: (path) => !/inuse\.|\.lock$/.test(path) });
  const hex = (text: string): string => Buffer.from(text).toString('hex');
  for (const file of ['events.jsonl', 'workspace.yaml', 'rewind-file-snapshots/index.json']) {
    const path = join(to, file);
    let text = await readFile(path, 'utf8');
    text = text.split(oldRoot).join(newRoot).split(hex(oldRoot)).join(hex(newRoot));
    if (file.endsWith('index.json')) {
      const index = JSON.parse(text) as { snapshots: Array<{ files: Record<string, { path: string }> }> };
      for (const snapshot of index.snapshots) {
        snapshot.files = Object.fromEntries(Object.values(snapshot.files).map((entry) => [createHash('sha256').update(entry.path).digest('hex').slice(0, 32), entry]));
      }
      text = JSON.stringify(index);
    }
    await writeFile(path, text);
  }
}

/** SIGKILL is delivered asynchronously: wait until the killed client's process is really gone. */
async function waitUntilNoCopilotHolds(sessionDir: string): Promise<void> {
  const owners = (await readdir(sessionDir)).map((name) => /^inuse\.(\d+)\.lock$/.exec(name)?.[1]).filter((pid): pid is string => pid !== undefined);
  const deadline = Date.now() + 10_000;
  for (const pid of owners) {
    for (;;) {
      try {
        process.kill(Number(pid), 0);
      } catch {
        break;
      }
      if (Date.now() > deadline) throw new Error(`Copilot process ${pid} did not exit`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Ground truth: sessions made by the real Copilot CLI (npm @github/copilot, run offline against a
 * scripted model on loopback), beamed between two COPILOT_HOMEs by two real copilot-beam
 * processes, then resumed by the real CLI in the receiving checkout.
 */
describe('interoperability with the real Copilot CLI', { skip: copilotAvailable() ? false : 'skipped: @github/copilot is not installed (npm could not install it here)' }, () => {
  let testnet: Testnet;
  let bootstrap: string;
  const model = new FakeModel();
  let modelUrl: string;
  let root: string;
  let laptopHome: string;
  let laptopCheckout: string;
  let codespaceHome: string;
  let codespaceCheckout: string;
  let marker: string;
  let resumeRequests: ChatRequest[];
  let laptopBefore: Map<string, string>;
  let receiverDone: Record<string, unknown> | undefined;
  let beamHome: string;

  const env = (home: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: beamHome, COPILOT_HOME: home, COPILOT_BEAM_BOOTSTRAP: bootstrap });

  async function checkout(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    await run('git', ['-C', dir, 'init', '-q']);
    await run('git', ['-C', dir, 'remote', 'add', 'origin', REMOTE]);
    return dir;
  }

  before(async () => {
    ({ testnet, bootstrap } = await startTestnet());
    beamHome = await privateHome();
    modelUrl = await model.start();
    root = await tempDir('interop');
    laptopHome = join(root, 'laptop', '.copilot');
    codespaceHome = join(root, 'codespace', '.copilot');
    laptopCheckout = await checkout(join(root, 'laptop', 'code', 'app'));
    codespaceCheckout = await checkout(join(root, 'codespace', 'workspaces', 'app'));
    marker = join(root, 'marker-from-a-replayed-call');
    const blocker = join(root, 'blocker');
    const laptop = (args: string[], onStart?: (kill: () => void) => void) =>
      runCopilot({ copilotHome: laptopHome, modelUrl, cwd: laptopCheckout, args: [...args, '--allow-all-tools'], ...(onStart ? { onStart } : {}) });

    // 1. A text turn.
    model.enqueue({ text: 'The answer is 42.' });
    assert.equal((await laptop(['-p', 'What is the answer?', '--session-id', SESSION_ID])).exitCode, 0);
    // 2. A bash call that completes on the laptop.
    model.enqueue({ toolCalls: [{ name: 'bash', arguments: { command: 'echo from-the-laptop > note.txt', description: 'write a note' } }] }, { text: 'Wrote the note.' });
    assert.equal((await laptop(['-p', 'Write a note', `--resume=${SESSION_ID}`])).exitCode, 0);
    // 2b. A todo, through the sql tool, into the session's own session.db.
    const insert = "INSERT INTO todos (id, title, description, status) VALUES ('ship-beam', 'Ship copilot-beam', 'release it', 'in_progress')";
    model.enqueue({ toolCalls: [{ name: 'sql', arguments: { description: 'add a todo', query: insert } }] }, { text: 'Added the todo.' });
    assert.equal((await laptop(['-p', 'Add a todo', `--resume=${SESSION_ID}`])).exitCode, 0);
    // 2c. An edit, which gives the session a rewind snapshot of README.md.
    await writeFile(join(laptopCheckout, 'README.md'), 'hello\n');
    model.enqueue(
      { toolCalls: [{ name: 'edit', arguments: { path: join(laptopCheckout, 'README.md'), old_str: 'hello', new_str: 'hello world' } }] },
      { text: 'Edited the README.' },
    );
    assert.equal((await laptop(['-p', 'Edit the README', `--resume=${SESSION_ID}`])).exitCode, 0);
    // 3. A bash call still running when the laptop's Copilot dies. Run again, it would create the
    //    marker at once: it waits only while the blocker exists, which is removed after the kill.
    await writeFile(blocker, '');
    const command = `while [ -e ${blocker} ]; do sleep 0.1; done; touch ${marker}`;
    model.enqueue({ toolCalls: [{ name: 'bash', arguments: { command, description: 'wait then touch' } }] });
    const events = join(laptopHome, 'session-state', SESSION_ID, 'events.jsonl');
    const startsSoFar = (text: string): number => text.split('"tool.execution_start"').length - 1;
    const startsBefore = startsSoFar(await readFile(events, 'utf8'));
    const killed = await laptop(['-p', 'Run the slow thing', `--resume=${SESSION_ID}`], (kill) => {
      const poll = setInterval(() => {
        void readFile(events, 'utf8').then((text) => {
          if (startsSoFar(text) > startsBefore) {
            clearInterval(poll);
            setTimeout(kill, 300);
          }
        });
      }, 100);
    });
    assert.notEqual(killed.exitCode, 0);
    await waitUntilNoCopilotHolds(join(laptopHome, 'session-state', SESSION_ID));
    // The tool's shell outlives the client (it runs in its own session): stop it, then unblock.
    await run('pkill', ['-f', `while \\[ -e ${blocker}`]).catch(() => undefined);
    await rm(blocker);
    assert.ok(!existsSync(marker));
    laptopBefore = await treeDigest(join(laptopHome, 'session-state', SESSION_ID));

    // 4. Beam it: two real copilot-beam processes over the testnet.
    const { sender, code } = await startSender(env(laptopHome), [SESSION_ID.slice(0, 8)]);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], env(codespaceHome), undefined, codespaceCheckout);
    const [sent, received] = await Promise.all([sender.exited, receiver.exited]);
    assert.equal(received, 0, receiver.stdout + receiver.stderr);
    assert.equal(sent, 0, sender.stdout + sender.stderr);
    receiverDone = lastEvent(receiver.stdout);
    assert.ok(jsonEvents(receiver.stdout).some((event) => event.event === 'status' && event.phase === 'neutralised'));

    // 5. Resume on the receiving side, launched from elsewhere: the session knows its folder.
    model.requests.length = 0;
    model.enqueue(
      {
        toolCalls: [
          { name: 'bash', arguments: { command: 'pwd > where.txt', description: 'where am I' } },
          { name: 'sql', arguments: { description: 'read todos', query: 'SELECT id, title, status FROM todos' } },
        ],
      },
      { text: 'Continuing here.' },
    );
    const resumed = await runCopilot({
      copilotHome: codespaceHome,
      modelUrl,
      cwd: root,
      args: ['-p', 'Please continue', `--resume=${SESSION_ID}`, '--allow-all-tools'],
    });
    assert.equal(resumed.exitCode, 0, resumed.stderr);
    resumeRequests = [...model.requests];
    await new Promise((resolve) => setTimeout(resolve, 500));
  });

  after(async () => {
    await model.stop();
    await testnet.destroy();
  });

  test('the resumed session sends the model every earlier message, and the new answer follows', () => {
    const history = transcript(resumeRequests[0]!);
    assert.match(history, /What is the answer\?/);
    assert.match(history, /The answer is 42\./);
    assert.match(history, /Write a note/);
    assert.match(history, /Wrote the note\./);
    assert.match(history, /Please continue/);
    assert.ok(resumeRequests.length >= 2, 'the new turn ran');
  });

  test('the unfinished bash call did not run again, and the model was told so', () => {
    assert.ok(!existsSync(marker), 'the interrupted command was not re-executed');
    const messages = resumeRequests[0]!.messages;
    const notExecuted = messages.filter((message) => message.role === 'tool' && /^Not executed: copilot-beam moved this session/.test(String(message.content)));
    assert.equal(notExecuted.length, 1);
    const lastUser = messages.filter((message) => message.role === 'user').at(-1);
    assert.match(String(lastUser?.content), /This session was moved with copilot-beam from/);
  });

  test('a new bash call runs in the receiving checkout', async () => {
    assert.equal((await readFile(join(codespaceCheckout, 'where.txt'), 'utf8')).trim(), codespaceCheckout);
    assert.ok(!existsSync(join(root, 'where.txt')));
    assert.equal(receiverDone?.cwd, codespaceCheckout);
    const workspace = await readFile(join(codespaceHome, 'session-state', SESSION_ID, 'workspace.yaml'), 'utf8');
    assert.match(workspace, new RegExp(`^cwd: ${codespaceCheckout}$`, 'm'));
  });

  test('todos written through the sql tool on the laptop are readable after the move', () => {
    const results = resumeRequests[1]!.messages.filter((message) => message.role === 'tool').map((message) => String(message.content));
    assert.ok(results.some((content) => content.includes('Ship copilot-beam') && content.includes('in_progress')), results.join('\n'));
  });

  test('a session that ran in autopilot resumes in interactive mode', async () => {
    const id = '5eed0000-b0a1-4000-8000-000000000002';
    const autopilotCheckout = await checkout(join(root, 'laptop', 'code', 'auto'));
    model.enqueue({ text: 'Working on it in autopilot.' });
    const made = await runCopilot({ copilotHome: laptopHome, modelUrl, cwd: autopilotCheckout, args: ['-p', 'Refactor everything', '--allow-all-tools', '--autopilot', '--session-id', id] });
    assert.equal(made.exitCode, 0);
    const laptopEvents = await readFile(join(laptopHome, 'session-state', id, 'events.jsonl'), 'utf8');
    assert.match(laptopEvents, /"newMode":"autopilot"/, 'the source session really was in autopilot');

    const { sender, code } = await startSender(env(laptopHome), [id]);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], env(codespaceHome), undefined, codespaceCheckout);
    assert.deepEqual(await Promise.all([sender.exited, receiver.exited]), [0, 0], receiver.stdout);
    assert.equal(lastEvent(receiver.stdout)?.modeReset, 'autopilot');

    model.requests.length = 0;
    model.enqueue({ text: 'Waiting for you.' });
    const installedEvents = join(codespaceHome, 'session-state', id, 'events.jsonl');
    const before = (await readFile(installedEvents, 'utf8')).trim().split('\n').length;
    const resumed = await runCopilot({ copilotHome: codespaceHome, modelUrl, cwd: root, args: ['-p', 'What next?', `--resume=${id}`, '--allow-all-tools'] });
    assert.equal(resumed.exitCode, 0, resumed.stderr);
    // In autopilot the client keeps prompting itself after an answer; interactive stops at one.
    assert.equal(model.requests.length, 1);
    const added = (await readFile(installedEvents, 'utf8')).trim().split('\n').slice(before).map((line) => JSON.parse(line) as { type: string; data: { mode?: string } });
    const notices = added.filter((event) => event.type === 'session.mode_notice_delivered').map((event) => event.data.mode);
    assert.deepEqual(notices, ['interactive']);
  });

  test('a session made under /Users/alice/code/app resumes in the receiving checkout, rewind index included', async () => {
    const macHome = join(root, 'mac', '.copilot');
    const receiverHome = join(root, 'codespace2', '.copilot');
    const target = await checkout(join(root, 'codespace2', 'workspaces', 'app'));
    await relocatedCopy(join(laptopHome, 'session-state', SESSION_ID), join(macHome, 'session-state', SESSION_ID), laptopCheckout, '/Users/alice/code/app');

    const { sender, code } = await startSender(env(macHome), [SESSION_ID]);
    const receiver = spawnBeam(['receive', code, '--yes', '--json', '--cwd', target], env(receiverHome), undefined, root);
    assert.deepEqual(await Promise.all([sender.exited, receiver.exited]), [0, 0], receiver.stdout);

    const installed = join(receiverHome, 'session-state', SESSION_ID);
    const index = JSON.parse(await readFile(join(installed, 'rewind-file-snapshots', 'index.json'), 'utf8')) as {
      snapshots: Array<{ files: Record<string, { path: string } & Record<'preimage' | 'postimage', { resolvedPath?: string; encodedPath?: { data: string } }>> }>;
    };
    const entries = index.snapshots.flatMap((snapshot) => Object.entries(snapshot.files));
    assert.ok(entries.length > 0, 'the laptop session has a rewind snapshot');
    assert.ok(entries.some(([, entry]) => entry.path === join(target, 'README.md')), 'the README edit points into the new checkout');
    for (const [key, entry] of entries) {
      assert.ok(entry.path.startsWith(`${target}/`), entry.path);
      for (const image of [entry.preimage, entry.postimage]) {
        if (image.resolvedPath !== undefined) assert.equal(image.resolvedPath, entry.path);
        if (image.encodedPath !== undefined) assert.equal(Buffer.from(image.encodedPath.data, 'hex').toString(), entry.path);
      }
      assert.equal(key, createHash('sha256').update(entry.path).digest('hex').slice(0, 32));
    }
    assert.ok(!(await readFile(join(installed, 'events.jsonl'), 'utf8')).includes('"cwd":"/Users/alice/code/app"'));

    model.enqueue({ toolCalls: [{ name: 'bash', arguments: { command: 'pwd > where-mac.txt', description: 'where am I' } }] }, { text: 'Here.' });
    const resumed = await runCopilot({ copilotHome: receiverHome, modelUrl, cwd: root, args: ['-p', 'Where are we?', `--resume=${SESSION_ID}`, '--allow-all-tools'] });
    assert.equal(resumed.exitCode, 0, resumed.stderr);
    assert.equal((await readFile(join(target, 'where-mac.txt'), 'utf8')).trim(), target);
  });

  test("the sender's session folder is byte-identical after the send", async () => {
    assert.deepEqual(await treeDigest(join(laptopHome, 'session-state', SESSION_ID)), laptopBefore);
  });
});
