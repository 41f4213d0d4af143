import { hostname } from 'node:os';
import { parseCode } from '../code/code.js';
import { completeCodeLine } from '../code/complete.js';
import { loadSodium } from '../crypto/sodium.js';
import { topicForNameplate } from '../crypto/key-schedule.js';
import { DEFAULT_LIMITS, type BundleLimits } from '../bundle/limits.js';
import { decodeManifest, type Manifest } from '../bundle/manifest.js';
import { decodeSenderHello } from '../bundle/hello.js';
import { decodeReason, encodeJson, MessageKind, peerText } from '../bundle/messages.js';
import { receiveFiles } from '../bundle/receive-files.js';
import { BeamError, toBeamError } from '../errors.js';
import { formatBytes } from '../format.js';
import { copilotHome } from '../session/home.js';
import {
  assertRoomFor,
  commitStaging,
  createStaging,
  discardStaging,
  existsError,
  removeAbandonedStaging,
  sessionExists,
} from '../session/install.js';
import { compareVersions, installedCopilotVersion } from '../session/copilot-version.js';
import { chooseDestination, type Destination } from '../session/destination.js';
import { describeReceiver } from '../session/environment.js';
import { confirmPhrase } from './verify.js';
import { EventLogRewriter, PathRemapper, transformReceivedSession, type MoveDescription, type TransformReport } from '../session/transform/index.js';
import { resolveBootstrap } from '../transport/bootstrap.js';
import { resolveRelay } from '../transport/relay-key.js';
import { rendezvous } from '../transport/rendezvous.js';
import type { SecureChannel } from '../transport/secure-channel.js';
import { BeamSwarm } from '../transport/swarm.js';
import { CODE_ENV, type CommandContext, type NetworkOptions } from './context.js';
import { parseDuration, parseSize } from './options.js';
import { resumeCommand } from './resume-line.js';

export interface ReceiveOptions extends NetworkOptions {
  readonly force?: boolean;
  readonly maxSize: string;
  readonly cwd?: string;
  readonly yes?: boolean;
  readonly verify?: boolean;
}


export async function runReceive(codeArgument: string | undefined, options: ReceiveOptions, context: CommandContext): Promise<void> {
  const { ui, cleanup, env } = context;
  // The code need not sit in the process list: it may come from the environment or stdin.
  const codeText = codeArgument ?? env[CODE_ENV] ?? (await ui.ask('Code from the sender (Tab completes words): ', completeCodeLine));
  if (codeText === undefined || codeText.trim() === '') {
    throw new BeamError('usage', `give the code: copilot-beam receive <code>, ${CODE_ENV}, or on standard input`);
  }
  const code = parseCode(codeText);
  const searchTimeoutMs = parseDuration(options.timeout, '--timeout');
  const idleTimeoutMs = parseDuration(options.idleTimeout, '--idle-timeout');
  const limits: BundleLimits = { ...DEFAULT_LIMITS, maxTotalBytes: parseSize(options.maxSize, '--max-size') };
  const bootstrap = resolveBootstrap(options.bootstrap, env);
  const relay = resolveRelay(options.relay, env);
  const home = copilotHome(env);
  // libsodium (for the PAKE) loads while we join the DHT; only the pairing needs it.
  const sodiumLoading = loadSodium();
  await removeAbandonedStaging(home);

  ui.status('connecting', 'Connecting to the DHT...');
  const swarm = await BeamSwarm.open({ ...(bootstrap ? { bootstrap } : {}), ...(relay ? { relay } : {}) });
  cleanup.add(() => swarm.destroy());
  try {
    const pairing = rendezvous({ swarm, sodium: sodiumLoading, role: 'receiver', code, deadlineMs: searchTimeoutMs, stepTimeoutMs: idleTimeoutMs });
    swarm.lookup(topicForNameplate(code.nameplate));
    ui.status('looking', `Looking for the sender of code ${code.nameplate}...`);
    const channel = await pairing;
    await swarm.lock();
    ui.status('paired', 'Connected; the sender proved the code.');
    await receiveSession(
      channel,
      {
        home,
        limits,
        idleTimeoutMs,
        force: Boolean(options.force),
        yes: Boolean(options.yes),
        verify: Boolean(options.verify),
        cwdOption: options.cwd,
      },
      context,
    );
  } finally {
    await swarm.destroy();
  }
}

interface ReceiveSettings {
  readonly home: string;
  readonly limits: BundleLimits;
  readonly idleTimeoutMs: number;
  readonly force: boolean;
  readonly yes: boolean;
  readonly verify: boolean;
  readonly cwdOption: string | undefined;
}

/** How long the sender's user may take to look at who we are before it offers the session. */
const SENDER_DECISION_TIMEOUT_MS = 10 * 60_000;

async function receiveSession(channel: SecureChannel, settings: ReceiveSettings, context: CommandContext): Promise<void> {
  const { ui, cleanup } = context;
  const hello = await channel.receive(settings.idleTimeoutMs, 'the sender');
  if (hello.kind !== MessageKind.Hello) throw new BeamError('protocol', 'the sender broke the protocol (expected its hello)');
  const senderWantsCheck = await refuseOnError(channel, async () => decodeSenderHello(hello.body).verify);
  if (settings.verify || senderWantsCheck) {
    const matched = await refuseOnError(channel, () => confirmPhrase(context, channel.verificationKey));
    if (!matched) {
      await channel.sendFinalAndClose(MessageKind.Reject, encodeJson({ message: 'the verification phrases did not match' }));
      throw new BeamError('declined', 'the verification phrases did not match: nothing was received');
    }
  }
  await channel.send(MessageKind.Environment, encodeJson(await describeReceiver(context.env, process.cwd(), settings.verify)));
  ui.status('introduced', 'Waiting for the sender to confirm...');

  const offer = await channel.receive(SENDER_DECISION_TIMEOUT_MS, 'the sender');
  if (offer.kind === MessageKind.Abort) throw new BeamError('declined', `the sender stopped: ${decodeReason(offer.body)}`);
  if (offer.kind !== MessageKind.Offer) throw new BeamError('protocol', 'the sender broke the protocol (expected its offer)');
  const manifest = await refuseOnError(channel, async () => {
    const checked = decodeManifest(offer.body, settings.limits);
    if (!settings.force && (await sessionExists(settings.home, checked.sessionId))) throw existsError(settings.home, checked.sessionId);
    await assertRoomFor(settings.home, checked.totalBytes);
    return checked;
  });

  describeOffer(context, manifest);
  const destination = await refuseOnError(channel, () =>
    chooseDestination(manifest.source, { cwdOption: settings.cwdOption, currentDir: process.cwd() }),
  );
  await warnAboutVersionSkew(context, manifest.source.copilotVersion);
  const accepted = await refuseOnError(channel, () => ui.confirm('Accept this session?', { assumeYes: settings.yes }));
  if (!accepted) {
    await channel.sendFinalAndClose(MessageKind.Reject, encodeJson({ message: 'the receiver said no' }));
    throw new BeamError('declined', 'declined: nothing was installed');
  }

  const staging = await createStaging(settings.home);
  const forgetStaging = cleanup.add(() => discardStaging(staging));
  try {
    await channel.send(MessageKind.Accept, new Uint8Array(0));
    ui.status('receiving', `Receiving ${formatBytes(manifest.totalBytes)}...`, { bytes: manifest.totalBytes });
    const move: MoveDescription = {
      sourceHost: peerText(manifest.source.hostname, 100),
      destinationHost: hostname(),
      movedAt: new Date(),
      ...(destination.mapping ? { mapping: destination.mapping } : {}),
    };
    // The history is rewritten while it arrives; the hash is checked on the bytes as sent.
    const events = new EventLogRewriter(move, destination.mapping ? new PathRemapper(destination.mapping) : undefined);
    const receivingSince = performance.now();
    await receiveFiles(channel, manifest, staging.dir, {
      idleTimeoutMs: settings.idleTimeoutMs,
      onProgress: (done, total) => ui.progress('receiving', done, total),
      rewriterFor: (file) => (file.path === 'events.jsonl' ? events : undefined),
    });
    const seconds = (performance.now() - receivingSince) / 1000;
    ui.status('received', `Received and verified ${formatBytes(manifest.totalBytes)} in ${seconds.toFixed(1)} s`, {
      bytes: manifest.totalBytes,
      seconds: Math.round(seconds * 1000) / 1000,
    });
    const report = await transformReceivedSession(staging.dir, move, events.report ? { rewrittenEvents: events.report } : {});
    describeTransform(context, destination, report);
    const installed = await commitStaging(settings.home, staging, manifest.sessionId, settings.force);
    forgetStaging();
    // Installed is installed: a sender that vanished now does not make this a failure.
    try {
      await channel.send(MessageKind.Installed, encodeJson({ sessionId: manifest.sessionId, hostname: hostname() }), true);
      await channel.finish();
    } catch {
      ui.warn('the session is installed, but the sender could not be told (it disconnected)');
    }
    const resume = resumeCommand(manifest.sessionId, context.env, destination.mapping?.to);
    const summary = {
      cwd: destination.mapping?.to ?? null,
      neutralisedToolCalls: report.neutralisedToolCalls.length,
      droppedApprovals: report.droppedApprovals,
      modeReset: report.modeReset ?? null,
      permissionReset: report.permissionReset ?? null,
    };
    ui.result('done', { sessionId: manifest.sessionId, path: installed.target, backup: installed.backup ?? null, resume, ...summary }, [
      `Installed session ${manifest.sessionId} in ${installed.target}`,
      ...(installed.backup ? [`The session it replaced is kept in ${installed.backup}`] : []),
      'Resume it with:',
      '',
      `    ${resume}`,
    ]);
  } catch (error) {
    const failure = toBeamError(error);
    await channel.sendFinalAndClose(MessageKind.Failed, encodeJson({ message: failure.message }));
    throw failure;
  } finally {
    forgetStaging();
    await discardStaging(staging);
  }
}

/** A check that fails before the transfer also tells the sender why, so both sides exit clearly. */
async function refuseOnError<T>(channel: SecureChannel, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    const failure = toBeamError(error);
    await channel.sendFinalAndClose(MessageKind.Reject, encodeJson({ message: failure.message }));
    throw failure;
  }
}

function describeTransform(context: CommandContext, destination: Destination, report: TransformReport): void {
  const { ui } = context;
  if (destination.mapping) {
    ui.status('remapped', `Paths: ${peerText(destination.mapping.from)} -> ${destination.mapping.to} (${destination.reason})`);
  } else {
    ui.warn(`paths not remapped: ${destination.reason}`);
  }
  if (report.neutralisedToolCalls.length > 0) {
    ui.status('neutralised', `${report.neutralisedToolCalls.length} unfinished tool call(s) marked as not executed; they will not run here.`);
  }
  const dropped = [
    ...(report.modeReset ? [`${report.modeReset} mode`] : []),
    ...(report.permissionReset ? [`${report.permissionReset} permissions`] : []),
    ...(report.droppedApprovals > 0 ? [`${report.droppedApprovals} skill tool approval(s)`] : []),
  ];
  if (dropped.length > 0) ui.status('permissions', `Dropped from the source: ${dropped.join(', ')}. Approvals start afresh here.`);
}

async function warnAboutVersionSkew(context: CommandContext, sessionVersion: string | undefined): Promise<void> {
  if (!sessionVersion) return;
  const installed = await installedCopilotVersion(context.env);
  if (installed && compareVersions(installed, sessionVersion) < 0) {
    context.ui.warn(
      `this session was written by Copilot CLI ${peerText(sessionVersion, 40)}, newer than the copilot here (${installed}): update it before resuming`,
    );
  }
}

function describeOffer(context: CommandContext, manifest: Manifest): void {
  const { source } = manifest;
  const lines = [
    'Incoming session:',
    `  from        ${peerText(source.hostname)} (${peerText(source.platform)})`,
    `  session     ${manifest.sessionId}`,
    `  name        ${peerText(manifest.sessionName ?? '(unnamed)')}`,
    `  size        ${formatBytes(manifest.totalBytes)} in ${manifest.files.length} files`,
    ...(source.cwd ? [`  folder      ${peerText(source.cwd)}`] : []),
    ...(source.git?.remote ? [`  repository  ${peerText(source.git.remote)}`] : []),
    `  secrets     ${describeSecrets(manifest)}`,
  ];
  context.ui.result(
    'offer',
    {
      sessionId: manifest.sessionId,
      sessionName: manifest.sessionName ?? null,
      hostname: source.hostname,
      platform: source.platform,
      copilotVersion: source.copilotVersion ?? null,
      files: manifest.files.length,
      bytes: manifest.totalBytes,
      secrets: manifest.secrets ?? null,
    },
    lines,
  );
  const unredacted = manifest.secrets && !manifest.secrets.redacted ? manifest.secrets.found : 0;
  if (unredacted > 0) context.ui.alarm(`${unredacted} secret(s) travel unredacted in this session`);
}

function describeSecrets(manifest: Manifest): string {
  const report = manifest.secrets;
  if (!report) return 'not scanned by the sender';
  if (report.found === 0) return "none found by the sender's scan";
  const kinds = Object.entries(report.kinds).map(([kind, count]) => `${count} ${peerText(kind, 60)}`).join(', ');
  return `${report.found} ${report.redacted ? 'redacted' : 'UNREDACTED'} (${kinds})`;
}
