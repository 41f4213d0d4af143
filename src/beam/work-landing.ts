import { BeamError } from '../errors.js';
import type { Destination } from '../session/destination.js';
import type { SessionManifest } from '../session/manifest.js';
import { checkoutAt, repositoryIdentity } from '../session/repository.js';
import { missingBase, planWork, type WorkPlan } from '../session/work/plan.js';
import { displayText } from '../terminal-text.js';

/**
 * Where a session's carried work will land, decided before anything is received: only in a
 * checkout of the same repository (by remote identity, as the path remap decides), on a new
 * beam/ branch, in the checkout itself when it is clean or else in a new worktree (`worktree`
 * chooses its folder). The session's paths are then remapped to that place.
 */
export async function planLanding(manifest: SessionManifest, destination: Destination, worktree: string | undefined): Promise<{ plan: WorkPlan; destination: Destination }> {
  const { source } = manifest;
  const repository = source.git?.remote ? repositoryIdentity(source.git.remote) : undefined;
  const wanted = repository ? displayText(repository, 200) : 'its repository';
  const noCheckout = (why: string): BeamError =>
    new BeamError('install', `the session carries work in progress for ${wanted}, but ${why}: clone it, then receive inside the checkout (or pass --cwd <checkout>)`, {
      forPeer: `the receiver has no checkout of ${wanted} for the work in progress`,
    });
  if (!destination.mapping) throw noCheckout('there is no checkout of it here');
  const checkout = await checkoutAt(destination.mapping.to);
  if (!checkout) throw noCheckout(`${destination.mapping.to} is not a git checkout`);
  if (!repository || checkout.identity !== repository) {
    throw noCheckout(`${checkout.root} is a checkout of ${checkout.identity ?? 'a repository without a known remote'}`);
  }
  const work = source.work!;
  const missing = await missingBase(checkout.root, work);
  if (missing.length > 0) {
    throw new BeamError(
      'install',
      `the work builds on ${missing.length === 1 ? `commit ${missing[0]!.slice(0, 12)}` : `${missing.length} commits`}, which ${checkout.root} lacks: run "git fetch" there and receive again`,
      { forPeer: 'the receiver lacks commits the work builds on (it was told to fetch first)' },
    );
  }
  const label = manifest.sessionName ?? manifest.sessionId.slice(0, 8);
  const plan = await planWork(checkout.root, label, worktree);
  const where = plan.inPlace ? `this checkout, on the new branch ${plan.branch}` : `a new worktree ${plan.root}, on the new branch ${plan.branch}`;
  return {
    plan,
    destination: { mapping: { from: destination.mapping.from, to: plan.root }, reason: `the carried work lands in ${where}` },
  };
}
