import { formatCode, generateCode } from '../code/code.js';
import { loadSodium } from '../crypto/sodium.js';
import { topicForNameplate } from '../crypto/key-schedule.js';
import { encodeManifest } from '../bundle/manifest.js';
import { decodeReceiverEnvironment, type ReceiverEnvironment } from '../bundle/hello.js';
import { decodeReason, encodeJson, MessageKind, peerText } from '../bundle/messages.js';
import { sendFiles } from '../bundle/send-files.js';
import { receiveAfterCredits } from '../bundle/flow-control.js';
import { BeamError, toBeamError } from '../errors.js';
import { formatBytes, formatDuration } from '../format.js';
import { copilotHome } from '../session/home.js';
import { sharedEnvironmentRisks } from '../session/environment.js';
import { prepareOutgoing, type OutgoingSession } from '../session/outgoing.js';
import { resolveBootstrap } from '../transport/bootstrap.js';
import { resolveRelay } from '../transport/relay-key.js';
import { rendezvous } from '../transport/rendezvous.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import { BeamSwarm } from '../transport/swarm.js';
import type { CommandContext, NetworkOptions } from './context.js';
import { parseDuration, parseWordCount } from './options.js';
import { renderQr } from './qr.js';
import { confirmPhrase } from './verify.js';

export interface SendOptions extends NetworkOptions {
  readonly codeLength: string;
  readonly qr: boolean;
  readonly yes?: boolean;
  readonly allowShared?: boolean;
  readonly verify?: boolean;
  readonly redact?: boolean;
}

/** How long the receiver's user may look at the offer before the sender gives up. */
const ACCEPT_TIMEOUT_MS = 10 * 60_000;

export async function runSend(query: string | undefined, options: SendOptions, context: CommandContext): Promise<void> {
  const { ui, cleanup, env } = context;
  ui.holdUntil('code');
  const codeLifetimeMs = parseDuration(options.timeout, '--timeout');
  const idleTimeoutMs = parseDuration(options.idleTimeout, '--idle-timeout');
  const code = generateCode(parseWordCount(options.codeLength));
  const bootstrap = resolveBootstrap(options.bootstrap, env);
  const relay = resolveRelay(options.relay, env);

  ui.status('scanning', 'Hashing the session and scanning it for secrets...');
  // Joining the DHT takes a while on the real network: it starts once the session is found and
  // not in use, and runs while the session is hashed and scanned.
  let swarmOpening: Promise<BeamSwarm> | undefined;
  let markLocated: () => void = () => undefined;
  const located = new Promise<void>((resolve) => (markLocated = resolve));
  const preparing = prepareOutgoing(copilotHome(env), query, process.cwd(), {
    redact: Boolean(options.redact),
    onLocated: () => {
      const opening = BeamSwarm.open({ ...(bootstrap ? { bootstrap } : {}), ...(relay ? { relay } : {}) });
      cleanup.add(async () => (await opening.catch(() => undefined))?.destroy());
      opening.catch(() => undefined);
      swarmOpening = opening;
      markLocated();
    },
  });
  const reviewed = preparing.then(async (outgoing) => {
    cleanup.add(() => outgoing.dispose());
    reportPrepared(outgoing, context);
    await reviewSecrets(outgoing, options, context);
    return outgoing;
  });
  reviewed.catch(() => undefined);
  await unlessFailed(located, reviewed);
  // The code may show while the scan still runs (the receiver starts up meanwhile) when its
  // outcome can be acted on: with --yes, or with a person to ask. Without either, secrets would
  // stop the send, so no code is shown before the scan says there are none.
  if (!options.yes && !ui.interactive) await reviewed;

  const sodiumLoading = loadSodium();
  sodiumLoading.catch(() => undefined);
  ui.status('connecting', 'Connecting to the DHT...');
  const swarm = await unlessFailed(swarmOpening!, reviewed);
  try {
    const pairing = rendezvous({
      swarm,
      sodium: sodiumLoading,
      role: 'sender',
      code,
      deadlineMs: codeLifetimeMs,
      stepTimeoutMs: idleTimeoutMs,
      onAttempt: (event) => {
        if (event === 'wrong-code') ui.warn('someone tried a wrong code');
      },
    });
    pairing.catch(() => undefined);
    await unlessFailed(swarm.announce(topicForNameplate(code.nameplate)), reviewed);
    await ui.untilNoQuestion();
    showCode(context, formatCode(code), codeLifetimeMs, options.qr);

    // HELLO goes out as soon as the receiver is paired, so it is not left waiting on our scan.
    const paired = pairing.then(async (channel) => {
      await swarm.lock();
      ui.status('paired', 'Receiver connected and proved the code.');
      await channel.send(MessageKind.Hello, encodeJson({ verify: Boolean(options.verify) }));
      return channel;
    });
    paired.catch(() => undefined);
    let outgoing: OutgoingSession;
    try {
      outgoing = await unlessFailed(reviewed, paired);
    } catch (error) {
      // A scan or a decision that ends the send tells a receiver already paired why.
      const channel = await Promise.race([paired, Promise.resolve(undefined)]).catch(() => undefined);
      await channel?.sendFinalAndClose(MessageKind.Abort, encodeJson({ message: toBeamError(error).message }));
      throw error;
    }
    const channel = await paired;
    await introduce(channel, options, context);
    await transfer(channel, outgoing, context, idleTimeoutMs);
  } finally {
    await swarm.destroy();
  }
}

/** `step`, unless `watched` fails first: then that failure, without waiting for `step`. */
function unlessFailed<T>(step: Promise<T>, watched: Promise<unknown>): Promise<T> {
  return Promise.race([step, watched.then(() => new Promise<never>(() => undefined))]);
}

function reportPrepared(outgoing: OutgoingSession, context: CommandContext): void {
  const { manifest } = outgoing;
  const name = manifest.sessionName ? ` "${peerText(manifest.sessionName, 80)}"` : '';
  context.ui.status('prepared', `Session ${manifest.sessionId}${name}: ${manifest.files.length} files, ${formatBytes(manifest.totalBytes)}`, {
    sessionId: manifest.sessionId,
    files: manifest.files.length,
    bytes: manifest.totalBytes,
  });
}

function showCode(context: CommandContext, code: string, lifetimeMs: number, qr: boolean): void {
  const { ui } = context;
  const command = `copilot-beam receive ${code}`;
  const lines = ['On the other machine, run:', '', `    ${command}`, ''];
  if (qr && ui.interactive) lines.push(renderQr(command));
  lines.push(`The code works once and expires in ${formatDuration(lifetimeMs)}. Waiting for the receiver...`);
  ui.result('code', { code, expiresInSeconds: Math.round(lifetimeMs / 1000) }, lines);
}

/** Shows what the scan found (kinds and counts, never values) and asks before sending it as is. */
async function reviewSecrets(outgoing: OutgoingSession, options: SendOptions, context: CommandContext): Promise<void> {
  const { ui } = context;
  const { found, kinds, filesScanned, bytesScanned, redacted } = outgoing.secrets;
  const byKind = Object.entries(kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
  const scanned = `Scanned ${filesScanned} text files (${formatBytes(bytesScanned)})`;
  const verdict = found === 0 ? 'no secrets found.' : `found ${found} secret(s): ${byKind}${redacted ? ' (each will be replaced by a marker in what is sent)' : ''}.`;
  ui.result('secrets', { found, redacted, kinds, filesScanned, bytesScanned }, [`${scanned}: ${verdict}`]);
  if (found === 0 || redacted) return;
  ui.alarm(`${found} secret(s) would travel as they are; --redact replaces them in the copy that is sent`);
  if (!(await ui.confirm('Send them unredacted?', { assumeYes: Boolean(options.yes) }))) {
    throw new BeamError('declined', 'not sent: run again with --redact to replace the secrets, or remove them first');
  }
}

/**
 * Before the session is even named: the phrase check if either side asked for it, then who the
 * receiver is. A shared machine is flagged; with --yes it is refused unless --allow-shared.
 */
async function introduce(channel: SecureChannel, options: SendOptions, context: CommandContext): Promise<void> {
  const { ui } = context;
  // HELLO was sent on pairing; the receiver answers with its environment.
  const reply = await channel.receive(ACCEPT_TIMEOUT_MS, 'the receiver');
  if (reply.kind === MessageKind.Reject) throw new BeamError('declined', `the receiver declined: ${decodeReason(reply.body)}`);
  if (reply.kind !== MessageKind.Environment) throw new BeamError('protocol', 'the receiver broke the protocol (expected its environment)');
  const receiver = decodeReceiverEnvironment(reply.body);
  const stop = async (message: string): Promise<never> => {
    await channel.sendFinalAndClose(MessageKind.Abort, encodeJson({ message }));
    throw new BeamError('declined', `${message}: nothing was sent`);
  };
  if ((options.verify || receiver.verify) && !(await confirmPhrase(context, channel.verificationKey))) {
    await stop('the verification phrases did not match');
  }

  describeReceiver(context, receiver);
  const risks = sharedEnvironmentRisks(receiver, context.env);
  for (const risk of risks) ui.alarm(`${risk}: the session may be readable by others there`);
  if (risks.length > 0 && options.yes && !options.allowShared) {
    await stop('the sender refused to send to a shared machine (use --allow-shared to send anyway)');
  }
  if (!(await ui.confirm(`Send the session to ${peerText(receiver.user, 60)}@${peerText(receiver.hostname, 100)}?`, { assumeYes: Boolean(options.yes) }))) {
    await stop('the sender said no');
  }
}

function describeReceiver(context: CommandContext, receiver: ReceiverEnvironment): void {
  const codespace = receiver.codespace;
  const lines = [
    'The receiver is:',
    `  host        ${peerText(receiver.hostname)} (${peerText(receiver.platform)})`,
    `  user        ${peerText(receiver.user)}`,
    ...(codespace ? [`  codespace   ${peerText(codespace.name ?? '(unnamed)')} owned by ${peerText(codespace.owner ?? 'an unknown user')}`] : []),
    ...(receiver.repository ? [`  repository  ${peerText(receiver.repository)}`] : []),
  ];
  context.ui.result('receiver', { ...receiver }, lines);
}

async function transfer(
  channel: SecureChannel,
  outgoing: OutgoingSession,
  context: CommandContext,
  idleTimeoutMs: number,
): Promise<void> {
  const { ui } = context;
  const { manifest } = outgoing;
  await channel.send(MessageKind.Offer, encodeManifest(manifest));
  ui.status('offered', 'Waiting for the receiver to accept...');
  const answer = await channel.receive(ACCEPT_TIMEOUT_MS, 'the receiver');
  if (answer.kind === MessageKind.Reject) {
    throw new BeamError('declined', `the receiver declined: ${decodeReason(answer.body)}`);
  }
  if (answer.kind !== MessageKind.Accept) throw new BeamError('protocol', 'the receiver broke the protocol (expected accept or reject)');

  await sendFiles(channel, (file) => outgoing.locate(file), manifest, (done, total) => ui.progress('sending', done, total), idleTimeoutMs);
  const outcome = await receiveAfterCredits(channel, idleTimeoutMs);
  if (outcome.kind === MessageKind.Failed) {
    throw new BeamError('install', `the receiver could not install the session: ${decodeReason(outcome.body)}`);
  }
  if (outcome.kind !== MessageKind.Installed || !outcome.final) {
    throw new BeamError('protocol', 'the receiver broke the protocol (expected its install report)');
  }
  await channel.finish();
  ui.result('done', { sessionId: manifest.sessionId, bytes: manifest.totalBytes }, [
    `Sent ${formatBytes(manifest.totalBytes)}: the receiver installed session ${manifest.sessionId}.`,
  ]);
}
