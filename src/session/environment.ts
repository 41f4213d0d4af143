import { stat } from 'node:fs/promises';
import { homedir, hostname, platform, userInfo } from 'node:os';
import type { ReceiverEnvironment } from '../bundle/hello.js';
import { checkoutAt } from './repository.js';

/** What the receiver tells the sender about where the session would land: this machine, from `env`. */
export async function receiverEnvironment(env: NodeJS.ProcessEnv, currentDir: string): Promise<ReceiverEnvironment> {
  const inCodespace = env.CODESPACES === 'true' || Boolean(env.CODESPACE_NAME);
  const home = await stat(env.HOME || homedir()).catch(() => undefined);
  const repository = (await checkoutAt(currentDir))?.identity ?? env.GITHUB_REPOSITORY;
  return {
    hostname: hostname(),
    user: userInfo().username,
    platform: platform(),
    ...(inCodespace
      ? {
          codespace: {
            ...(env.CODESPACE_NAME ? { name: env.CODESPACE_NAME } : {}),
            ...(env.GITHUB_USER ? { owner: env.GITHUB_USER } : {}),
            ...(env.GITHUB_REPOSITORY ? { repository: env.GITHUB_REPOSITORY } : {}),
          },
        }
      : {}),
    ...(repository ? { repository } : {}),
    homeReadableByOthers: home ? (home.mode & 0o044) !== 0 : false,
  };
}

/** The sender's GitHub login: COPILOT_BEAM_GITHUB_USER, else GITHUB_USER (set in Codespaces). */
export function githubLogin(env: NodeJS.ProcessEnv): string | undefined {
  return env.COPILOT_BEAM_GITHUB_USER ?? env.GITHUB_USER;
}

/** Reasons the receiving machine may be shared with people other than the sender. */
export function sharedEnvironmentRisks(receiver: ReceiverEnvironment, senderLogin: string | undefined): string[] {
  const risks: string[] = [];
  const owner = receiver.codespace?.owner;
  if (owner && senderLogin && owner.toLowerCase() !== senderLogin.toLowerCase()) {
    risks.push(`the receiver is a Codespace owned by GitHub user ${owner}, not ${senderLogin}`);
  }
  if (receiver.homeReadableByOthers) risks.push(`other users on ${receiver.hostname} can read ${receiver.user}'s home folder`);
  return risks;
}
