import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, readFile, writeFile, readdir, stat } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createSampleSession } from '../scripts/sample-session.js';
import HyperDHT from 'hyperdht';
import { FAKE_GITHUB_TOKEN } from './helpers/fake-secrets.js';
import { parseBootstrapList } from '../src/transport/bootstrap.js';
import { startRelay } from '../src/transport/relay-server.js';
import {
  assertBeamedCopy,
  jsonEvents,
  lastEvent,
  listOrEmpty,
  type BeamProcess,
  type JsonEvent,
  spawnBeam,
  startSender,
  useTestNetwork,
  tempDir,
  treeDigest,
} from './helpers/e2e.js';

/** Two real copilot-beam processes per case, over a DHT testnet on loopback. */
describe('copilot-beam end to end', () => {
  const network = useTestNetwork();

  const envFor = (copilotHome: string): NodeJS.ProcessEnv => ({
    ...process.env,
    HOME: network.home,
    COPILOT_HOME: copilotHome,
    COPILOT_BEAM_BOOTSTRAP: network.bootstrap,
  });

  async function homes(): Promise<{ laptop: string; codespace: string }> {
    const root = await tempDir('e2e');
    return { laptop: join(root, 'laptop'), codespace: join(root, 'codespace') };
  }

  test('a session of several MB arrives byte-identical and the sender is untouched', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop, eventsBytes: 6 * 1024 * 1024, binaryBytes: 1024 * 1024 });
    const before = await treeDigest(session.dir);

    const { sender, code } = await startSender(envFor(laptop), [session.id.slice(0, 8)]);
    assert.match(code, /^\d{1,4}-[a-z]+-[a-z]+$/);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], envFor(codespace));
    const [sent, received] = await Promise.all([sender.exited, receiver.exited]);
    assert.equal(received, 0, receiver.stdout + receiver.stderr);
    assert.equal(sent, 0, sender.stdout + sender.stderr);

    const senderEvents = jsonEvents(sender.stdout);
    assert.equal(senderEvents[0]?.event, 'code', 'the first line of send --json is the code');
    assert.equal(senderEvents[0]?.command, `copilot-beam receive ${code} --bootstrap ${network.bootstrap}`, 'the printed command works as printed: it names the private DHT');
    // The sample session's text files: all it sends but session.db and the rewind backup, which are binary.
    const textFiles = ['events.jsonl', 'workspace.yaml', 'plan.md', 'checkpoints/index.md', 'checkpoints/001-parser-done.md', 'research/notes/toml.md', 'files/empty.txt', 'rewind-file-snapshots/index.json', 'rewind-file-snapshots/tracking.json'];
    const textBytes = (await Promise.all(textFiles.map((path) => stat(join(session.dir, path))))).reduce((sum, stats) => sum + stats.size, 0);
    assert.deepEqual(senderEvents.find((e) => e.event === 'secrets'), { event: 'secrets', found: 0, redacted: false, kinds: {}, locations: [], filesScanned: textFiles.length, bytesScanned: textBytes });
    assert.equal(lastEvent(sender.stdout)?.event, 'done');
    const offer = jsonEvents(receiver.stdout).find((e) => e.event === 'offer');
    assert.equal(offer?.sessionId, session.id);
    assert.equal(offer?.sessionName, 'Fix the config parser');
    assert.equal(offer?.copilotVersion, '1.0.102');
    const done = lastEvent(receiver.stdout);
    assert.equal(done?.event, 'done');
    assert.equal(done?.resume, `COPILOT_HOME=${codespace} copilot --resume=${session.id}`);

    const installed = join(codespace, 'session-state', session.id);
    const appended = await assertBeamedCopy(session.dir, installed);
    assert.deepEqual(appended.map((event) => event.type), ['session.mode_changed', 'session.permissions_changed', 'session.handoff'], 'only the unconditional closing block in a finished session');
    assert.equal((await stat(join(installed, 'session.db'))).size, 20480);
    assert.equal((await stat(join(installed, 'events.jsonl'))).mode & 0o777, 0o600);
    assert.equal((await stat(installed)).mode & 0o777, 0o700);
    assert.deepEqual(await readdir(join(codespace, 'session-state')), [session.id]);
    assert.deepEqual(await treeDigest(session.dir), before, 'the sender must not modify its session');
  });

  test('a wrong code fails on both sides, reveals nothing, and three of them burn the code', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    const { sender, code } = await startSender(envFor(laptop), [session.id]);
    const [nameplate, first] = code.split('-');
    const wrong = `${nameplate}-${first}-${code.endsWith('-zucchini') ? 'aardvark' : 'zucchini'}`;

    for (let attempt = 1; attempt <= 3; attempt++) {
      const receiver = spawnBeam(['receive', wrong, '--yes', '--json'], envFor(codespace));
      assert.equal(await receiver.exited, 3, receiver.stdout + receiver.stderr);
      const events = jsonEvents(receiver.stdout);
      // The third is told the code is gone, not to try again.
      assert.match(String(lastEvent(receiver.stdout)?.message), attempt < 3 ? /^wrong code: check it with the sender and try again/ : /the sender gave up after too many wrong codes: ask for a new code/);
      assert.equal(events.filter((e) => e.event === 'offer').length, 0, 'no session metadata before key confirmation');
      assert.ok(!receiver.stdout.includes(session.id), 'the session id never reaches a wrong-code receiver');
    }
    assert.equal(await sender.exited, 3);
    assert.match(String(lastEvent(sender.stdout)?.message), /code burned after 3 wrong attempts/);
    assert.deepEqual(await listOrEmpty(join(codespace, 'session-state')), []);
  });

  test('codes expire, and a receiver with nobody to meet gives up in time', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    const { sender } = await startSender(envFor(laptop), [session.id, '--timeout', '2s']);
    assert.equal(await sender.exited, 4);
    assert.match(String(lastEvent(sender.stdout)?.message), /expired/);

    const receiver = spawnBeam(['receive', '9999-aardvark-zucchini', '--json', '--timeout', '2s'], envFor(codespace));
    assert.equal(await receiver.exited, 4);
    assert.match(String(lastEvent(receiver.stdout)?.message), /no sender answered/);
  });

  test('a sender whose process ended is reported gone, not as a network problem, and long before the timeout', { timeout: 120_000 }, async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    const { sender, code } = await startSender(envFor(laptop), [session.id]);
    // SIGKILL: no chance to take its announcement off the DHT, as when a laptop lid closes.
    sender.child.kill('SIGKILL');
    await sender.exited;
    const receiver = spawnBeam(['receive', code, '--json', '--yes', '--timeout', '5m'], envFor(codespace));
    assert.equal(await receiver.exited, 4);
    const message = String(lastEvent(receiver.stdout)?.message);
    assert.match(message, /the sender is gone/);
    assert.match(message, /already paired with another receiver/, 'the other reason a record goes silent');
    assert.match(message, /new code/);
    assert.doesNotMatch(message, /UDP|relay|within/);
    assert.deepEqual(await listOrEmpty(join(codespace, 'session-state')), []);
  });

  test('an existing session is kept unless --force, which keeps a backup; the same point beamed again is a no-op', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    await createSampleSession({ copilotHome: codespace, sessionId: session.id, name: 'the older copy' });

    const first = await startSender(envFor(laptop), [session.id]);
    const refused = spawnBeam(['receive', '--yes', '--json'], { ...envFor(codespace), COPILOT_BEAM_CODE: first.code });
    assert.equal(await refused.exited, 9);
    assert.match(String(lastEvent(refused.stdout)?.message), /already exists.*--force/);
    assert.equal(await first.sender.exited, 7);
    assert.match(String(lastEvent(first.sender.stdout)?.message), /declined: the receiver already has session .* and kept its copy/);

    const second = await startSender(envFor(laptop), [session.id]);
    // This time the code comes on standard input, so it never shows in the process list.
    const forced = spawnBeam(['receive', '--yes', '--json', '--force'], envFor(codespace));
    forced.child.stdin?.end(`${second.code}\n`);
    assert.equal(await forced.exited, 0, forced.stdout + forced.stderr);
    assert.equal(await second.sender.exited, 0);
    const backups = await readdir(join(codespace, 'copilot-beam', 'backups'));
    assert.equal(backups.length, 1);
    assert.ok(backups[0]!.startsWith(session.id));
    await assertBeamedCopy(session.dir, join(codespace, 'session-state', session.id));

    const third = await startSender(envFor(laptop), [session.id]);
    const again = spawnBeam(['receive', third.code, '--yes', '--json'], envFor(codespace));
    assert.equal(await again.exited, 0, again.stdout + again.stderr);
    assert.equal(await third.sender.exited, 0);
    assert.deepEqual(lastEvent(third.sender.stdout), { event: 'done', sessionId: session.id, bytes: 0, alreadyThere: true });
    assert.equal(lastEvent(again.stdout)?.alreadyHere, true);
    assert.equal((await readdir(join(codespace, 'copilot-beam', 'backups'))).length, 1, 'nothing replaced');
  });

  test('a receiver killed mid-transfer leaves no session behind, and a new beam then works (its code typed as separate words)', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop, eventsBytes: 40 * 1024 * 1024, binaryBytes: 4 * 1024 * 1024 });
    const before = await treeDigest(session.dir);
    const { sender, code } = await startSender(envFor(laptop), [session.id, '--idle-timeout', '5s']);
    let killedAt = -1;
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], envFor(codespace), (stream, line) => {
      if (stream !== 'stdout' || killedAt >= 0) return;
      const event = JSON.parse(line) as { event: string; bytes?: number; total?: number };
      if (event.event === 'progress' && (event.bytes ?? 0) < (event.total ?? 0)) {
        killedAt = event.bytes ?? 0;
        receiver.child.kill('SIGKILL');
      }
    });
    assert.equal(await receiver.exited, 128 + 9);
    assert.ok(killedAt > 0, 'the receiver was killed during the transfer');
    assert.notEqual(await sender.exited, 0);
    assert.deepEqual(await listOrEmpty(join(codespace, 'session-state')), []);
    assert.deepEqual(await treeDigest(session.dir), before);

    const retry = await startSender(envFor(laptop), [session.id]);
    // "receive 4821 tugboat wrongdoing": the parts of the code as separate arguments.
    const again = spawnBeam(['receive', ...retry.code.split('-'), '--yes', '--json'], envFor(codespace));
    assert.equal(await again.exited, 0, again.stdout + again.stderr);
    assert.equal(await retry.sender.exited, 0);
    assert.deepEqual(await listOrEmpty(join(codespace, 'copilot-beam', 'staging')), [], 'abandoned staging is swept');
    await assertBeamedCopy(session.dir, join(codespace, 'session-state', session.id));
  });

  test('the receiver warns when its copilot is older than the one that wrote the session', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    const bin = await tempDir('bin');
    await writeFile(join(bin, 'copilot'), '#!/bin/sh\necho "GitHub Copilot CLI 0.0.400."\n', { mode: 0o755 });
    const { sender, code } = await startSender(envFor(laptop), [session.id]);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], { ...envFor(codespace), PATH: `${bin}:${process.env.PATH}` });
    assert.deepEqual(await Promise.all([sender.exited, receiver.exited]), [0, 0]);
    const warnings = jsonEvents(receiver.stdout).filter((event) => event.event === 'warning').map((event) => String(event.message));
    assert.ok(warnings.some((message) => /written by Copilot CLI 1\.0\.102, newer than the copilot here \(0\.0\.400\)/.test(message)), warnings.join('\n'));
  });

  test('--verify shows the same phrase on both sides and waits for both people', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    const phrases: string[] = [];
    const answerPhrase = (process: () => BeamProcess) => (stream: 'stdout' | 'stderr', line: string): void => {
      const event = stream === 'stdout' ? (JSON.parse(line) as JsonEvent) : undefined;
      if (event?.event !== 'verify') return;
      phrases.push(String(event.phrase));
      process().child.stdin?.write('y\n');
    };
    const { sender, code } = await startSender(envFor(laptop), [session.id, '--verify'], answerPhrase(() => sender));
    const receiver: BeamProcess = spawnBeam(['receive', code, '--json', '--yes'], envFor(codespace), answerPhrase(() => receiver));
    assert.deepEqual(await Promise.all([sender.exited, receiver.exited]), [0, 0], receiver.stdout + sender.stdout);
    assert.equal(phrases.length, 2);
    assert.equal(phrases[0], phrases[1]);
    assert.match(phrases[0]!, /^[a-z]+ [a-z]+ [a-z]+ [a-z]+$/);
  });

  test('a phrase one person rejects stops both sides before anything about the session is sent', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    const { sender, code } = await startSender(envFor(laptop), [session.id]);
    const receiver = spawnBeam(['receive', code, '--json', '--yes', '--verify'], envFor(codespace), (stream, line) => {
      if (stream === 'stdout' && (JSON.parse(line) as { event: string }).event === 'verify') receiver.child.stdin?.write('n\n');
    });
    assert.deepEqual(await Promise.all([sender.exited, receiver.exited]), [7, 7]);
    assert.match(String(lastEvent(receiver.stdout)?.message), /phrases did not match/);
    assert.ok(!receiver.stdout.includes(session.id));
    assert.deepEqual(await listOrEmpty(join(codespace, 'session-state')), []);
  });

  test('a receiver others can read is flagged; with --yes it is refused unless --allow-shared', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    const sharedHome = await tempDir('shared-home');
    await chmod(sharedHome, 0o755);
    const receiverEnv = { ...envFor(codespace), HOME: sharedHome, CODESPACES: 'true', CODESPACE_NAME: 'fluffy-lamp', GITHUB_USER: 'mallory' };
    const senderEnv = { ...envFor(laptop), GITHUB_USER: 'alice' };

    const first = await startSender(senderEnv, [session.id]);
    const refused = spawnBeam(['receive', first.code, '--json', '--yes'], receiverEnv);
    assert.deepEqual(await Promise.all([first.sender.exited, refused.exited]), [7, 7]);
    const warnings = jsonEvents(first.sender.stdout).filter((e) => e.event === 'warning').map((e) => String(e.message));
    assert.ok(warnings.some((m) => /Codespace owned by GitHub user mallory, not alice/.test(m)), warnings.join('\n'));
    assert.ok(warnings.some((m) => /can read .* home folder/.test(m)), warnings.join('\n'));
    assert.match(String(lastEvent(first.sender.stdout)?.message), /refused to send to a shared machine/);
    assert.match(String(lastEvent(refused.stdout)?.message), /the sender stopped: the sender refused to send to a shared machine/);
    assert.ok(!refused.stdout.includes(session.id), 'nothing about the session reached the shared machine');
    const receiverEvent = jsonEvents(first.sender.stdout).find((e) => e.event === 'receiver');
    assert.equal((receiverEvent?.codespace as { owner?: string } | undefined)?.owner, 'mallory');

    const second = await startSender(senderEnv, [session.id, '--allow-shared']);
    const allowed = spawnBeam(['receive', second.code, '--json', '--yes'], receiverEnv);
    assert.deepEqual(await Promise.all([second.sender.exited, allowed.exited]), [0, 0]);
  });

  test('secrets: --redact sends markers instead of values and the receiver is told; without it the receiver is warned', async () => {
    const { laptop, codespace } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    const leak = JSON.stringify({ type: 'tool.execution_complete', data: { toolCallId: 'c', success: true, result: { content: `token ${FAKE_GITHUB_TOKEN}` } } });
    await appendFile(join(session.dir, 'events.jsonl'), `${leak}\n`);
    const before = await treeDigest(session.dir);

    const redacting = await startSender(envFor(laptop), [session.id, '--redact']);
    const receiver = spawnBeam(['receive', redacting.code, '--yes', '--json'], envFor(codespace));
    assert.deepEqual(await Promise.all([redacting.sender.exited, receiver.exited]), [0, 0], receiver.stdout);
    const offer = jsonEvents(receiver.stdout).find((e) => e.event === 'offer');
    assert.deepEqual(offer?.secrets, { found: 1, redacted: true, kinds: { GITHUB_TOKEN: 1 } });
    const installed = await readFile(join(codespace, 'session-state', session.id, 'events.jsonl'), 'utf8');
    assert.ok(!installed.includes(FAKE_GITHUB_TOKEN));
    assert.ok(installed.includes('token [redacted:GITHUB_TOKEN]'));
    assert.ok(!redacting.sender.stdout.includes(FAKE_GITHUB_TOKEN), 'the value is never printed');
    assert.deepEqual(await treeDigest(session.dir), before, 'redaction never touches the source');

    const plain = await startSender(envFor(laptop), [session.id]);
    const warned = spawnBeam(['receive', plain.code, '--yes', '--json', '--force'], envFor(codespace));
    assert.deepEqual(await Promise.all([plain.sender.exited, warned.exited]), [0, 0]);
    const warnings = jsonEvents(warned.stdout).filter((e) => e.event === 'warning').map((e) => String(e.message));
    assert.ok(warnings.includes('1 secret(s) travel unredacted in this session'), warnings.join('\n'));
    const senderWarnings = jsonEvents(plain.sender.stdout).filter((e) => e.event === 'warning').map((e) => String(e.message));
    assert.ok(senderWarnings.some((m) => m.startsWith('1 secret(s) would travel as they are')));
  });

  test('without --yes and without a terminal, a sender with unredacted secrets does not send', async () => {
    const { laptop } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    await writeFile(join(session.dir, 'plan.md'), `deploy with ${FAKE_GITHUB_TOKEN}\n`);
    const sender = spawnBeam(['send', session.id, '--json'], envFor(laptop));
    assert.equal(await sender.exited, 7);
    assert.match(String(lastEvent(sender.stdout)?.message), /no terminal to ask on/);
    assert.ok(!jsonEvents(sender.stdout).some((e) => e.event === 'code'), 'no code was shown');
  });

  test('inspect shows what would be sent without any network; doctor checks the DHT', async () => {
    const { laptop } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    await writeFile(join(session.dir, 'plan.md'), `# Plan\nuse ${FAKE_GITHUB_TOKEN}\n`);
    const inspect = spawnBeam(['inspect', session.id.slice(0, 6), '--json'], { ...envFor(laptop), COPILOT_BEAM_BOOTSTRAP: '127.0.0.1:9' });
    assert.equal(await inspect.exited, 0, inspect.stdout);
    const report = lastEvent(inspect.stdout) as { event: string; secrets: { kinds: Record<string, number> }; remapRoot: string; skipped: string[]; manifest: { files: Array<{ path: string; compressed?: boolean }> } };
    assert.equal(report.event, 'inspect');
    // Text and the SQLite database travel compressed; the rewind backup (random bytes) and empty files as they are.
    const compressed = new Set(report.manifest.files.filter((file) => file.compressed).map((file) => file.path));
    assert.ok(compressed.has('events.jsonl') && compressed.has('plan.md') && compressed.has('session.db'), [...compressed].join(', '));
    assert.ok(!report.manifest.files.some((file) => file.compressed && (file.path.startsWith('rewind-file-snapshots/backups/') || file.path === 'files/empty.txt')), [...compressed].join(', '));
    assert.deepEqual(report.secrets.kinds, { GITHUB_TOKEN: 1 });
    assert.equal(report.remapRoot, '/home/alice/code/app');
    assert.deepEqual(report.skipped, ['.workspace-fork.lock']);
    assert.ok(!inspect.stdout.includes(FAKE_GITHUB_TOKEN));
    const text = spawnBeam(['inspect', session.id], envFor(laptop));
    assert.equal(await text.exited, 0, text.stderr);
    assert.match(text.stdout, /^ +plan\.md line 2: GITHUB_TOKEN$/m, 'names the file and line of each secret');
    assert.ok(!text.stdout.includes(FAKE_GITHUB_TOKEN));

    const doctor = spawnBeam(['doctor', '--json'], envFor(laptop));
    assert.equal(await doctor.exited, 0, doctor.stdout);
    const health = lastEvent(doctor.stdout) as { event: string; sessions: number; dht: { reachable: boolean; firewalled: boolean } };
    assert.equal(health.sessions, 1);
    assert.equal(health.dht.reachable, true);
    const unreachable = spawnBeam(['doctor', '--json', '--bootstrap', '127.0.0.1:9'], envFor(laptop));
    assert.equal(await unreachable.exited, 5);
  });

  test('a blind relay on the same DHT: doctor reaches it, a beam with --relay arrives intact, an unknown relay is reported', async () => {
    const relay = await startRelay({ bootstrap: parseBootstrapList(network.bootstrap), keyPair: HyperDHT.keyPair() });
    try {
      const key = Buffer.from(relay.publicKey).toString('hex');
      const { laptop, codespace } = await homes();
      const doctor = spawnBeam(['doctor', '--json', '--relay', key], envFor(laptop));
      assert.equal(await doctor.exited, 0, doctor.stdout);
      assert.deepEqual(lastEvent(doctor.stdout)?.relay, { reachable: true });

      const session = await createSampleSession({ copilotHome: laptop, eventsBytes: 512 * 1024 });
      const { sender, code } = await startSender(envFor(laptop), [session.id]);
      const receiver = spawnBeam(['receive', code, '--yes', '--json'], { ...envFor(codespace), COPILOT_BEAM_RELAY: key });
      assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
      assert.equal(await sender.exited, 0);
      // On loopback the direct path wins the race; that only the relay can carry a beam is shown
      // in test/netns.test.ts, with UDP blocked between the peers.
      await assertBeamedCopy(session.dir, join(codespace, 'session-state', session.id));

      const unknown = spawnBeam(['doctor', '--json', '--relay', 'ab'.repeat(32)], envFor(laptop));
      assert.equal(await unknown.exited, 5);
      assert.match(String(lastEvent(unknown.stdout)?.message), /relay is unreachable/);
    } finally {
      await relay.close();
    }
  });

  test('bash completion completes commands and options', async () => {
    const script = spawnBeam(['completion', 'bash'], envFor('/nonexistent'));
    assert.equal(await script.exited, 0);
    const folder = await tempDir('completion');
    await mkdir(join(folder, 'checkout-one'));
    const complete = (words: string): string => `COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _copilot_beam; echo "\${COMPREPLY[@]}"`;
    const probe = [script.stdout, `cd ${folder}`, complete('copilot-beam rel'), complete('copilot-beam receive --ver'), complete('copilot-beam send --rel'), complete('copilot-beam receive --cwd check')].join('\n');
    const bash = spawnSync('bash', ['-c', probe], { encoding: 'utf8' });
    assert.deepEqual(bash.stdout.trim().split('\n'), ['relay', '--verify', '--relay', 'checkout-one']);
  });

  test('with no arguments the help goes to standard output, with no error', async () => {
    const bare = spawnBeam([], envFor('/nonexistent'));
    assert.equal(await bare.exited, 0);
    assert.match(bare.stdout, /^Usage: copilot-beam /m);
    assert.equal(bare.stderr, '');
  });

  test('list shows id, name, folder, last update and size, as text or JSON', async () => {
    const { laptop } = await homes();
    const session = await createSampleSession({ copilotHome: laptop, name: 'List me' });
    const listed = spawnBeam(['list', '--json'], envFor(laptop));
    assert.equal(await listed.exited, 0);
    const [entry, ...rest] = jsonEvents(listed.stdout);
    assert.equal(rest.length, 0);
    assert.equal(entry?.event, 'session');
    assert.equal(entry?.id, session.id);
    assert.equal(entry?.name, 'List me');
    assert.equal(entry?.cwd, '/home/alice/code/app');
    assert.equal(entry?.updatedAt, '2026-11-20T10:00:00.000Z');
    assert.ok(Number(entry?.bytes) > 256 * 1024);
    const text = spawnBeam(['list'], envFor(laptop));
    assert.equal(await text.exited, 0);
    assert.match(text.stdout, /^SESSION +UPDATED \(UTC\) +SIZE +NAME +FOLDER$/m, 'a header, and the time zone said');
    assert.match(text.stdout, new RegExp(`^${session.id}  2026-11-20 10:00 +[\\d.]+ [KM]B  List me +/home/alice/code/app$`, 'm'));
  });

  test('unknown and busy sessions are refused before any network use', async () => {
    const { laptop } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    const unknown = spawnBeam(['send', 'deadbeef', '--json'], envFor(laptop));
    assert.equal(await unknown.exited, 6);
    assert.match(String(lastEvent(unknown.stdout)?.message), /no session with the id or name "deadbeef"/);

    await writeFile(join(session.dir, `inuse.${process.pid}.lock`), String(process.pid));
    const busy = spawnBeam(['send', session.id, '--json'], envFor(laptop));
    assert.equal(await busy.exited, 6);
    assert.match(String(lastEvent(busy.stdout)?.message), new RegExp(`open in a running Copilot \\(process ${process.pid}\\)`));
  });

  test('an unreachable DHT is reported as such within seconds', async () => {
    const { laptop } = await homes();
    const session = await createSampleSession({ copilotHome: laptop });
    await mkdir(laptop, { recursive: true });
    const sender = spawnBeam(['send', session.id, '--json', '--bootstrap', '127.0.0.1:9'], { ...process.env, COPILOT_HOME: laptop });
    assert.equal(await sender.exited, 5);
    assert.match(String(lastEvent(sender.stdout)?.message), /DHT unreachable/);
    assert.ok(!jsonEvents(sender.stdout).some((e) => e.event === 'code'), 'no code is shown without a DHT');
  });
});

