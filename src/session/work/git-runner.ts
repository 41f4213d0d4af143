import { execFile } from 'node:child_process';
import { BeamError, type ErrorKind } from '../../errors.js';

/**
 * Git as copilot-beam runs it on work carried between machines. On the sender it only reads, with
 * the person's own configuration (their ignore rules decide what is untracked) but explicit
 * options wherever configuration could change what a patch looks like. On the receiver the work
 * is hostile input, so nothing configured there may run a program: no system or global
 * configuration, no hooks, no fsmonitor, every filter driver of the repository's own
 * configuration switched off (an empty command is no filter: measured with git 2.39, where a
 * smudge filter ran on `git worktree add` without it and not with it), no transports. A bundle's
 * objects are checked by `index-pack --strict` (apply.ts): `transfer.fsckObjects` does not apply to
 * `git bundle unbundle` (found by a review, git 2.39).
 */
export type GitSide = 'sender' | 'receiver';

const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
const TIMEOUT_MS = 120_000;

export interface GitOptions {
  readonly side: GitSide;
  /** Extra `-c name=value` settings, before the command. */
  readonly config?: readonly string[];
  /** What a failure is, for the exit code. */
  readonly failure?: ErrorKind;
  /** Standard input for the command. */
  readonly input?: Uint8Array;
  /** Extra environment (GIT_INDEX_FILE for a scratch index). */
  readonly env?: Readonly<Record<string, string>>;
}

const RECEIVER_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'protocol.allow=never',
  'core.sshCommand=false',
  'credential.helper=',
  'advice.detachedHead=false',
  // Paths in status output as they are (the sender's are compared with these).
  'core.quotePath=false',
];

const SENDER_CONFIG = ['core.fsmonitor=false', 'core.quotePath=false'];

function environment(side: GitSide): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' };
  for (const key of Object.keys(env)) {
    // GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE and the like from our own environment would redirect every command.
    if (key.startsWith('GIT_') && !['GIT_TERMINAL_PROMPT', 'GIT_OPTIONAL_LOCKS'].includes(key)) delete env[key];
  }
  if (side === 'receiver') {
    env.GIT_CONFIG_NOSYSTEM = '1';
    env.GIT_CONFIG_GLOBAL = '/dev/null';
    env.GIT_ATTR_NOSYSTEM = '1';
  }
  return env;
}

/** Runs git in `cwd` and returns its standard output as bytes; a failure is a BeamError naming git's complaint. */
export function runGit(cwd: string, args: readonly string[], options: GitOptions): Promise<Buffer> {
  const config = [...(options.side === 'receiver' ? RECEIVER_CONFIG : SENDER_CONFIG), ...(options.config ?? [])];
  const argv = [...config.flatMap((setting) => ['-c', setting]), '-C', cwd, ...args];
  const spawnOptions = {
    env: { ...environment(options.side), ...options.env },
    encoding: 'buffer' as const,
    maxBuffer: MAX_OUTPUT_BYTES,
    timeout: TIMEOUT_MS,
    // On the receiver git runs in its own process group: Ctrl-C reaches copilot-beam, which lets
    // the step finish and undoes it, instead of git stopping halfway through a checkout.
    detached: options.side === 'receiver',
  };
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      argv,
      spawnOptions,
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const complaint = stderr.toString('utf8').trim().split('\n').filter(Boolean).at(-1) ?? error.message;
        reject(new BeamError(options.failure ?? 'install', `git ${args[0]} failed: ${complaint.slice(0, 300)}`, { cause: error }));
      },
    );
    child.stdin?.on('error', () => undefined); // git may exit before reading it all; the exit status says why
    child.stdin?.end(options.input ?? undefined);
  });
}

/** Text output, trimmed. */
export async function gitText(cwd: string, args: readonly string[], options: GitOptions): Promise<string> {
  return (await runGit(cwd, args, options)).toString('utf8').trim();
}

/** True when the command succeeds (for questions such as "is this commit here?"). */
export async function gitSucceeds(cwd: string, args: readonly string[], options: GitOptions): Promise<boolean> {
  return runGit(cwd, args, options).then(
    () => true,
    () => false,
  );
}

/**
 * `-c` settings that switch off every filter driver the repository's configuration defines
 * (smudge and clean run programs, and `required` would make their absence fatal).
 */
export async function filtersOff(cwd: string): Promise<string[]> {
  const listed = await gitText(cwd, ['config', '--name-only', '--get-regexp', '^filter\\.'], { side: 'receiver' }).catch(() => '');
  const drivers = new Set(
    listed
      .split('\n')
      .map((name) => /^filter\.(.+)\.[^.]+$/.exec(name.trim())?.[1])
      .filter((name): name is string => Boolean(name)),
  );
  return [...drivers].flatMap((driver) => [`filter.${driver}.smudge=`, `filter.${driver}.clean=`, `filter.${driver}.process=`, `filter.${driver}.required=false`]);
}
