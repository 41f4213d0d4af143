import { stat } from 'node:fs/promises';
import { homedir, hostname, platform, userInfo } from 'node:os';
import type { ReceiverEnvironment } from '../bundle/hello.js';
import { checkoutAt } from './repository.js';

/** What the receiver tells the sender about where the session would land. */
export async function describeReceiver(env: NodeJS.ProcessEnv, currentDir: string, verify: boolean): Promise<ReceiverEnvironment> {
  const inCodespace = env.CODESPACES === 'true' || Boolean(env.CODESPACE_NAME);
  const home = await stat(homedir()).catch(() => undefined);
  const repository = (await checkoutAt(currentDir))?.identity ?? env.GITHUB_REPOSITORY;
  return {
    verify,
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

/**
 * Reasons the receiving machine may be shared with people other than the sender. The sender's
 * GitHub login comes from GITHUB_USER (set in Codespaces) or COPILOT_BEAM_GITHUB_USER.
 */
export function sharedEnvironmentRisks(receiver: ReceiverEnvironment, senderEnv: NodeJS.ProcessEnv): string[] {
  const risks: string[] = [];
  const senderLogin = senderEnv.COPILOT_BEAM_GITHUB_USER ?? senderEnv.GITHUB_USER;
  const owner = receiver.codespace?.owner;
  if (owner && senderLogin && owner.toLowerCase() !== senderLogin.toLowerCase()) {
    risks.push(`the receiver is a Codespace owned by GitHub user ${owner}, not ${senderLogin}`);
  }
  if (receiver.homeReadableByOthers) risks.push(`other users on ${receiver.hostname} can read ${receiver.user}'s home folder`);
  return risks;
}
