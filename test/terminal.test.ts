import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createSampleSession } from '../scripts/sample-session.js';
import { BEAM_BIN } from '../scripts/spawn-beam.js';
import { lastEvent, listOrEmpty, spawnBeam, startSender, tempDir, useTestNetwork, type BeamProcess } from './helpers/e2e.js';
import { FAKE_GITHUB_TOKEN } from './helpers/fake-secrets.js';
import { git, repositories, workInProgress } from './helpers/git-repos.js';
import { Terminal, tmuxAvailable } from './helpers/tmux.js';

/** The CLI as a person sees it, in a real terminal (tmux): QR code, prompts, progress, Ctrl-C. */
describe('in a terminal', { skip: tmuxAvailable() ? false : 'skipped: tmux is not installed' }, () => {
  const network = useTestNetwork();
  const terminals: Terminal[] = [];
  after(() => {
    for (const terminal of terminals) terminal.kill();
  });
  const open = (argv: string[], env: Record<string, string>): Terminal => {
    const terminal = Terminal.start(`beam-${process.pid}-${terminals.length}`, [process.execPath, BEAM_BIN, ...argv], { PATH: process.env.PATH ?? '', HOME: network.home, COPILOT_BEAM_BOOTSTRAP: network.bootstrap, ...env });
    terminals.push(terminal);
    return terminal;
  };

  test('send draws the code and a QR code, and Ctrl-C ends it cleanly', async () => {
    const laptop = join(await tempDir('tty'), 'laptop');
    const session = await createSampleSession({ copilotHome: laptop });
    const sender = open(['send', session.id, '--yes'], { COPILOT_HOME: laptop });
    const screen = await sender.waitFor(/Waiting for the receiver/);
    assert.match(screen, /copilot-beam receive \d{1,4}-[a-z]+-[a-z]+/);
    assert.ok((screen.match(/[▀▄█]/g) ?? []).length > 100, 'a QR code of block characters is drawn');
    sender.type('C-c');
    const after = await sender.waitFor(/EXIT:\d+/);
    assert.match(after, /interrupted \(SIGINT\): nothing was left half-done/);
    assert.match(after, /EXIT:130/);
  });

  test('send with no session picks from a list: id, name, folder and last prompt, this checkout first', async () => {
    const laptop = join(await tempDir('tty'), 'laptop');
    const here = await createSampleSession({ copilotHome: laptop, name: 'Work in this checkout', cwd: process.cwd() });
    const docs = await createSampleSession({ copilotHome: laptop, name: 'Write docs' });
    await createSampleSession({ copilotHome: laptop, name: 'Tune the cache' });
    await appendFile(join(docs.dir, 'events.jsonl'), `${JSON.stringify({ type: 'user.message', data: { content: 'Explain the\nretry policy in the README' } })}\n`);
    await appendFile(join(here.dir, 'events.jsonl'), `${JSON.stringify({ type: 'user.message', data: { content: `use ${FAKE_GITHUB_TOKEN} now` } })}\n`);
    const sender = open(['send', '--no-qr'], { COPILOT_HOME: laptop });
    const list = await sender.waitFor(/Send which session\? \[1-3, an id or a name; Enter for 1\]/);
    assert.match(list, new RegExp(`^ +1 +${here.id.slice(0, 8)} .*Work in this checkout`, 'm'), 'this checkout first');
    assert.match(list, /\(this checkout\)/);
    assert.match(list, /last prompt: "Explain the retry policy in the README"/);
    assert.match(list, /last prompt: "use \[redacted:GITHUB_TOKEN\] now"/, 'a secret in a prompt is never shown');
    assert.ok(!list.includes(FAKE_GITHUB_TOKEN));
    const picked = new RegExp(`^ +(\\d) +${docs.id.slice(0, 8)} .*Write docs`, 'm').exec(list);
    assert.ok(picked, list);
    sender.type('7', 'Enter');
    await sender.waitFor(/there is no session 7 in the list/);
    sender.type(picked[1]!, 'Enter');
    const shown = await sender.waitFor(/copilot-beam receive (\S+)/);
    const code = /copilot-beam receive (\S+)/.exec(shown)![1]!;
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], { ...process.env, HOME: network.home, COPILOT_HOME: join(laptop, '..', 'codespace'), COPILOT_BEAM_BOOTSTRAP: network.bootstrap });
    await sender.waitFor(/Send session "Write docs" \([\d.]+ [KM]B\) to .*\? \[y\/N\]/);
    sender.type('y', 'Enter');
    assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
    assert.match(await sender.waitFor(/EXIT:\d+/), /EXIT:0/);
    assert.deepEqual(await listOrEmpty(join(laptop, '..', 'codespace', 'session-state')), [docs.id]);
  });

  test('send shows the checkout\'s work in progress and asks before carrying it', async () => {
    const repos = await repositories();
    await workInProgress(repos.laptop);
    for (const clone of [repos.laptop, repos.codespace]) git(clone, 'remote', 'set-url', 'origin', 'https://github.com/octo-org/app.git');
    const laptop = join(repos.root, 'laptop-home');
    const session = await createSampleSession({ copilotHome: laptop, cwd: repos.laptop });
    const sender = open(['send', session.id, '--no-qr'], { COPILOT_HOME: laptop });
    const asked = await sender.waitFor(/Carry this work with the session\? \[y\/N\]/);
    assert.match(asked, /Work in progress in the checkout: branch main, 1 unpushed commit\(s\), 2 changed file\(s\), 2 new file\(s\), [\d.]+ [KM]?B/);
    assert.match(asked, /not carried: link-out \(a symbolic link\)/);
    sender.type('y', 'Enter');
    const shown = await sender.waitFor(/copilot-beam receive (\S+)/);
    const code = /copilot-beam receive (\S+)/.exec(shown)![1]!;
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], { ...process.env, HOME: network.home, COPILOT_HOME: join(repos.root, 'codespace-home'), COPILOT_BEAM_BOOTSTRAP: network.bootstrap }, undefined, repos.codespace);
    await sender.waitFor(/Send session .* to .*\? \[y\/N\]/);
    sender.type('y', 'Enter');
    assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
    assert.match(await sender.waitFor(/EXIT:\d+/), /EXIT:0/);
    assert.equal(git(repos.codespace, 'rev-parse', 'HEAD'), git(repos.laptop, 'rev-parse', 'HEAD'));
  });

  test('Ctrl-C in the middle of receiving leaves no process and no partial file', async () => {
    const root = await tempDir('tty');
    const session = await createSampleSession({ copilotHome: join(root, 'laptop'), eventsBytes: 1024 * 1024, binaryBytes: 150 * 1024 * 1024 }); // incompressible: long enough to interrupt
    const { sender, code } = await startSender({ ...process.env, HOME: network.home, COPILOT_HOME: join(root, 'laptop'), COPILOT_BEAM_BOOTSTRAP: network.bootstrap }, [session.id, '--idle-timeout', '3s']);
    const codespace = join(root, 'codespace');
    const receiver = open(['receive', code, '--yes'], { COPILOT_HOME: codespace });
    await receiver.waitFor(/Receiving [\d.]+ [KM]B \/ [\d.]+ MB \((\d|[1-8]\d)%\)/);
    receiver.type('C-c');
    const screen = await receiver.waitFor(/EXIT:\d+/);
    assert.match(screen, /EXIT:130/);
    assert.notEqual(await sender.exited, 0);
    assert.equal(lastEvent(sender.stdout)?.message, 'the receiver cancelled', 'the sender is told in words');
    assert.deepEqual(await listOrEmpty(join(codespace, 'session-state')), []);
    assert.deepEqual(await listOrEmpty(join(codespace, 'copilot-beam', 'staging')), [], 'the staging folder was removed');
  });

  /** An interactive sender in tmux, and a receiver process with --yes paired with it; resolves at the sender's last question. */
  async function senderAsking(): Promise<{ sender: Terminal; receiver: BeamProcess }> {
    const root = await tempDir('tty');
    const session = await createSampleSession({ copilotHome: join(root, 'laptop') });
    const sender = open(['send', session.id, '--no-qr'], { COPILOT_HOME: join(root, 'laptop') });
    const shown = await sender.waitFor(/copilot-beam receive (\S+)/);
    const code = /copilot-beam receive (\S+)/.exec(shown)![1]!;
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], { ...process.env, HOME: network.home, COPILOT_HOME: join(root, 'codespace'), COPILOT_BEAM_BOOTSTRAP: network.bootstrap });
    // The question names the session and its size.
    await sender.waitFor(/Send session "Fix the config parser" \([\d.]+ [KM]B\) to .*\? \[y\/N\]/);
    return { sender, receiver };
  }

  test('Ctrl-C at the question exits 130 and the receiver hears "the sender cancelled", not "said no"', async () => {
    const { sender, receiver } = await senderAsking();
    sender.type('C-c');
    assert.match(await sender.waitFor(/EXIT:\d+/), /EXIT:130/);
    assert.equal(await receiver.exited, 7);
    assert.equal(lastEvent(receiver.stdout)?.message, 'the sender cancelled');
  });

  test('Ctrl-C at the accept question exits 130 and the sender hears "the receiver cancelled"', async () => {
    const root = await tempDir('tty');
    const session = await createSampleSession({ copilotHome: join(root, 'laptop') });
    const { sender, code } = await startSender({ ...process.env, HOME: network.home, COPILOT_HOME: join(root, 'laptop'), COPILOT_BEAM_BOOTSTRAP: network.bootstrap }, [session.id]);
    const receiver = open(['receive', code], { COPILOT_HOME: join(root, 'codespace') });
    await receiver.waitFor(/Accept this session\? \[y\/N\]/);
    receiver.type('C-c');
    assert.match(await receiver.waitFor(/EXIT:\d+/), /EXIT:130/);
    assert.equal(await sender.exited, 7);
    assert.equal(lastEvent(sender.stdout)?.message, 'the receiver cancelled');
    assert.deepEqual(await listOrEmpty(join(root, 'codespace', 'session-state')), []);
  });

  test('Ctrl-C at the secrets question exits 130, not as "not sent", and the code stays in view above it', async () => {
    const laptop = join(await tempDir('tty'), 'laptop');
    // Large enough that the code is on screen before the scan ends, even on a busy machine (a
    // question that comes first holds the code back until it is answered: nothing to repeat then).
    const session = await createSampleSession({ copilotHome: laptop, eventsBytes: 64 * 1024 * 1024 });
    await writeFile(join(session.dir, 'plan.md'), `deploy with ${FAKE_GITHUB_TOKEN}\n`);
    const sender = open(['send', session.id, '--no-qr'], { COPILOT_HOME: laptop });
    const asked = await sender.waitFor(/Send them unredacted\? \[y\/N\]/);
    assert.match(asked, /The code is still valid; on the other machine: copilot-beam receive \S+[^\n]*\n(?:.*\n)*Send them unredacted/);
    sender.type('C-c');
    const screen = await sender.waitFor(/EXIT:\d+/);
    assert.match(screen, /EXIT:130/);
    assert.doesNotMatch(screen, /not sent: run again with --redact/);
  });

  test('no to sending secrets as they are offers redaction, and the session then arrives with markers', async () => {
    const root = await tempDir('tty');
    const session = await createSampleSession({ copilotHome: join(root, 'laptop') });
    await writeFile(join(session.dir, 'plan.md'), `deploy with ${FAKE_GITHUB_TOKEN}\n`);
    const sender = open(['send', session.id, '--no-qr'], { COPILOT_HOME: join(root, 'laptop') });
    await sender.waitFor(/Send them unredacted\? \[y\/N\]/);
    sender.type('n', 'Enter');
    await sender.waitFor(/Send the session with each secret replaced by a marker instead\? \[y\/N\]/);
    sender.type('y', 'Enter');
    const shown = await sender.waitFor(/each will be replaced by a marker in what is sent[\s\S]*copilot-beam receive (\S+)|copilot-beam receive (\S+)[\s\S]*each will be replaced by a marker/);
    const code = /copilot-beam receive (\S+)/.exec(shown)![1]!;
    const codespace = join(root, 'codespace');
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], { ...process.env, HOME: network.home, COPILOT_HOME: codespace, COPILOT_BEAM_BOOTSTRAP: network.bootstrap });
    await sender.waitFor(/Send session .* to .*\? \[y\/N\]/);
    sender.type('y', 'Enter');
    assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
    assert.match(await sender.waitFor(/EXIT:\d+/), /EXIT:0/);
    const plan = await readFile(join(codespace, 'session-state', session.id, 'plan.md'), 'utf8');
    assert.equal(plan, 'deploy with [redacted:GITHUB_TOKEN]\n');
  });

  test('Ctrl-C at the code prompt exits 130, not as a usage error', async () => {
    const receiver = open(['receive'], { COPILOT_HOME: join(await tempDir('tty'), 'codespace') });
    await receiver.waitFor(/Code from the sender/);
    receiver.type('42');
    receiver.type('C-c');
    assert.match(await receiver.waitFor(/EXIT:\d+/), /EXIT:130/);
  });

  test('a receiver that leaves while the sender is asked: the question goes away and the sender says so at once', async () => {
    const { sender, receiver } = await senderAsking();
    receiver.child.kill('SIGINT');
    assert.equal(await receiver.exited, 130);
    const screen = await sender.waitFor(/EXIT:\d+/, 10_000);
    assert.match(screen, /copilot-beam: the receiver cancelled\n/);
    assert.match(screen, /EXIT:7/);
  });

  test('receive prompts for the code, completes words with Tab, asks, and shows progress', async () => {
    const root = await tempDir('tty');
    const session = await createSampleSession({ copilotHome: join(root, 'laptop'), eventsBytes: 8 * 1024 * 1024 });
    const { sender, code } = await startSender({ ...process.env, HOME: network.home, COPILOT_HOME: join(root, 'laptop'), COPILOT_BEAM_BOOTSTRAP: network.bootstrap }, [session.id]);
    const [nameplate, ...words] = code.split('-');
    const codespace = join(root, 'codespace');
    const receiver = open(['receive'], { COPILOT_HOME: codespace });
    await receiver.waitFor(/Code from the sender \(Tab completes words\):/);
    receiver.type(`${nameplate}-`);
    for (const word of words) {
      receiver.type(word!.slice(0, 3), 'Tab');
      await receiver.waitFor(new RegExp(`${word}-`));
    }
    receiver.type('BSpace', 'Enter');
    await receiver.waitFor(/Accept this session\? \[y\/N\]/);
    receiver.type('y', 'Enter');
    const review = await receiver.waitFor(/Install it\? \[y\/N\]/, 30_000);
    // No checkout of the session's repository here: only what must never act outside one is reset.
    assert.match(review, /Received and made safe to resume here:\n +was active on the source +nothing\n +neutralised here +[^\n]*rewind entr[^\n]*\n(?: .*\n)* +left out +nothing/);
    receiver.type('y', 'Enter');
    const done = await receiver.waitFor(/EXIT:\d+/, 30_000);
    assert.match(done, /EXIT:0/);
    assert.match(done, /Resume it with:/);
    assert.match(done, /Receiving [\d.]+ MB \/ [\d.]+ MB \(100%\) [\d.]+ [KMG]?B\/s, 0 s left/, 'the progress line ended at 100%');
    assert.equal(await sender.exited, 0);
    assert.deepEqual(await listOrEmpty(join(codespace, 'session-state')), [session.id]);
  });
});
