import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Testnet } from 'hyperdht/testnet.js';
import { APPROVAL_BOX, CopilotTerminal, killTmuxServer, interactiveClientUnavailable } from './helpers/copilot-tmux.js';
import { lastEvent, privateHome, spawnBeam, startSender, startTestnet } from './helpers/e2e.js';
import { FakeModel, messageText } from './helpers/fake-model.js';
import { git, repositories, type Repos } from './helpers/git-repos.js';
import { ORIGIN, RealSessions } from './helpers/real-sessions.js';

/**
 * The proof of issue 15 with the real client: a session made by the real Copilot CLI edits a file
 * in its checkout (work in progress, not committed); `send --with-changes` and `receive` move both;
 * on the receiver the printed place is where the client resumes, and a tool call there reads the
 * edit the session made on the other machine.
 */
const skip = interactiveClientUnavailable();


describe('a session beamed with its work resumes where the work landed (issue 15)', { skip }, () => {
  let testnet: Testnet;
  let bootstrap: string;
  let beamHome: string;
  const model = new FakeModel();
  let modelUrl: string;
  let repos: Repos;
  const socket = `copilot-beam-work-${process.pid}`;
  const beamEnv = (home: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: beamHome, COPILOT_HOME: home, COPILOT_BEAM_BOOTSTRAP: bootstrap });

  before(async () => {
    ({ testnet, bootstrap } = await startTestnet());
    beamHome = await privateHome();
    modelUrl = await model.start();
    repos = await repositories();
    for (const clone of [repos.laptop, repos.codespace]) git(clone, 'remote', 'set-url', 'origin', ORIGIN);
  });

  after(async () => {
    killTmuxServer(socket);
    await model.stop();
    await testnet?.destroy();
  });

  test('the client, resumed in the printed place, reads the edit the session made on the laptop', { timeout: 240_000 }, async () => {
    const laptopHome = join(repos.root, 'laptop-home', '.copilot');
    const codespaceHome = join(repos.root, 'codespace-home', '.copilot');
    // The real client makes the session, and its tool call leaves an uncommitted edit behind.
    const made = await new RealSessions({ model, modelUrl, copilotHome: laptopHome, checkout: repos.laptop }).make('allow-all', 'echo edited-on-the-laptop >> app.txt');
    assert.match(git(repos.laptop, 'status', '--porcelain'), /^M app\.txt$/m, 'the session left work in progress (not staged)');

    const { sender, code } = await startSender(beamEnv(laptopHome), [made.id, '--with-changes']);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], beamEnv(codespaceHome), undefined, repos.codespace);
    assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
    assert.equal(await sender.exited, 0, sender.stdout + sender.stderr);
    const done = lastEvent(receiver.stdout) as unknown as { work: { root: string }; resume: string; cwd: string };
    assert.equal(done.work.root, repos.codespace);
    assert.equal(done.cwd, repos.codespace);
    assert.match(await readFile(join(repos.codespace, 'app.txt'), 'utf8'), /edited-on-the-laptop/);

    const terminal = CopilotTerminal.start({ socket, name: 'work-resume', copilotHome: codespaceHome, modelUrl, cwd: done.work.root, args: [`--resume=${made.id}`] });
    try {
      await terminal.ready();
      const first = model.requests.length;
      model.enqueue({ toolCalls: [{ name: 'bash', arguments: { command: 'cat app.txt', description: 'read the file' } }] }, { text: 'It has the laptop edit.' });
      const prompt = 'What does app.txt say now?';
      await terminal.submit(prompt);
      // Reading needs an approval in Manual Approval (nothing was granted): the person gives it.
      let approved = false;
      const toolResult = await terminal.until(
        'the file read by a tool call',
        (screen) => {
          if (APPROVAL_BOX.test(screen) && !approved) {
            terminal.keys('Enter');
            approved = true;
          }
          // The answer to the new call: the last message of a request that carries the prompt (the
          // restored history has tool results of its own, from the laptop).
          const answered = model.requests
            .slice(first)
            .find((request) => request.messages.some((message) => message.role === 'user' && messageText(message).includes(prompt)) && request.messages.at(-1)?.role === 'tool');
          return answered ? messageText(answered.messages.at(-1)!) : undefined;
        },
        90_000,
      );
      assert.match(toolResult, /edited-on-the-laptop/, 'the resumed session read the work that came with it');
      assert.match(toolResult, /line 1/);
    } finally {
      await terminal.quit();
    }
  });
});
