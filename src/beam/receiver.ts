import { rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseCode, type Code } from '../code/code.js';
import { DEFAULT_LIMITS, type BundleLimits } from '../bundle/limits.js';
import { decodeReason, encodeJson, MessageKind } from '../bundle/messages.js';
import { receiveFiles } from '../bundle/receive-files.js';
import { WriteBack } from '../bundle/write-back.js';
import { BeamError, toBeamError } from '../errors.js';
import { checkoutDrift } from '../session/checkout-drift.js';
import { copilotOlderThan } from '../session/copilot-version.js';
import { checkoutFolder, chooseDestination, type Destination } from '../session/destination.js';
import {
  assertRoomFor,
  commitStaging,
  createStaging,
  discardStaging,
  existsError,
  removeAbandonedStaging,
  sessionExists,
  type Staging,
} from '../session/install.js';
import { sessionDir } from '../session/home.js';
import { removeForeignEntries } from '../session/layout.js';
import { decodeSessionManifest, WORK_FOLDER, type SessionManifest } from '../session/manifest.js';
import { resumeCommand } from '../session/resume-line.js';
import { alreadyHere, recordReceipt, type AlreadyHere } from '../session/receipts.js';
import { applyWork, type AppliedWork } from '../session/work/apply.js';
import type { WorkPlan } from '../session/work/plan.js';
import { whyWorkFilesDiffer } from '../session/work/expected.js';
import { planLanding } from './work-landing.js';
import { reviewOf } from '../session/review.js';
import { EventLogRewriter, EventLogWorker, PathRemapper, transformReceivedSession, type EventTransformReport, type MoveDescription, type TransformReport } from '../session/transform/index.js';
import { rendezvous } from '../transport/rendezvous.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import { displayText } from '../terminal-text.js';
import type { ReceiverDecisions } from './decisions.js';
import { withLifetime, type Lifetime } from './lifetime.js';
import { introduce } from './receiver-introductions.js';
import { askWhileSenderWaits, refuseOnError, refuseSender, tellSenderLast } from './receiver-replies.js';
import { joinNetwork, sodiumForPairing, type NetworkSettings } from './network.js';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_SEARCH_TIMEOUT_MS, PERSON_TIMEOUT_MS } from './timeouts.js';

export interface ReceiveRequest {
  /** The code the sender shows, as typed ("7-amber-tidal") or parsed. */
  readonly code: string | Code;
  /** The Copilot home to install into (COPILOT_HOME, usually ~/.copilot). */
  readonly copilotHome: string;
  /** Where the receiver runs: its checkout is the first candidate for the session's folder. */
  readonly currentDir: string;
  /** Map the session's folder to this folder instead of finding a checkout by its git remote. */
  readonly checkout?: string;
  /** Carried work goes into a new worktree here (default: the checkout when clean, else beside it). */
  readonly worktree?: string;
  /** Replace a session with the same id (the old one is kept as a backup). */
  readonly force?: boolean;
  /** Both people compare a phrase before the session is offered. */
  readonly verify?: boolean;
  /** Refuse sessions larger than this many bytes. */
  readonly maxBytes?: number;
  /** How long to look for the sender. */
  readonly searchTimeoutMs?: number;
  /** How long the connected sender may stay silent while it owes an answer. */
  readonly idleTimeoutMs?: number;
  /**
   * This machine's environment, as the sender is told about it (host, Codespace, whether the
   * home folder is private) and as the copilot version check runs in. Default: process.env.
   */
  readonly env?: NodeJS.ProcessEnv;
  readonly network?: NetworkSettings;
  /** Cancels the beam: the sender is disconnected and nothing is installed or left behind. */
  readonly signal?: AbortSignal;
}

interface ReceivedSession {
  readonly sessionId: string;
  /** The installed session folder. */
  readonly path: string;
  /** The command that resumes the session here. */
  readonly resume: string;
  /** The checkout the session's paths now point to; absent when they stayed as they were. */
  readonly checkout?: string;
  /** False when the sender vanished before it could be told. */
  readonly senderTold: boolean;
}

/** Where the work carried with the session landed. */
export interface LandedWork {
  /** The checkout, or the new worktree. */
  readonly root: string;
  readonly branch: string;
  readonly inPlace: boolean;
  /** Its git status there is the source's. */
  readonly sameStatus: boolean;
}

/** The session was received, made safe to resume here, and installed. */
export interface InstalledSession extends ReceivedSession {
  readonly outcome: 'installed';
  /** The work in progress carried with it, and where it landed. */
  readonly work?: LandedWork;
  /** Where the session it replaced was kept. */
  readonly backup?: string;
  readonly transform: TransformReport;
}

/**
 * Nothing to do: the copy here was received from this very offer (same files, same checkout) and
 * has not changed since, so nothing was transferred and it was left as it was.
 */
export interface SessionAlreadyHere extends ReceivedSession {
  readonly outcome: 'already-here';
  /** When the copy here was received. */
  readonly receivedAt: string;
}

export type ReceiveResult = InstalledSession | SessionAlreadyHere;

/**
 * From this size on, events.jsonl is rewritten on a thread of its own: starting one costs more
 * than rewriting a short history on the receiving thread.
 */
const REWRITE_THREAD_FROM_BYTES = 8 * 1024 * 1024;

interface ReceiveSettings {
  readonly home: string;
  readonly currentDir: string;
  readonly limits: BundleLimits;
  readonly idleTimeoutMs: number;
  readonly force: boolean;
  readonly verify: boolean;
  readonly checkout: string | undefined;
  readonly worktree: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Receives one Copilot session: pairs with the sender of `code`, describes this machine, checks
 * the offer as hostile input, asks, then receives into a staging folder, verifies every byte,
 * makes the session safe to resume here and installs it atomically. On any failure nothing is
 * installed, nothing is left behind, and the sender is told why.
 */
export function receive(request: ReceiveRequest, decisions: ReceiverDecisions): Promise<ReceiveResult> {
  return withLifetime(request.signal, (lifetime) => runReceiver(request, guarded(decisions, lifetime), lifetime));
}

/** Nobody is told or asked anything once the beam is cancelled, and no answer is awaited. */
function guarded(decisions: ReceiverDecisions, lifetime: Lifetime): ReceiverDecisions {
  return {
    tell: (news) => lifetime.tell(() => decisions.tell(news)),
    phraseMatches: (phrase, signal) => lifetime.ask(() => decisions.phraseMatches(phrase, signal)),
    acceptOffer: (manifest, signal) => lifetime.ask(() => decisions.acceptOffer(manifest, signal)),
    installReviewed: (review, signal) => lifetime.ask(() => decisions.installReviewed(review, signal)),
    replaceExisting: (sessionId, signal) => lifetime.ask(() => decisions.replaceExisting(sessionId, signal)),
  };
}

async function runReceiver(request: ReceiveRequest, decisions: ReceiverDecisions, lifetime: Lifetime): Promise<ReceiveResult> {
  const code = typeof request.code === 'string' ? parseCode(request.code) : request.code;
  const settings: ReceiveSettings = {
    home: request.copilotHome,
    currentDir: request.currentDir,
    limits: { ...DEFAULT_LIMITS, ...(request.maxBytes === undefined ? {} : { maxTotalBytes: request.maxBytes }) },
    idleTimeoutMs: request.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    force: Boolean(request.force),
    verify: Boolean(request.verify),
    checkout: request.checkout,
    worktree: request.worktree,
    env: request.env ?? process.env,
  };
  // What can be checked before pairing is: a mistake found later would use up the code.
  if (settings.checkout !== undefined) await checkoutFolder(settings.checkout);
  const sodium = sodiumForPairing();
  await removeAbandonedStaging(settings.home);

  decisions.tell({ type: 'connecting' });
  const swarm = await joinNetwork(request.network ?? {}, lifetime);
  const meeting = rendezvous({
    swarm,
    sodium,
    role: 'receiver',
    code,
    deadlineMs: request.searchTimeoutMs ?? DEFAULT_SEARCH_TIMEOUT_MS,
    stepTimeoutMs: settings.idleTimeoutMs,
    onAttempt: (event) => {
      if (event.kind === 'failed') decisions.tell({ type: 'wrong-code', attemptsLeft: event.attemptsLeft });
    },
  });
  decisions.tell({ type: 'looking', nameplate: code.nameplate });
  const channel = await meeting.paired;
  // Ctrl-C (or the embedding tool's abort) from here on is told to the sender, in words.
  lifetime.onAbort(() => channel.cancel('the receiver cancelled'));
  decisions.tell({ type: 'paired' });
  const agreed = await agreeOnOffer(channel, settings, decisions);
  if ('previous' in agreed) return leaveAsItIs(channel, agreed.manifest, agreed.destination, agreed.previous, settings, decisions);
  const { manifest, destination, replace, work } = agreed;
  return installOffered(channel, manifest, destination, work?.plan, { ...settings, force: replace }, decisions, lifetime);
}

/** The same session at the same point is here already: the sender is told, and nothing moves. */
async function leaveAsItIs(
  channel: SecureChannel,
  manifest: SessionManifest,
  destination: Destination,
  previous: AlreadyHere,
  settings: ReceiveSettings,
  decisions: ReceiverDecisions,
): Promise<SessionAlreadyHere> {
  decisions.tell({ type: 'already-here', sessionId: manifest.sessionId, receivedAt: previous.receivedAt });
  const checkout = destination.mapping?.to;
  const senderTold = await tellSenderLast(channel, MessageKind.AlreadyHere, manifest.sessionId);
  return {
    outcome: 'already-here',
    sessionId: manifest.sessionId,
    path: sessionDir(settings.home, manifest.sessionId),
    resume: resumeCommand(manifest.sessionId, settings.home, checkout),
    ...(checkout ? { checkout } : {}),
    receivedAt: previous.receivedAt,
    senderTold,
  };
}

/** Introductions, the offer checked as hostile input, and the person's answer to it. */
async function agreeOnOffer(
  channel: SecureChannel,
  settings: ReceiveSettings,
  decisions: ReceiverDecisions,
): Promise<
  | { manifest: SessionManifest; destination: Destination; replace: boolean; work?: { plan: WorkPlan } }
  | { manifest: SessionManifest; destination: Destination; previous: AlreadyHere }
> {
  await introduce(channel, settings, decisions);
  decisions.tell({ type: 'introduced' });

  const offer = await channel.receive(PERSON_TIMEOUT_MS, 'the sender');
  if (offer.kind === MessageKind.Abort) throw new BeamError('declined', `the sender stopped: ${decodeReason(offer.body)}`);
  if (offer.kind !== MessageKind.Offer) throw new BeamError('protocol', 'the sender broke the protocol (expected its offer)');
  const manifest = await refuseOnError(channel, async () => {
    const checked = decodeSessionManifest(offer.body, settings.limits);
    const why = whyWorkFilesDiffer(checked.source.work, checked.files, checked.directories, WORK_FOLDER);
    if (why) throw new BeamError('protocol', `the manifest was refused: ${why}`);
    await assertRoomFor(settings.home, checked.totalBytes);
    return checked;
  });

  decisions.tell({ type: 'offer', manifest });
  const chosen = await refuseOnError(channel, () => chooseDestination(manifest.source, { cwdOption: settings.checkout, currentDir: settings.currentDir }));
  const landing = manifest.source.work ? await refuseOnError(channel, () => planLanding(manifest, chosen, settings.worktree)) : undefined;
  const destination = landing?.destination ?? chosen;
  if (landing) decisions.tell({ type: 'work-plan', plan: landing.plan, work: manifest.source.work! });
  if (settings.worktree !== undefined && !landing) decisions.tell({ type: 'warning', message: '--worktree is for work carried with the session, and this one carries none: nothing goes there' });
  const skew = await versionSkewWarning(settings.env, manifest.source.copilotVersion);
  if (skew) decisions.tell({ type: 'warning', message: skew });
  // The session talks about the code as it was there: resumed on other code, say so first.
  if (destination.mapping && !landing) {
    for (const message of await checkoutDrift(manifest.source.git, destination.mapping.to)) decisions.tell({ type: 'warning', message });
  }
  // --force means "install it again" even when the copy here is this very offer.
  const previous = settings.force ? undefined : await alreadyHere(settings.home, manifest, destination.mapping?.to);
  if (previous) return { manifest, destination, previous };
  const work = landing ? { plan: landing.plan } : undefined;
  const replacing = await refuseOnError(channel, () => agreeToReplace(channel, settings, manifest.sessionId, decisions));
  // Agreeing to replace the copy here with this one is accepting it: one question, not two.
  const accepted = replacing || (await refuseOnError(channel, () => askWhileSenderWaits(channel, (signal) => decisions.acceptOffer(manifest, signal))));
  if (!accepted) await refuseSender(channel, 'the receiver said no', 'declined: nothing was installed');
  return { manifest, destination, replace: settings.force || replacing, ...(work ? { work } : {}) };
}

/**
 * A session with this id is already installed here: replaced only with --force or when the person
 * says so (the old copy is kept as a backup); otherwise the offer is refused, saying why.
 */
async function agreeToReplace(channel: SecureChannel, settings: ReceiveSettings, sessionId: string, decisions: ReceiverDecisions): Promise<boolean> {
  if (settings.force || !(await sessionExists(settings.home, sessionId))) return false;
  const replace = await askWhileSenderWaits(channel, (signal) => decisions.replaceExisting(sessionId, signal));
  if (!replace) throw existsError(settings.home, sessionId);
  return true;
}

/** Receives into staging, transforms, installs, and tells the sender how it went. */
async function installOffered(
  channel: SecureChannel,
  manifest: SessionManifest,
  destination: Destination,
  plan: WorkPlan | undefined,
  settings: ReceiveSettings,
  decisions: ReceiverDecisions,
  lifetime: Lifetime,
): Promise<InstalledSession> {
  const staging = await createStaging(settings.home);
  const forgetStaging = lifetime.defer(() => discardStaging(staging));
  // The work's pieces leave staging once verified (they are not part of the session) and wait here.
  const workDir = `${staging.dir}-work`;
  const forgetWork = lifetime.defer(() => rm(workDir, { recursive: true, force: true }));
  let landed: AppliedWork | undefined;
  let senderKnowsWhy = false;
  try {
    await channel.send(MessageKind.Accept, new Uint8Array(0));
    const writeBack = new WriteBack();
    const { move, report, leftOut } = await receiveAndTransform(channel, manifest, destination, staging, settings, decisions, plan ? workDir : undefined, writeBack);
    await channel.send(MessageKind.Reviewing, new Uint8Array(0));
    const review = reviewOf(manifest.sessionId, report, leftOut);
    if (!(await askWhileSenderWaits(channel, (signal) => decisions.installReviewed(review, signal)))) {
      senderKnowsWhy = true;
      await refuseSender(channel, 'the receiver said no after reviewing what arrived', 'declined after the review: nothing was installed');
    }
    // A beam cancelled by now reports the cancellation; it must not also install.
    if (lifetime.cancelled) throw new BeamError('interrupted', 'the beam was cancelled');
    // A disk error the early write-back saw, the installer's own pass would not see again.
    await writeBack.done();
    const work = manifest.source.work;
    let forgetLanding = (): void => undefined;
    if (plan && work) {
      const applying = applyWork({ plan, workDir, description: work });
      // A cancel while git works lets it finish (it runs detached), then takes the work back out.
      forgetLanding = lifetime.defer(async () => (await applying.catch(() => undefined))?.undo());
      landed = await applying;
      const sameStatus = landed.status === work.status;
      if (!sameStatus) decisions.tell({ type: 'warning', message: `the work landed in ${landed.root}, but its git status there differs from the source's (ignore rules may differ): check "git status"` });
    }
    if (lifetime.cancelled) throw new BeamError('interrupted', 'the beam was cancelled');
    const installed = await commitStaging(settings.home, staging, manifest.sessionId, settings.force);
    forgetStaging();
    forgetLanding();
    const applied = landed;
    landed = undefined; // installed: the work stays
    await recordReceipt(settings.home, manifest, move.mapping?.to);
    const senderTold = await tellSenderLast(channel, MessageKind.Installed, manifest.sessionId);
    if (!senderTold) decisions.tell({ type: 'warning', message: 'the session is installed, but the sender could not be told (it disconnected)' });
    const checkout = move.mapping?.to;
    return {
      outcome: 'installed',
      sessionId: manifest.sessionId,
      path: installed.target,
      ...(installed.backup ? { backup: installed.backup } : {}),
      resume: resumeCommand(manifest.sessionId, settings.home, checkout),
      ...(checkout ? { checkout } : {}),
      transform: report,
      senderTold,
      ...(applied && manifest.source.work
        ? { work: { root: applied.root, branch: applied.branch, inPlace: applied.inPlace, sameStatus: applied.status === manifest.source.work.status } }
        : {}),
    };
  } catch (error) {
    // The session was not installed: the work it brought is taken back out of the repository.
    await landed?.undo();
    const failure = toBeamError(error);
    if (!senderKnowsWhy) await channel.sendFinalAndClose(MessageKind.Failed, encodeJson({ message: failure.forPeer }));
    throw failure;
  } finally {
    forgetStaging();
    forgetWork();
    await discardStaging(staging);
    await rm(workDir, { recursive: true, force: true });
  }
}

async function receiveAndTransform(
  channel: SecureChannel,
  manifest: SessionManifest,
  destination: Destination,
  staging: Staging,
  settings: ReceiveSettings,
  decisions: ReceiverDecisions,
  workDir: string | undefined,
  writeBack: WriteBack,
): Promise<{ move: MoveDescription; report: TransformReport; leftOut: string[] }> {
  decisions.tell({ type: 'receiving', bytes: manifest.totalBytes });
  const move: MoveDescription = {
    sourceHost: displayText(manifest.source.hostname, 100),
    destinationHost: hostname(),
    movedAt: new Date(),
    ...(destination.mapping ? { mapping: destination.mapping } : {}),
  };
  // The history is rewritten while it arrives, on a thread of its own when it is long enough to
  // pay for one; the hash is checked on the bytes as sent.
  let events: { readonly report: EventTransformReport | undefined } | undefined;
  const receivingSince = performance.now();
  await receiveFiles(channel, manifest, staging.dir, {
    idleTimeoutMs: settings.idleTimeoutMs,
    writeBack,
    onProgress: (done, total) => decisions.tell({ type: 'progress', done, total }),
    handlingOf: (file, target) => {
      if (file.path !== 'events.jsonl') return undefined;
      if (file.size >= REWRITE_THREAD_FROM_BYTES) {
        const sink = new EventLogWorker(target, move);
        events = sink;
        return { sink };
      }
      const rewriter = new EventLogRewriter(move, destination.mapping ? new PathRemapper(destination.mapping) : undefined);
      events = rewriter;
      return { rewriter };
    },
  });
  const seconds = (performance.now() - receivingSince) / 1000;
  decisions.tell({ type: 'received', bytes: manifest.totalBytes, seconds });
  if (workDir) await rename(join(staging.dir, WORK_FOLDER), workDir);
  // Verified, but not the client's: never installed (a hook configuration, instructions, a repository).
  const inWork = (path: string): boolean => workDir !== undefined && (path === WORK_FOLDER || path.startsWith(`${WORK_FOLDER}/`));
  const sessionListing = { directories: manifest.directories.filter((path) => !inWork(path)), files: manifest.files.filter((file) => !inWork(file.path)) };
  const leftOut = await removeForeignEntries(staging.dir, sessionListing);
  const report = await transformReceivedSession(staging.dir, move, {
    ...(events?.report ? { rewrittenEvents: events.report } : {}),
    sessionId: manifest.sessionId,
    forbidden: [settings.home, sessionDir(settings.home, manifest.sessionId)],
  });
  decisions.tell({ type: 'transformed', destination, report });
  return { move, report, leftOut };
}

async function versionSkewWarning(env: NodeJS.ProcessEnv, sessionVersion: string | undefined): Promise<string | undefined> {
  if (!sessionVersion) return undefined;
  // Most often settled by the npm package's version, without starting the client (0.15 s).
  const installed = await copilotOlderThan(sessionVersion, env);
  if (!installed) return undefined;
  return `this session was written by Copilot CLI ${displayText(sessionVersion, 40)}, newer than the copilot here (${installed}): update it before resuming`;
}
