import { generateKeyPairSync } from 'node:crypto';
import assert from 'node:assert/strict';
import { readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createSampleSession } from '../scripts/sample-session.js';
import { jsonEvents, lastEvent, listOrEmpty, privateHome, spawnBeam, startSender, useTestNetwork } from './helpers/e2e.js';
import { FAKE_GITHUB_TOKEN } from './helpers/fake-secrets.js';
import { git, repositories, snapshot, workInProgress, type Repos } from './helpers/git-repos.js';

/**
 * `send --with-changes` between two real processes and two real clones: the work arrives where
 * the receiver can continue, the session's paths point there, and a receiver that cannot take
 * the work changes nothing.
 */
const REMOTE = 'https://github.com/octo-org/app.git';

/** Both clones name the same remote, as two machines' checkouts of one GitHub repository do. */
async function machines(): Promise<Repos & { laptopHome: string; codespaceHome: string }> {
  const repos = await repositories();
  for (const clone of [repos.laptop, repos.codespace]) git(clone, 'remote', 'set-url', 'origin', REMOTE);
  return { ...repos, laptopHome: await privateHome(), codespaceHome: await privateHome() };
}

describe('send --with-changes', () => {
  const network = useTestNetwork();
  const env = (home: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: home, COPILOT_HOME: join(home, '.copilot'), COPILOT_BEAM_BOOTSTRAP: network.bootstrap });

  test('the work lands in the receiver\'s clean checkout on a beam/ branch, as it was, and the session resumes there', async () => {
    const m = await machines();
    await workInProgress(m.laptop);
    const session = await createSampleSession({ copilotHome: join(m.laptopHome, '.copilot'), cwd: m.laptop, name: 'Fix the parser' });
    const laptopBefore = snapshot(m.laptop);
    const { sender, code } = await startSender(env(m.laptopHome), [session.id, '--with-changes']);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], env(m.codespaceHome), undefined, m.codespace);
    assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
    assert.equal(await sender.exited, 0, sender.stdout + sender.stderr);

    const work = jsonEvents(sender.stdout).find((event) => event.event === 'work');
    assert.deepEqual({ carried: work?.carried, commits: work?.commits, newFiles: work?.newFiles }, { carried: true, commits: 1, newFiles: 2 });
    const offer = jsonEvents(receiver.stdout).find((event) => event.event === 'offer');
    assert.deepEqual(offer?.work, { branch: 'main', commits: 1, staged: true, unstaged: true, untracked: 2 });
    const done = lastEvent(receiver.stdout) as unknown as { work: { root: string; branch: string; inPlace: boolean; sameStatus: boolean }; resume: string };
    assert.deepEqual(done.work, { root: m.codespace, branch: 'beam/fix-the-parser', inPlace: true, sameStatus: true });
    assert.equal(git(m.codespace, 'rev-parse', 'HEAD'), git(m.laptop, 'rev-parse', 'HEAD'));
    assert.equal(git(m.codespace, 'status', '--porcelain=v2'), git(m.laptop, 'status', '--porcelain=v2').split('\n').filter((line) => line !== '? link-out').join('\n'));
    for (const path of ['app.txt', 'logo.bin', 'run.sh', 'src/new/module.ts']) {
      assert.ok((await readFile(join(m.codespace, path))).equals(await readFile(join(m.laptop, path))), `${path} is byte-identical`);
    }
    assert.ok(!(await readdir(m.codespace)).includes('secret.env'));
    // The session's paths point at the checkout the work is in.
    const workspace = await readFile(join(m.codespaceHome, '.copilot', 'session-state', session.id, 'workspace.yaml'), 'utf8');
    assert.match(workspace, new RegExp(`^cwd: ${m.codespace}$`, 'm'));
    assert.ok(!(await listOrEmpty(join(m.codespaceHome, '.copilot', 'session-state', session.id))).includes('.copilot-beam-work'), 'the work is not part of the session');
    assert.equal(snapshot(m.laptop), laptopBefore, 'the sender only read its checkout');
  });

  test('a receiver with edits of its own keeps them; the work goes into a new worktree the resume line names', async () => {
    const m = await machines();
    await workInProgress(m.laptop);
    await writeFile(join(m.codespace, 'app.txt'), 'the codespace was editing this\n');
    const session = await createSampleSession({ copilotHome: join(m.laptopHome, '.copilot'), cwd: m.laptop, name: 'Fix the parser' });
    const { sender, code } = await startSender(env(m.laptopHome), [session.id, '--with-changes']);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], env(m.codespaceHome), undefined, m.codespace);
    assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
    assert.equal(await sender.exited, 0);
    const done = lastEvent(receiver.stdout) as unknown as { work: { root: string; inPlace: boolean }; resume: string };
    const worktree = join(m.root, 'codespace-beam-fix-the-parser');
    assert.deepEqual({ root: done.work.root, inPlace: done.work.inPlace }, { root: worktree, inPlace: false });
    assert.match(done.resume, new RegExp(`cd ${worktree}`));
    assert.equal(await readFile(join(m.codespace, 'app.txt'), 'utf8'), 'the codespace was editing this\n');
    assert.ok((await readFile(join(worktree, 'app.txt'))).equals(await readFile(join(m.laptop, 'app.txt'))));
  });

  test('a receiver with no checkout of the repository refuses before anything is sent, and both sides say why', async () => {
    const m = await machines();
    await workInProgress(m.laptop);
    const session = await createSampleSession({ copilotHome: join(m.laptopHome, '.copilot'), cwd: m.laptop });
    const { sender, code } = await startSender(env(m.laptopHome), [session.id, '--with-changes']);
    const elsewhere = await privateHome();
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], env(m.codespaceHome), undefined, elsewhere);
    assert.equal(await receiver.exited, 9, receiver.stdout);
    assert.match(String(lastEvent(receiver.stdout)?.message), /carries work in progress for github\.com\/octo-org\/app, but there is no checkout of it here: clone it/);
    assert.equal(await sender.exited, 7);
    assert.match(String(lastEvent(sender.stdout)?.message), /the receiver has no checkout of github\.com\/octo-org\/app for the work in progress/);
    assert.deepEqual(await listOrEmpty(join(m.codespaceHome, '.copilot', 'session-state')), []);
  });

  test('a receiver that lacks the commits the work builds on says to fetch before anything is transferred', async () => {
    const m = await machines();
    // The laptop pushed a commit the codespace never fetched, then built on it.
    await writeFile(join(m.laptop, 'app.txt'), 'pushed, not fetched\n');
    git(m.laptop, 'commit', '--quiet', '-am', 'pushed');
    git(m.laptop, 'push', '--quiet', m.origin, 'main');
    git(m.laptop, 'update-ref', 'refs/remotes/origin/main', 'HEAD');
    await workInProgress(m.laptop);
    const session = await createSampleSession({ copilotHome: join(m.laptopHome, '.copilot'), cwd: m.laptop });
    const before = snapshot(m.codespace);
    const { sender, code } = await startSender(env(m.laptopHome), [session.id, '--with-changes']);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], env(m.codespaceHome), undefined, m.codespace);
    assert.equal(await receiver.exited, 9, receiver.stdout);
    assert.match(String(lastEvent(receiver.stdout)?.message), new RegExp(`the work builds on commit [0-9a-f]{12}, which ${m.codespace} lacks: run "git fetch" there and receive again`));
    assert.ok(!jsonEvents(receiver.stdout).some((event) => event.phase === 'receiving'), 'nothing was transferred');
    assert.equal(await sender.exited, 7);
    assert.match(String(lastEvent(sender.stdout)?.message), /lacks commits the work builds on/);
    assert.equal(snapshot(m.codespace), before);
  });

  test('work that cannot travel does not stop a send that did not ask for it', async () => {
    const m = await machines();
    await symlink('app.txt', join(m.laptop, 'lnk'));
    git(m.laptop, 'add', 'lnk');
    const session = await createSampleSession({ copilotHome: join(m.laptopHome, '.copilot'), cwd: m.laptop });
    const { sender, code } = await startSender(env(m.laptopHome), [session.id]);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], env(m.codespaceHome), undefined, m.codespace);
    assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
    assert.equal(await sender.exited, 0, sender.stdout);
    const warning = jsonEvents(sender.stdout).find((event) => event.event === 'warning');
    assert.match(String(warning?.message), /work in progress stays behind: lnk is a symbolic link change/);
    const withChanges = spawnBeam(['send', session.id, '--with-changes', '--yes', '--json'], env(m.laptopHome));
    assert.equal(await withChanges.exited, 6, 'asked for, it stops the send');
  });

  test('with --yes and neither flag the work stays behind, and a warning says what', async () => {
    const m = await machines();
    await workInProgress(m.laptop);
    const session = await createSampleSession({ copilotHome: join(m.laptopHome, '.copilot'), cwd: m.laptop });
    const codespaceBefore = snapshot(m.codespace);
    const { sender, code } = await startSender(env(m.laptopHome), [session.id]);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], env(m.codespaceHome), undefined, m.codespace);
    assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
    assert.equal(await sender.exited, 0);
    const warning = jsonEvents(sender.stdout).find((event) => event.event === 'warning');
    assert.match(String(warning?.message), /work in progress stays behind \(branch main, 1 unpushed commit\(s\), 2 changed file\(s\), 2 new file\(s\), .*\): pass --with-changes/);
    assert.equal(snapshot(m.codespace), codespaceBefore, 'no work arrived');
    // Without the work, the receiver hears that its checkout is not where the session ran.
    const warnings = jsonEvents(receiver.stdout).filter((event) => event.event === 'warning').map((event) => String(event.message));
    assert.ok(warnings.some((message) => /the session's checkout was at .*which is not here/.test(message)), warnings.join('\n'));
  });
});

describe('secrets in carried work', () => {
  const network = useTestNetwork();
  const env = (home: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: home, COPILOT_HOME: join(home, '.copilot'), COPILOT_BEAM_BOOTSTRAP: network.bootstrap });
  const token = FAKE_GITHUB_TOKEN;

  test('are found where they are, even in a patch that is not UTF-8, and --redact sends markers in new lines and new files', async () => {
    const m = await machines();
    // One Latin-1 byte makes the patch invalid UTF-8: it must not hide the token beside it.
    await writeFile(join(m.laptop, 'app.txt'), Buffer.from(`line 1\nline 2\nline 3\ncaf\u00e9 export TOKEN=${token}\n`, 'latin1'));
    await writeFile(join(m.laptop, 'deploy.env.example'), `GITHUB_TOKEN=${token}\n`);
    const session = await createSampleSession({ copilotHome: join(m.laptopHome, '.copilot'), cwd: m.laptop, name: 'Deploy' });
    const { sender, code } = await startSender(env(m.laptopHome), [session.id, '--with-changes', '--redact']);
    const receiver = spawnBeam(['receive', code, '--yes', '--json'], env(m.codespaceHome), undefined, m.codespace);
    assert.equal(await receiver.exited, 0, receiver.stdout + receiver.stderr);
    assert.equal(await sender.exited, 0, sender.stdout);
    const secrets = jsonEvents(sender.stdout).find((event) => event.event === 'secrets') as unknown as { locations: Array<{ path: string }> };
    assert.deepEqual(secrets.locations.map((location) => location.path).sort(), ['.copilot-beam-work/unstaged.patch', '.copilot-beam-work/untracked/deploy.env.example']);
    assert.ok((await readFile(join(m.codespace, 'app.txt'))).equals(Buffer.from('line 1\nline 2\nline 3\ncaf\u00e9 export TOKEN=[redacted:GITHUB_TOKEN]\n', 'latin1')), 'every other byte as it was');
    assert.equal(await readFile(join(m.codespace, 'deploy.env.example'), 'utf8'), 'GITHUB_TOKEN=[redacted:GITHUB_TOKEN]\n');
    assert.ok(!receiver.stdout.includes(token) && !sender.stdout.includes(token));
  });

  test('--redact refuses what it cannot redact: a secret in an unpushed commit, or on a line a patch needs unchanged', async () => {
    const m = await machines();
    await writeFile(join(m.laptop, 'app.txt'), `line 1\nTOKEN=${token}\nline 3\n`);
    git(m.laptop, 'commit', '--quiet', '-am', 'a token, committed');
    const session = await createSampleSession({ copilotHome: join(m.laptopHome, '.copilot'), cwd: m.laptop });
    const committed = spawnBeam(['send', session.id, '--with-changes', '--redact', '--yes', '--json'], env(m.laptopHome));
    assert.equal(await committed.exited, 6, committed.stdout);
    assert.match(String(lastEvent(committed.stdout)?.message), /the unpushed commits hold 1 secret\(s\), which --redact cannot replace inside commits/);

    // Pushed (to the bare repository the remote stands for): now only the edit below is carried.
    git(m.laptop, 'push', '--quiet', m.origin, 'main');
    git(m.laptop, 'update-ref', 'refs/remotes/origin/main', 'HEAD');
    await writeFile(join(m.laptop, 'app.txt'), `line 0\nline 1\nTOKEN=${token}\nline 3\n`);
    const context = spawnBeam(['send', session.id, '--with-changes', '--redact', '--yes', '--json'], env(m.laptopHome));
    assert.equal(await context.exited, 6, context.stdout);
    assert.match(String(lastEvent(context.stdout)?.message), /a secret in unstaged\.patch sits on a line the change needs as it is/);
    assert.ok(!context.stdout.includes(token));
  });
});

describe('a private key in carried work', () => {
  const network = useTestNetwork();
  const env = (home: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: home, COPILOT_HOME: join(home, '.copilot'), COPILOT_BEAM_BOOTSTRAP: network.bootstrap });

  test('is found inside a patch, whose "+" prefixes hide it from the rules, and stops a redacted send', async () => {
    const m = await machines();
    const key = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFile(join(m.laptop, 'deploy_key'), key);
    git(m.laptop, 'add', 'deploy_key');
    const session = await createSampleSession({ copilotHome: join(m.laptopHome, '.copilot'), cwd: m.laptop });
    const lines: string[] = [];
    let scanned: () => void = () => undefined;
    const scanReported = new Promise<void>((resolve) => (scanned = resolve));
    const { sender } = await startSender(env(m.laptopHome), [session.id, '--with-changes'], (stream, line) => {
      if (stream !== 'stdout') return;
      lines.push(line);
      if (line.includes('"event":"secrets"')) scanned();
    });
    await scanReported;
    sender.child.kill('SIGINT');
    await sender.exited;
    const secrets = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((event) => event.event === 'secrets') as unknown as { kinds: Record<string, number>; locations: Array<{ path: string }> };
    assert.equal(secrets.kinds.PrivateKey, 1, JSON.stringify(secrets));
    assert.deepEqual(secrets.locations.map((location) => location.path), ['.copilot-beam-work/staged.patch']);

    const redacted = spawnBeam(['send', session.id, '--with-changes', '--redact', '--yes', '--json'], env(m.laptopHome));
    assert.equal(await redacted.exited, 6, redacted.stdout);
    assert.match(String(lastEvent(redacted.stdout)?.message), /a secret in staged\.patch spans lines of the change \(a private key\?\), which --redact cannot replace/);
    assert.ok(!redacted.stdout.includes('PRIVATE KEY-----\n'));
  });
});
