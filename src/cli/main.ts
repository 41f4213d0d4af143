import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_CODE_WORDS } from '../code/code.js';
import { BeamError, EXIT_CODES, toBeamError } from '../errors.js';
import { BOOTSTRAP_ENV } from '../transport/bootstrap-env.js';
import { RELAY_ENV } from '../transport/relay-key.js';
import { CleanupStack } from './cleanup.js';
import { CODE_ENV, type CommandContext } from './context.js';
// Commands load their modules (hyperswarm, libsodium, secretlint) only when they run, so that
// --help and list start fast.
import type { DhtCommandOptions } from './dht.js';
import type { DoctorOptions } from './doctor.js';
import type { RelayCommandOptions } from './relay.js';
import type { ReceiveOptions } from './receive.js';
import type { SendOptions } from './send.js';
import { Ui } from './ui.js';

/** From dist/src/cli (the library build) or dist/bundle (the CLI's bundle), the package's own manifest. */
function packageVersion(): string {
  for (const relative of ['../../../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'copilot-beam' && manifest.version) return manifest.version;
    } catch {
      // not this level
    }
  }
  return 'unknown';
}

function networkOptions(command: Command, defaultTimeout: string): Command {
  return command
    .option('--bootstrap <host:port,...>', `DHT bootstrap nodes instead of the public ones (env ${BOOTSTRAP_ENV})`)
    .option('--relay <public-key>', `go through this blind relay ("copilot-beam relay" prints its key; env ${RELAY_ENV})`)
    .option('--timeout <duration>', 'how long to wait for the other side (90s, 10m, 1h)', defaultTimeout)
    .option('--idle-timeout <duration>', 'give up when the connected peer is silent this long', '30s')
    .option('--json', 'print one JSON object per line instead of text')
    .option('--no-color', 'no colours (also: the NO_COLOR environment variable)');
}

/** Runs one command line; resolves to the process exit code. Never throws. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const json = argv.includes('--json');
  const color = !argv.includes('--no-color') && !('NO_COLOR' in env);
  const ui = new Ui({ json, color, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
  const cleanup = new CleanupStack();
  cleanup.handleSignals((error) => ui.error(error));
  const context: CommandContext = { ui, cleanup, env };

  const program = new Command('copilot-beam')
    .description('Beam a GitHub Copilot CLI session to another machine, end-to-end encrypted, with a one-time code.')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  networkOptions(
    program
      .command('send')
      .description('offer a session and show a one-time code for the other machine')
      .argument('[session]', 'session id, unique id prefix or name (default: pick from a list on a terminal, else the newest session of this checkout)')
      .option('--code-length <words>', 'words in the code (more words, stronger code)', String(DEFAULT_CODE_WORDS))
      .option('--no-qr', 'do not draw a QR code under the code')
      .option('-y, --yes', 'send without asking once the receiver is known (refuses shared machines)')
      .option('--allow-shared', 'with --yes, send even to a machine other users can read')
      .option('--verify', 'show a phrase on both machines and wait until you confirm they match')
      .option('--redact', 'replace every secret the scan finds with a marker in what is sent (never in your session)')
      .option('--with-changes', "carry the checkout's work in progress: unpushed commits, staged, unstaged and untracked changes")
      .option('--no-changes', "leave the checkout's work in progress behind, without asking"),
    '10m',
  )
    .addHelpText('after', '\nExamples:\n  copilot-beam send                  # pick a session (Enter: the newest of this checkout)\n  copilot-beam send c68a6b35 --redact\n  copilot-beam send "Fix the parser" --verify')
    .action(async (session: string | undefined, options: SendOptions) => (await import('./send.js')).runSend(session, options, context));

  networkOptions(
    program
      .command('receive')
      .description('receive a session with the code the sender shows')
      .argument('[code...]', `the code, like 4821-tugboat-wrongdoing or 4821 tug wro (or env ${CODE_ENV})`)
      .option('-y, --yes', 'accept the offered session without asking')
      .option('--verify', 'show a phrase on both machines and wait until you confirm they match')
      .option('--force', 'replace a session with the same id without asking (the old one is kept as a backup)')
      .option('--cwd <dir>', "map the session's folder to this checkout (default: found by its git remote)")
      .option('--worktree <dir>', 'put work carried with --with-changes in a new worktree here (default: this checkout when clean, else a new worktree beside it)')
      .addOption(new Option('--max-size <size>', 'refuse sessions larger than this').default('2GiB')),
    '2m',
  )
    .addHelpText('after', '\nExamples:\n  copilot-beam receive 4821-tugboat-wrongdoing\n  copilot-beam receive            # prompts for the code (Tab completes words)\n  copilot-beam receive --cwd /workspaces/app')
    // The code may come as one argument or as its parts ("4821 tug wro"): the parser reads both.
    .action(async (code: string[], options: ReceiveOptions) => (await import('./receive.js')).runReceive(code.length > 0 ? code.join(' ') : undefined, options, context));

  program
    .command('list')
    .description('list the sessions in this Copilot home')
    .option('--json', 'print one JSON object per line')
    .addHelpText('after', '\nExamples:\n  copilot-beam list\n  copilot-beam list --json | jq -r .id')
    .action(async () => (await import('./list.js')).runList(context));

  program
    .command('inspect')
    .description('show what send would send: files, sizes, secrets by kind and where, paths to remap (no network)')
    .argument('[session]', 'session id, unique id prefix or name (default: the newest session of this checkout)')
    .option('--json', 'print one JSON object instead of text')
    .addHelpText('after', '\nExamples:\n  copilot-beam inspect\n  copilot-beam inspect c68a6b35 --json')
    .action(async (session: string | undefined) => (await import('./inspect.js')).runInspect(session, context));

  program
    .command('doctor')
    .description('check the Copilot home, the copilot version, and whether the DHT is reachable from here')
    .option('--bootstrap <host:port,...>', `DHT bootstrap nodes instead of the public ones (env ${BOOTSTRAP_ENV})`)
    .option('--relay <public-key>', `also check that this blind relay can be reached (env ${RELAY_ENV})`)
    .option('--json', 'print one JSON object instead of text')
    .addHelpText('after', '\nExamples:\n  copilot-beam doctor\n  copilot-beam doctor --bootstrap 10.0.0.5:49737 --relay 5f0c...e1a2')
    .action(async (options: DoctorOptions) => (await import('./doctor.js')).runDoctor(options, context));

  program
    .command('dht')
    .description('run a DHT bootstrap node for a private or air-gapped network (until Ctrl-C)')
    .requiredOption('--port <port>', 'UDP port to listen on')
    .option('--host <address>', "the address other machines reach this one at (default: this machine's first non-loopback IPv4)")
    .option('--nodes <count>', 'DHT nodes to run, on consecutive ports (peers need several to learn they are reachable)', '3')
    .option('--json', 'print one JSON object per line')
    .addHelpText('after', '\nExamples:\n  copilot-beam dht --port 49737 --host 10.0.0.5\n  # then, on every machine: export COPILOT_BEAM_BOOTSTRAP=10.0.0.5:49737')
    .action(async (options: DhtCommandOptions) => (await import('./dht.js')).runDht(options, context));

  program
    .command('relay')
    .description('run a blind relay for peers that cannot reach each other directly (until Ctrl-C)')
    .option('--bootstrap <host:port,...>', `DHT bootstrap nodes instead of the public ones (env ${BOOTSTRAP_ENV})`)
    .option('--key-file <path>', "where the relay's key is kept (default: $COPILOT_HOME/copilot-beam/relay.key)")
    .option('--host <address>', 'address to bind the DHT socket to')
    .option('--port <port>', 'UDP port to bind the DHT socket to')
    .option('--json', 'print one JSON object per line')
    .addHelpText('after', '\nExamples:\n  copilot-beam relay\n  copilot-beam relay --bootstrap 10.0.0.5:49737 --port 49738')
    .action(async (options: RelayCommandOptions) => (await import('./relay.js')).runRelay(options, context));

  program
    .command('completion')
    .description('print a shell completion script')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', '\nExamples:\n  eval "$(copilot-beam completion bash)"\n  copilot-beam completion fish | source')
    .action(async (shell: string) => {
      process.stdout.write((await import('./completion.js')).completionScript(shell));
    });

  // Asked for nothing: the help is the answer, on standard output, and no error.
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return 0;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    await cleanup.runAll();
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : new BeamError('usage', error.message).exitCode;
    }
    if (cleanup.interrupted) {
      // Already reported by the signal handler; what failed since is the interruption itself.
      await cleanup.runAll();
      return EXIT_CODES.interrupted;
    }
    const failure = toBeamError(error);
    ui.error(failure);
    await cleanup.runAll();
    return failure.exitCode;
  }
}
