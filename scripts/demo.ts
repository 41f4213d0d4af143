import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createTestnet from 'hyperdht/testnet.js';
import { createSampleSession } from './sample-session.js';
import { spawnBeam, type BeamProcess } from './spawn-beam.js';

/**
 * `npm run demo`: a laptop and a Codespace, played by two real copilot-beam processes with their
 * own COPILOT_HOME, beam a generated session over a DHT testnet on loopback.
 */
const run = promisify(execFile);
const bold = (text: string): string => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[0m` : text);
const step = (text: string): void => console.log(`\n${bold(`==> ${text}`)}`);

async function main(): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'copilot-beam-demo-'));
  // Each "machine" gets its own private home folder, as a real one would.
  await mkdir(join(root, 'laptop'), { mode: 0o700 });
  await mkdir(join(root, 'codespace'), { mode: 0o700 });
  const laptopHome = join(root, 'laptop', '.copilot');
  const codespaceHome = join(root, 'codespace', '.copilot');
  const testnet = await createTestnet(3, { host: '127.0.0.1' });
  const children: BeamProcess[] = [];
  try {
    step('The laptop has a Copilot session (generated for the demo), interrupted mid-command in autopilot');
    const remote = 'https://github.com/octo-org/app.git';
    const laptopCheckout = await gitCheckout(join(root, 'laptop', 'code', 'app'), remote);
    const codespaceCheckout = await gitCheckout(join(root, 'codespace', 'workspaces', 'app'), remote);
    const session = await createSampleSession({
      copilotHome: laptopHome,
      cwd: laptopCheckout,
      eventsBytes: 3 * 1024 * 1024,
      binaryBytes: 512 * 1024,
      interrupted: true,
    });
    console.log(`    ${session.dir}`);
    console.log(`    it ran in ${laptopCheckout}; the Codespace has the same repository at ${codespaceCheckout}`);
    const bootstrap = testnet.bootstrap.map((node) => `${node.host}:${node.port}`).join(',');
    console.log(`    a local DHT testnet is running on ${bootstrap} (loopback only)`);

    step(`laptop$ copilot-beam send ${session.id.slice(0, 8)} --yes`);
    let announceCode: (code: string) => void = () => undefined;
    const codeShown = new Promise<string>((resolve) => (announceCode = resolve));
    const sender = track(children, spawnBeam(['send', session.id.slice(0, 8), '--yes', '--bootstrap', bootstrap], { ...process.env, HOME: join(root, 'laptop'), COPILOT_HOME: laptopHome }, (_stream, line) => {
      console.log(`    [laptop]    ${line}`);
      const match = /copilot-beam receive (\S+)/.exec(line);
      if (match) announceCode(match[1]!);
    }));
    const code = await Promise.race([codeShown, sender.exited.then((status) => Promise.reject(new Error(`sender exited with ${status}`)))]);

    step(`codespace:${codespaceCheckout}$ copilot-beam receive ${code} --yes`);
    const receiver = track(
      children,
      spawnBeam(
        ['receive', code, '--yes', '--bootstrap', bootstrap],
        { ...process.env, HOME: join(root, 'codespace'), COPILOT_HOME: codespaceHome },
        (_stream, line) => console.log(`    [codespace] ${line}`),
        codespaceCheckout,
      ),
    );
    const [sent, received] = await Promise.all([sender.exited, receiver.exited]);
    console.log(`\n    sender exited ${sent}, receiver exited ${received}`);
    if (sent !== 0 || received !== 0) return 1;

    step('Check: the session arrived intact');
    const installed = join(codespaceHome, 'session-state', session.id);
    const identical = await compareFolders(session.dir, installed);
    console.log(`    ${identical} files byte-identical (lock files are machine-local and stay behind)`);
    const checkpoints = await compareCheckpoints(session.dir, installed);
    console.log(`    ${checkpoints} checkpoint file(s) with the same contents, renamed checkpoint-N.md (their names and titles reach the model)`);
    const events = (await readFile(join(installed, 'events.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
    const original = (await readFile(join(session.dir, 'events.jsonl'), 'utf8')).trim().split('\n').length;
    console.log(`    events.jsonl keeps its ${original} events; the receiver appended: ${events.slice(original).map((e) => e.type).join(', ')}`);
    const workspace = await readFile(join(installed, 'workspace.yaml'), 'utf8');
    console.log(`    workspace.yaml now says: ${/^cwd: .*$/m.exec(workspace)?.[0]}`);
    console.log(`    what the model is told on resume: "${String(events.at(-1)?.data.context)}"`);
    return 0;
  } finally {
    for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGTERM');
    await testnet.destroy();
    await rm(root, { recursive: true, force: true });
  }
}

async function gitCheckout(dir: string, remote: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const args of [['init', '-q', '--initial-branch=main'], ['remote', 'add', 'origin', remote]]) await run('git', ['-C', dir, ...args]);
  return dir;
}

function track(children: BeamProcess[], child: BeamProcess): BeamProcess {
  children.push(child);
  return child;
}

/** Files the receiver rewrites for its own checkout; every other file must arrive identical. */
const REWRITTEN = new Set(['events.jsonl', 'workspace.yaml', 'rewind-file-snapshots/index.json', 'checkpoints/index.md']);
/** The receiver renames the checkpoint files (compareCheckpoints checks their contents). */
const RENAMED_FOLDER = 'checkpoints';

async function compareFolders(source: string, copy: string, relative = ''): Promise<number> {
  let count = 0;
  for (const entry of await readdir(join(source, relative), { withFileTypes: true })) {
    const path = join(relative, entry.name);
    if (entry.isDirectory()) count += path === RENAMED_FOLDER ? 0 : await compareFolders(source, copy, path);
    else if (!entry.name.endsWith('.lock') && !REWRITTEN.has(path)) {
      const [a, b] = await Promise.all([readFile(join(source, path)), readFile(join(copy, path))]);
      if (!a.equals(b)) throw new Error(`${path} differs`);
      count++;
    }
  }
  return count;
}

/** The checkpoint files (not the index) hold the same contents on both sides, whatever their names. */
async function compareCheckpoints(source: string, copy: string): Promise<number> {
  const contents = async (root: string): Promise<string[]> => {
    const folder = join(root, RENAMED_FOLDER);
    const names = (await readdir(folder)).filter((name) => name !== 'index.md');
    return (await Promise.all(names.map((name) => readFile(join(folder, name), 'utf8')))).sort();
  };
  const [a, b] = await Promise.all([contents(source), contents(copy)]);
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('the checkpoint files differ');
  return a.length;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
