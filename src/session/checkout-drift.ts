import { displayText } from '../terminal-text.js';
import type { GitInfo } from './manifest.js';
import { repositoryIdentity } from './repository.js';
import { gitSucceeds, gitText, type GitOptions } from './work/git-runner.js';

const READ: GitOptions = { side: 'receiver' };

/**
 * How the receiver's checkout differs from the one the session ran in: another repository,
 * another branch, another commit. The session's history talks about files as they were there;
 * resumed on other code, the agent would be misled, so the person is told before deciding.
 * Empty when they match, or when either side's git state is unknown.
 */
export async function checkoutDrift(source: GitInfo | undefined, checkout: string): Promise<string[]> {
  if (!source) return [];
  const drift: string[] = [];
  const remote = await gitText(checkout, ['remote', 'get-url', 'origin'], READ).catch(() => undefined);
  const theirs = source.remote ? repositoryIdentity(source.remote) : undefined;
  const ours = remote ? repositoryIdentity(remote) : undefined;
  if (theirs && ours && theirs !== ours) {
    drift.push(`${checkout} is a checkout of ${ours}, but the session ran in ${displayText(theirs, 200)}`);
    return drift;
  }
  const branch = await gitText(checkout, ['symbolic-ref', '--quiet', '--short', 'HEAD'], READ).catch(() => undefined);
  if (source.branch && source.branch !== 'HEAD' && branch !== source.branch) {
    drift.push(`${checkout} is on ${branch ? `branch ${branch}` : 'a detached HEAD'}, the session's checkout was on branch ${displayText(source.branch, 200)}`);
  }
  const head = await gitText(checkout, ['rev-parse', 'HEAD'], READ).catch(() => undefined);
  const wanted = source.head && /^[0-9a-f]{40}$/.test(source.head) ? source.head : undefined;
  if (wanted && head && head !== wanted) drift.push(await commitDrift(checkout, head, wanted));
  return drift;
}

async function commitDrift(checkout: string, head: string, wanted: string): Promise<string> {
  const short = (sha: string): string => sha.slice(0, 12);
  const prefix = `${checkout} is at commit ${short(head)}, the session's checkout was at ${short(wanted)}`;
  if (!(await gitSucceeds(checkout, ['cat-file', '-e', `${wanted}^{commit}`], READ))) {
    return `${prefix}, which is not here: "git fetch" may bring it (or carry the work with send --with-changes)`;
  }
  if (await gitSucceeds(checkout, ['merge-base', '--is-ancestor', head, wanted], READ)) {
    const behind = await gitText(checkout, ['rev-list', '--count', `${head}..${wanted}`], READ);
    return `${prefix}: ${behind} commit(s) behind it`;
  }
  if (await gitSucceeds(checkout, ['merge-base', '--is-ancestor', wanted, head], READ)) {
    const ahead = await gitText(checkout, ['rev-list', '--count', `${wanted}..${head}`], READ);
    return `${prefix}: ${ahead} commit(s) ahead of it`;
  }
  return `${prefix}: the two have diverged`;
}
