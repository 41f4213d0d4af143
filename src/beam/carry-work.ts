import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BeamError } from '../errors.js';
import type { OutgoingWork } from '../session/outgoing.js';
import { captureWork, commitLogPath, isCheckoutWithHistory } from '../session/work/capture.js';
import type { WorkSummary } from '../session/work/description.js';
import type { Lifetime } from './lifetime.js';

/** What the sender decided about its checkout's work, and what there was. */
export interface WorkChoice {
  /** true: carry it; false: leave it; undefined: ask the person (`carryWork`). */
  readonly withChanges: boolean | undefined;
  readonly ask: (summary: WorkSummary) => Promise<boolean>;
  /** What there is (`carried` undefined: about to be asked), then what was decided. */
  readonly tell: (summary: WorkSummary, carried: boolean | undefined) => void;
  /** Work that cannot travel, when nobody asked for it: the session goes without it. */
  readonly cannotCarry: (reason: string) => void;
}

/**
 * The work in progress of the session's checkout, captured to a private folder when it is to be
 * carried. Nothing is captured with --no-changes; a session without a checkout has nothing to
 * carry (an error only when --with-changes asked for it); a checkout with nothing in progress is
 * not asked about.
 */
export async function workToCarry(gitRoot: string | undefined, choice: WorkChoice, lifetime: Lifetime): Promise<OutgoingWork | undefined> {
  if (choice.withChanges === false) return undefined;
  if (!gitRoot || !(await isCheckoutWithHistory(gitRoot))) {
    if (choice.withChanges) {
      throw new BeamError('session', `--with-changes: the session's folder${gitRoot ? ` ${gitRoot}` : ''} is not a git checkout here, so there is no work to carry`);
    }
    return undefined;
  }
  const parent = await mkdtemp(join(tmpdir(), 'copilot-beam-work-'));
  lifetime.defer(() => rm(parent, { recursive: true, force: true }));
  const dir = join(parent, 'work');
  const captured = await captureWork(gitRoot, dir).catch((error: unknown) => {
    // Only --with-changes makes the work a condition of the send.
    if (choice.withChanges || !(error instanceof BeamError)) throw error;
    choice.cannotCarry(error.message.replace(/^--with-changes: /, ''));
    return undefined;
  });
  if (!captured) return undefined;
  const { summary, description } = captured;
  if (description.commits === 0 && !description.staged && !description.unstaged && description.untracked.length === 0) {
    // Asked for and nothing there: said, so nobody believes work travelled that did not.
    if (choice.withChanges) choice.tell(summary, false);
    return undefined;
  }
  if (choice.withChanges === undefined) choice.tell(summary, undefined);
  const carried = choice.withChanges ?? (await choice.ask(summary));
  choice.tell(summary, carried);
  if (!carried) return undefined;
  return { dir, description: captured.description, ...(captured.commitLog ? { commitLog: commitLogPath(dir) } : {}) };
}
