import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './e2e.js';

/** Real git repositories for the tests of carried work: a bare origin and two clones. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'A', GIT_AUTHOR_EMAIL: 'a@example.com', GIT_COMMITTER_NAME: 'A', GIT_COMMITTER_EMAIL: 'a@example.com' },
  }).trim();
}

export const BINARY = Buffer.from([0, 1, 2, 3, 255, 254, 0, 10, 13]);

export interface Repos {
  readonly root: string;
  readonly origin: string;
  readonly laptop: string;
  readonly codespace: string;
}

/** A bare origin with two commits pushed, cloned twice. */
export async function repositories(): Promise<Repos> {
  const root = await tempDir('work');
  const origin = join(root, 'origin.git');
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
  const laptop = join(root, 'laptop');
  git(root, 'clone', '--quiet', origin, laptop);
  git(laptop, 'checkout', '--quiet', '-b', 'main');
  await writeFile(join(laptop, 'app.txt'), 'line 1\nline 2\nline 3\n');
  await writeFile(join(laptop, 'logo.bin'), BINARY);
  await writeFile(join(laptop, '.gitignore'), 'secret.env\n');
  git(laptop, 'add', '.');
  git(laptop, 'commit', '--quiet', '-m', 'first');
  git(laptop, 'push', '--quiet', 'origin', 'main');
  const codespace = join(root, 'codespace');
  git(root, 'clone', '--quiet', origin, codespace);
  return { root, origin, laptop, codespace };
}

/** On the laptop: one unpushed commit, a staged and an unstaged change (text and binary), untracked and ignored files. */
export async function workInProgress(laptop: string): Promise<void> {
  await writeFile(join(laptop, 'app.txt'), 'line 1\nline 2 changed in a commit\nline 3\n');
  git(laptop, 'commit', '--quiet', '-am', 'unpushed');
  await writeFile(join(laptop, 'app.txt'), 'line 0 staged\nline 1\nline 2 changed in a commit\nline 3\n');
  git(laptop, 'add', 'app.txt');
  await writeFile(join(laptop, 'app.txt'), 'line 0 staged\nline 1\nline 2 changed in a commit\nline 3\nline 4 unstaged\n');
  await writeFile(join(laptop, 'logo.bin'), Buffer.concat([BINARY, BINARY]));
  await mkdir(join(laptop, 'src', 'new'), { recursive: true });
  await writeFile(join(laptop, 'src', 'new', 'module.ts'), 'export const answer = 42;\n');
  await writeFile(join(laptop, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(laptop, 'run.sh'), 0o755);
  await writeFile(join(laptop, 'secret.env'), 'TOKEN=ignored-so-never-carried\n');
  await symlink('/etc/passwd', join(laptop, 'link-out'));
}

/** Everything about a repository a failed apply must leave as it was. */
export function snapshot(dir: string): string {
  return [
    git(dir, 'for-each-ref', '--format=%(refname) %(objectname)'),
    git(dir, 'worktree', 'list', '--porcelain'),
    git(dir, 'status', '--porcelain=v2', '--branch', '--untracked-files=all', '--ignored'),
    git(dir, 'stash', 'list'),
    readFileSync(join(dir, '.git', 'config'), 'utf8'),
    existsSync(join(dir, '.git', 'worktrees')) ? readdirSync(join(dir, '.git', 'worktrees')).sort().join(',') : '(no worktree records)',
    filesDigest(dir),
  ].join('\n---\n');
}

/** Every path outside .git with its type and, for files and links, what they hold. */
function filesDigest(root: string, relative = ''): string {
  const lines: string[] = [];
  for (const name of readdirSync(join(root, relative)).sort()) {
    const path = relative ? `${relative}/${name}` : name;
    if (path === '.git') continue;
    const info = lstatSync(join(root, path));
    if (info.isDirectory()) lines.push(`${path}/`, filesDigest(root, path));
    else if (info.isSymbolicLink()) lines.push(`${path} -> ${readlinkSync(join(root, path))}`);
    else lines.push(`${path} ${info.mode.toString(8)} ${createHash('sha256').update(readFileSync(join(root, path))).digest('hex')}`);
  }
  return lines.filter(Boolean).join('\n');
}

