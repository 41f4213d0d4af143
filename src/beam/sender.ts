import { DEFAULT_CODE_WORDS, formatCode, generateCode } from '../code/code.js';
import { verificationPhrase } from '../code/phrase.js';
import { receiveAfterCredits } from '../bundle/flow-control.js';
import { decodeReceiverEnvironment, decodeReceiverHello, type SenderHello } from '../bundle/hello.js';
import { encodeManifest } from '../bundle/manifest.js';
import { decodeReason, encodeJson, MessageKind } from '../bundle/messages.js';
import { sendFiles, SourceChangedError } from '../bundle/send-files.js';
import { BeamError, toBeamError } from '../errors.js';
import { sharedEnvironmentRisks } from '../session/environment.js';
import { prepareOutgoing, startScanThreadsEarly, stopEarlyScanThreads, type OutgoingSession } from '../session/outgoing.js';
import { rendezvous, type PeerSwarm } from '../transport/rendezvous.js';
import type { SealedMessage, SecureChannel } from '../transport/secure-channel.js';
import type { SenderDecisions } from './decisions.js';
import { withLifetime, type Lifetime } from './lifetime.js';
import { joinNetwork, sodiumForPairing, type NetworkSettings } from './network.js';
import { askWhilePeerWaits, withPeerReason } from './peer-leaving.js';
import { unlessFailed } from './steps.js';
import { workToCarry } from './carry-work.js';
import { DEFAULT_CODE_LIFETIME_MS, DEFAULT_IDLE_TIMEOUT_MS, PERSON_TIMEOUT_MS } from './timeouts.js';

export interface SendRequest {
  /** The Copilot home to send from (COPILOT_HOME, usually ~/.copilot). */
  readonly copilotHome: string;
  /** Session id, unique id prefix or name; absent: the newest session of `currentDir`'s checkout. */
  readonly session?: string;
  readonly currentDir: string;
  /** Words in the one-time code, 2 to 8: more words, a stronger code. */
  readonly codeWords?: number;
  /** How long the code may wait for a receiver. */
  readonly codeLifetimeMs?: number;
  /** How long the connected receiver may stay silent while it owes an answer. */
  readonly idleTimeoutMs?: number;
  /** Replace every secret the scan finds with a marker in what is sent (never in the session). */
  readonly redact?: boolean;
  /** Both people compare a phrase before the session is named. */
  readonly verify?: boolean;
  /**
   * The work in progress of the session's checkout (unpushed commits, staged and unstaged
   * changes, untracked files): true carries it, false leaves it, undefined asks `carryWork`
   * when there is any.
   */
  readonly withChanges?: boolean;
  /**
   * Show the code while the scan still runs, so the receiver starts up meanwhile. Only when the
   * scan's outcome can be acted on: `sendUnredacted` is answered by a person, or always yes.
   */
  readonly showCodeDuringScan?: boolean;
  /** Stop rather than ask when the receiver's machine may be shared (an unattended sender). */
  readonly refuseSharedReceivers?: boolean;
  /** The sender's GitHub login, to notice a Codespace that belongs to someone else. */
  readonly githubLogin?: string;
  readonly network?: NetworkSettings;
  /** Cancels the beam: the receiver is disconnected and nothing is left behind. */
  readonly signal?: AbortSignal;
}

export interface SendResult {
  readonly sessionId: string;
  /** Bytes of session sent: 0 when the receiver had it already. */
  readonly bytes: number;
  /**
   * The receiver holds this session at this very point already (received from the same offer and
   * unchanged since): nothing was sent.
   */
  readonly alreadyThere: boolean;
}

/**
 * Sends one Copilot session: finds it, hashes and scans it, shows a one-time code, pairs with
 * the receiver that proves it, introduces both sides, streams the session and waits for the
 * receiver's install report. The session folder is only ever read.
 */
export function send(request: SendRequest, decisions: SenderDecisions): Promise<SendResult> {
  return withLifetime(request.signal, (lifetime) => runSender(request, guarded(decisions, lifetime), lifetime));
}

/** Nobody is told or asked anything once the beam is cancelled, and no answer is awaited. */
function guarded(decisions: SenderDecisions, lifetime: Lifetime): SenderDecisions {
  return {
    tell: (news) => lifetime.tell(() => decisions.tell(news)),
    showCode: (code) => lifetime.ask(async () => decisions.showCode(code)),
    sendUnredacted: (secrets) => lifetime.ask(() => decisions.sendUnredacted(secrets)),
    sendRedactedInstead: (secrets) => lifetime.ask(() => decisions.sendRedactedInstead(secrets)),
    carryWork: (summary) => lifetime.ask(() => decisions.carryWork(summary)),
    phraseMatches: (phrase, signal) => lifetime.ask(() => decisions.phraseMatches(phrase, signal)),
    sendTo: (receiver, risks, signal) => lifetime.ask(() => decisions.sendTo(receiver, risks, signal)),
  };
}

async function runSender(request: SendRequest, decisions: SenderDecisions, lifetime: Lifetime): Promise<SendResult> {
  const code = generateCode(request.codeWords ?? DEFAULT_CODE_WORDS);
  const codeLifetimeMs = request.codeLifetimeMs ?? DEFAULT_CODE_LIFETIME_MS;
  const idleTimeoutMs = request.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

  // The scan's threads load their rules while the session is found and the DHT joined.
  startScanThreadsEarly();
  lifetime.defer(stopEarlyScanThreads);
  const { located, reviewed, asking } = prepareWhileJoining(request, decisions, lifetime);
  const joining = await unlessFailed(located, reviewed);
  if (!request.showCodeDuringScan) await reviewed;

  const sodium = sodiumForPairing();
  decisions.tell({ type: 'connecting' });
  const swarm = await unlessFailed(joining.swarm, reviewed);
  const meeting = rendezvous({
    swarm,
    sodium,
    role: 'sender',
    code,
    deadlineMs: codeLifetimeMs,
    stepTimeoutMs: idleTimeoutMs,
    onAttempt: (event) => {
      if (event.kind === 'failed') decisions.tell({ type: 'wrong-code', attemptsLeft: event.attemptsLeft });
    },
  });
  await unlessFailed(meeting.ready, reviewed);
  // The code does not cut into an open question about secrets, and is never shown when its
  // answer stops the send.
  if (asking()) await reviewed;
  await decisions.showCode({ code: formatCode(code), expiresInMs: codeLifetimeMs });

  const paired = meeting.paired.then((channel) => {
    // Ctrl-C (or the embedding tool's abort) from here on is told to the receiver, in words.
    lifetime.onAbort(() => channel.cancel('the sender cancelled'));
    decisions.tell({ type: 'paired' });
    return channel;
  });
  // Awaited only once the scan is through; a failure before that has nobody waiting on it.
  paired.catch(() => undefined);
  const outgoing = await unlessFailed(reviewed, paired).catch((error: unknown) => tellPairedReceiver(paired, error));
  const channel = await paired;
  await introduce(channel, request, decisions);
  return transfer(channel, outgoing, decisions, idleTimeoutMs);
}

/**
 * Finds the session and starts hashing and scanning it. Joining the DHT takes a while on the
 * real network: it starts as soon as the session is found and not in use, alongside the scan.
 */
function prepareWhileJoining(
  request: SendRequest,
  decisions: SenderDecisions,
  lifetime: Lifetime,
): { located: Promise<{ readonly swarm: Promise<PeerSwarm> }>; reviewed: Promise<OutgoingSession>; asking: () => boolean } {
  let questionOpen = false;
  let markLocated: (joining: { readonly swarm: Promise<PeerSwarm> }) => void = () => undefined;
  const located = new Promise<{ readonly swarm: Promise<PeerSwarm> }>((resolve) => (markLocated = resolve));
  const preparing = prepareOutgoing(request.copilotHome, request.session, request.currentDir, {
    redact: Boolean(request.redact),
    onTemporaryFolder: (remove) => lifetime.defer(remove),
    work: (gitRoot) =>
      workToCarry(
        gitRoot,
        {
          withChanges: request.withChanges,
          ask: async (summary) => {
            questionOpen = true;
            return decisions.carryWork(summary);
          },
          tell: (summary, carried) => decisions.tell({ type: 'work', summary, carried }),
          cannotCarry: (reason) => decisions.tell({ type: 'work-not-carried', reason }),
        },
        lifetime,
      ),
    // Only a session that exists and is not in use is hashed, so only then is it said.
    onLocated: () => {
      decisions.tell({ type: 'scanning' });
      markLocated({ swarm: joinNetwork(request.network ?? {}, lifetime) });
    },
  });
  const reviewed = preparing.then(async (outgoing) => {
    lifetime.defer(() => outgoing.dispose());
    const { manifest } = outgoing;
    decisions.tell({
      type: 'prepared',
      sessionId: manifest.sessionId,
      ...(manifest.sessionName ? { sessionName: manifest.sessionName } : {}),
      files: manifest.files.length,
      bytes: manifest.totalBytes,
      leftOut: outgoing.leftOut,
    });
    decisions.tell({ type: 'secrets', summary: outgoing.secrets });
    if (!needsConsent(outgoing)) return outgoing;
    questionOpen = true;
    if (await decisions.sendUnredacted(outgoing.secrets)) return outgoing;
    if (!(await decisions.sendRedactedInstead(outgoing.secrets))) {
      // The receiver has not been verified yet: it is not told that the session holds secrets.
      throw new BeamError('declined', 'not sent: run again with --redact to replace the secrets, or remove them first', {
        forPeer: 'the sender chose not to send the session',
      });
    }
    return redactedInstead(request, outgoing, decisions, lifetime);
  });
  // Raced against the network below; when the network fails first nobody awaits this.
  reviewed.catch(() => undefined);
  return { located, reviewed, asking: () => questionOpen };
}

/** Secrets found (kinds and counts only ever leave the scan) and not redacted: a person decides. */
function needsConsent(outgoing: OutgoingSession): boolean {
  return outgoing.secrets.found > 0 && !outgoing.secrets.redacted;
}

/** The same session scanned again, this time writing redacted copies to send instead. */
async function redactedInstead(request: SendRequest, unredacted: OutgoingSession, decisions: SenderDecisions, lifetime: Lifetime): Promise<OutgoingSession> {
  decisions.tell({ type: 'scanning' });
  const redacted = await prepareOutgoing(request.copilotHome, unredacted.manifest.sessionId, request.currentDir, {
    redact: true,
    onTemporaryFolder: (remove) => lifetime.defer(remove),
    // The same work as before: captured and decided on once.
    work: async () => unredacted.work,
  });
  lifetime.defer(() => redacted.dispose());
  await unredacted.dispose();
  decisions.tell({ type: 'secrets', summary: redacted.secrets });
  return redacted;
}

/** A scan or a decision that ends the send tells a receiver that already paired why. */
async function tellPairedReceiver(paired: Promise<SecureChannel>, error: unknown): Promise<never> {
  const channel = await Promise.race([paired, Promise.resolve(undefined)]).catch(() => undefined);
  await channel?.sendFinalAndClose(MessageKind.Abort, encodeJson({ message: toBeamError(error).forPeer }));
  throw error;
}

/**
 * Before the session is even named: the phrase check if either side asked for it, shown on both
 * sides at once, then who the receiver is. A machine that may be shared is reported, and refused
 * when the request says so.
 */
async function introduce(channel: SecureChannel, request: SendRequest, decisions: SenderDecisions): Promise<void> {
  // The receiver said on pairing whether it wants the phrase check; our HELLO says whether it is on.
  const greeting = await channel.receive(PERSON_TIMEOUT_MS, 'the receiver');
  if (greeting.kind === MessageKind.Reject) throw receiverDeclined(greeting.body);
  if (greeting.kind !== MessageKind.ReceiverHello) throw new BeamError('protocol', 'the receiver broke the protocol (expected its hello)');
  const hello: SenderHello = { verify: Boolean(request.verify) || decodeReceiverHello(greeting.body).verify };
  await channel.send(MessageKind.Hello, encodeJson(hello));
  const stop = async (message: string): Promise<never> => {
    await channel.sendFinalAndClose(MessageKind.Abort, encodeJson({ message }));
    throw new BeamError('declined', `${message}: nothing was sent`);
  };
  const ask = <T>(question: (signal: AbortSignal) => Promise<T>): Promise<T> => askWhilePeerWaits(channel, 'the receiver', question);
  if (hello.verify) {
    const phrase = verificationPhrase(channel.verificationKey);
    if (!(await ask((signal) => decisions.phraseMatches(phrase, signal)))) await stop('the verification phrases did not match');
  }
  // The receiver describes itself once its person, too, has confirmed the phrase.
  const reply = await channel.receive(PERSON_TIMEOUT_MS, 'the receiver');
  if (reply.kind === MessageKind.Reject) throw receiverDeclined(reply.body);
  if (reply.kind !== MessageKind.Environment) throw new BeamError('protocol', 'the receiver broke the protocol (expected its environment)');
  const receiver = decodeReceiverEnvironment(reply.body);
  const risks = sharedEnvironmentRisks(receiver, request.githubLogin);
  decisions.tell({ type: 'receiver', receiver, risks });
  if (risks.length > 0 && request.refuseSharedReceivers) {
    await stop('the sender refused to send to a shared machine (use --allow-shared to send anyway)');
  }
  if (!(await ask((signal) => decisions.sendTo(receiver, risks, signal)))) await stop('the sender said no');
}

async function transfer(channel: SecureChannel, outgoing: OutgoingSession, decisions: SenderDecisions, idleTimeoutMs: number): Promise<SendResult> {
  const { manifest } = outgoing;
  await channel.send(MessageKind.Offer, encodeManifest(manifest));
  decisions.tell({ type: 'offered' });
  const answer = await channel.receive(PERSON_TIMEOUT_MS, 'the receiver');
  if (answer.kind === MessageKind.Reject) throw receiverDeclined(answer.body);
  if (answer.kind === MessageKind.AlreadyHere && answer.final) return { sessionId: manifest.sessionId, bytes: 0, alreadyThere: true };
  if (answer.kind !== MessageKind.Accept) throw new BeamError('protocol', 'the receiver broke the protocol (expected accept or reject)');

  try {
    await sendFiles(channel, (file) => outgoing.locate(file), manifest, {
      onProgress: (done, total) => decisions.tell({ type: 'progress', done, total }),
      creditTimeoutMs: idleTimeoutMs,
      identityOf: (file) => outgoing.identityOf(file),
    });
  } catch (error) {
    if (!(error instanceof SourceChangedError)) throw await withPeerReason(channel, 'the receiver', error);
    const message = `the session changed while it was being sent (${error.path}); close Copilot and send again`;
    await channel.sendFinalAndClose(MessageKind.Abort, encodeJson({ message }));
    throw new BeamError('session', `${message}: nothing was installed on the other side`);
  }
  const outcome = await installReport(channel, decisions, idleTimeoutMs);
  if (outcome.kind === MessageKind.Reject) throw receiverDeclined(outcome.body);
  if (outcome.kind === MessageKind.Failed) {
    throw new BeamError('install', `the receiver could not install the session: ${decodeReason(outcome.body)}`);
  }
  if (outcome.kind !== MessageKind.Installed || !outcome.final) {
    throw new BeamError('protocol', 'the receiver broke the protocol (expected its install report)');
  }
  await channel.finish();
  return { sessionId: manifest.sessionId, bytes: manifest.totalBytes, alreadyThere: false };
}

/** The receiver said no (a person there, or a check it made), with its reason. */
function receiverDeclined(body: Uint8Array): BeamError {
  return new BeamError('declined', `the receiver declined: ${decodeReason(body)}`);
}

/** The receiver's last word after END; while its person reviews the content, we wait for them. */
async function installReport(channel: SecureChannel, decisions: SenderDecisions, idleTimeoutMs: number): Promise<SealedMessage> {
  const first = await receiveAfterCredits(channel, idleTimeoutMs);
  if (first.kind !== MessageKind.Reviewing) return first;
  decisions.tell({ type: 'reviewing' });
  return channel.receive(PERSON_TIMEOUT_MS, 'the receiver');
}
