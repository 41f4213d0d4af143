import { BOOTSTRAP_ENV } from '../beam/network.js';
import {
  networkSettings,
  send,
  type ReceiverEnvironment,
  type SecretSummary,
  type SenderDecisions,
  type SenderNews,
  type SendRequest,
} from '../beam/index.js';
import { BeamError } from '../errors.js';
import { formatBytes, formatDuration } from '../format.js';
import type { WorkSummary } from '../session/work/description.js';
import { githubLogin } from '../session/environment.js';
import { copilotHome } from '../session/home.js';
import { displayText } from '../terminal-text.js';
import { lendYoungGenerationCollector } from '../transport/young-garbage.js';
import type { CommandContext, NetworkOptions } from './context.js';
import { cancelOnInterrupt } from './interrupt.js';
import { noTerminalError } from './ui.js';
import { parseDuration, parseWordCount } from './options.js';
import { pickSession } from './pick-session.js';
import { renderQr } from './qr.js';
import { secretLocationLines } from './secret-locations.js';
import { confirmPhrase } from './verify.js';

export interface SendOptions extends NetworkOptions {
  readonly codeLength: string;
  readonly qr: boolean;
  readonly withChanges?: boolean;
  /** False with --no-changes (commander's negation); true otherwise. */
  readonly changes?: boolean;
  readonly yes?: boolean;
  readonly allowShared?: boolean;
  readonly verify?: boolean;
  readonly redact?: boolean;
}

export async function runSend(query: string | undefined, options: SendOptions, context: CommandContext): Promise<void> {
  const { ui, env } = context;
  // Before any thread starts (see young-garbage.ts): this process is ours, and its peak memory.
  lendYoungGenerationCollector();
  const yes = Boolean(options.yes);
  const home = copilotHome(env);
  // Without a session named, a person at a terminal picks one; anyone else gets this checkout's newest.
  const session = query ?? (ui.canAsk && !yes && !ui.json ? await pickSession(context, home, process.cwd()) : undefined);
  ui.holdUntil('code');
  const request: Omit<SendRequest, 'signal'> = {
    copilotHome: home,
    ...(session === undefined ? {} : { session }),
    currentDir: process.cwd(),
    codeLifetimeMs: parseDuration(options.timeout, '--timeout'),
    idleTimeoutMs: parseDuration(options.idleTimeout, '--idle-timeout'),
    codeWords: parseWordCount(options.codeLength),
    redact: Boolean(options.redact),
    verify: Boolean(options.verify),
    ...withChanges(options),
    // Without --yes and without a person to ask, secrets would stop the send: then no code is
    // shown before the scan says there are none.
    showCodeDuringScan: yes || ui.interactive,
    refuseSharedReceivers: yes && !options.allowShared,
    ...withLogin(githubLogin(env)),
    network: networkSettings(options, env),
  };
  const result = await cancelOnInterrupt(context, (signal) => send({ ...request, signal }, senderDecisions(options, context)));
  ui.result('done', { sessionId: result.sessionId, bytes: result.bytes, alreadyThere: result.alreadyThere }, [
    result.alreadyThere
      ? `Nothing to send: the receiver already has session ${result.sessionId} at this very point (from an earlier beam, unchanged since).`
      : `Sent ${formatBytes(result.bytes)}: the receiver installed session ${result.sessionId}.`,
  ]);
}

/** --with-changes and --no-changes; neither leaves it to the question (or, with --yes, to the default: left behind). */
function withChanges(options: SendOptions): { withChanges?: boolean } {
  if (options.withChanges && options.changes === false) throw new BeamError('usage', '--with-changes and --no-changes contradict each other: give one');
  if (options.withChanges) return { withChanges: true };
  return options.changes === false ? { withChanges: false } : {};
}

function withLogin(login: string | undefined): { githubLogin?: string } {
  return login === undefined ? {} : { githubLogin: login };
}

function senderDecisions(options: SendOptions, context: CommandContext): SenderDecisions {
  const { ui } = context;
  const assumeYes = Boolean(options.yes);
  let session = 'the session';
  let shownCommand: string | undefined;
  let workAsked = false;
  return {
    tell: (news) => {
      if (news.type === 'prepared') session = `session "${displayText(news.sessionName ?? news.sessionId, 60)}" (${formatBytes(news.bytes)})`;
      tellSender(news, context, workAsked);
      if (news.type === 'work' && news.carried === undefined) workAsked = true;
    },
    showCode: ({ code, expiresInMs }) => {
      // Without --yes every send ends in a question; without a terminal nobody could answer it,
      // and a code shown now could only fail the person who types it.
      if (!assumeYes && !ui.canAsk) throw noTerminalError();
      shownCommand = receiveCommand(code, options, context.env);
      showCode(context, shownCommand, code, expiresInMs, options.qr);
    },
    sendUnredacted: async (secrets) => {
      // The question may push the code off a small screen: it is repeated right above it.
      if (shownCommand) ui.status('reminder', `The code is still valid; on the other machine: ${shownCommand}`);
      ui.alarm(`${secrets.found} secret(s) would travel as they are; --redact replaces them in the copy that is sent`);
      return ui.confirm('Send them unredacted?', { assumeYes });
    },
    // Only asked after a "no" above, which --yes never gives.
    sendRedactedInstead: () => ui.confirm('Send the session with each secret replaced by a marker instead?'),
    carryWork: async (summary) => {
      // Unattended, nothing that was not asked for leaves the machine: the work stays, and that is said.
      if (assumeYes) {
        ui.warn(`the checkout's work in progress stays behind (${describeWork(summary)}): pass --with-changes to carry it`);
        return false;
      }
      if (shownCommand) ui.status('reminder', `The code is still valid; on the other machine: ${shownCommand}`);
      return ui.confirm('Carry this work with the session?');
    },
    phraseMatches: (phrase, signal) => confirmPhrase(ui, phrase, signal),
    sendTo: (receiver, _risks, signal) =>
      ui.confirm(`Send ${session} to ${displayText(receiver.user, 60)}@${displayText(receiver.hostname, 100)}?`, { assumeYes, signal }),
  };
}

function tellSender(news: SenderNews, context: CommandContext, workAsked: boolean): void {
  const { ui } = context;
  switch (news.type) {
    case 'scanning':
      return ui.status('scanning', 'Hashing the session and scanning it for secrets...');
    case 'prepared': {
      const name = news.sessionName ? ` "${displayText(news.sessionName, 80)}"` : '';
      ui.status('prepared', `Session ${news.sessionId}${name}: ${news.files} files, ${formatBytes(news.bytes)}`, {
        sessionId: news.sessionId,
        files: news.files,
        bytes: news.bytes,
      });
      if (news.leftOut.length > 0) {
        const shown = news.leftOut.slice(0, 5).map((path) => displayText(path, 100)).join(', ');
        ui.warn(`not part of a Copilot session, so not sent: ${shown}${news.leftOut.length > 5 ? `, and ${news.leftOut.length - 5} more` : ''}`);
      }
      return;
    }
    case 'work':
      return reportWork(news.summary, news.carried, context, workAsked);
    case 'work-not-carried':
      return ui.warn(`the checkout's work in progress stays behind: ${news.reason}`);
    case 'secrets':
      return reportSecrets(news.summary, context);
    case 'connecting':
      return ui.status('connecting', 'Connecting to the DHT...');
    case 'wrong-code':
      return ui.warn(`someone tried a wrong code (${news.attemptsLeft} attempt(s) left before the code burns)`, { attemptsLeft: news.attemptsLeft });
    case 'paired':
      return ui.status('paired', 'Receiver connected and proved the code.');
    case 'receiver':
      showReceiver(context, news.receiver);
      for (const risk of news.risks) ui.alarm(`${risk}: the session may be readable by others there`);
      return;
    case 'offered':
      return ui.status('offered', 'Waiting for the receiver to accept...');
    case 'progress':
      return ui.progress('sending', news.done, news.total);
    case 'reviewing':
      return ui.status('reviewing', 'Sent and verified; the receiver is reviewing it before installing...');
  }
}

/**
 * The command the other person runs, exactly as it works: with the sender's private bootstrap
 * nodes, if any (the public DHT cannot find a code announced on a private one).
 */
function receiveCommand(code: string, options: SendOptions, env: NodeJS.ProcessEnv): string {
  const bootstrap = options.bootstrap ?? env[BOOTSTRAP_ENV];
  return `copilot-beam receive ${code}${bootstrap && bootstrap.trim() !== '' ? ` --bootstrap ${bootstrap.trim()}` : ''}`;
}

function showCode(context: CommandContext, command: string, code: string, lifetimeMs: number, qr: boolean): void {
  const { ui } = context;
  const lines = ['On the other machine, run:', '', `    ${command}`, ''];
  if (qr && ui.interactive) lines.push(renderQr(command));
  lines.push(`The code works once and expires in ${formatDuration(lifetimeMs)}. Waiting for the receiver...`);
  ui.result('code', { code, command, expiresInSeconds: Math.round(lifetimeMs / 1000) }, lines);
}

function describeWork(summary: WorkSummary): string {
  const parts = [
    summary.branch ? `branch ${displayText(summary.branch, 80)}` : 'a detached HEAD',
    `${summary.commits} unpushed commit(s)`,
    `${summary.changedFiles} changed file(s)`,
    `${summary.newFiles} new file(s)`,
    formatBytes(summary.bytes),
  ];
  return parts.join(', ');
}

function reportWork(summary: WorkSummary, carried: boolean | undefined, context: CommandContext, shownBeforeQuestion: boolean): void {
  const fields = { ...summary, carried: carried ?? null };
  // Answered at the prompt just shown: people saw it; scripts get the outcome.
  if (carried !== undefined && shownBeforeQuestion) return context.ui.emit('work', fields);
  if (summary.commits === 0 && summary.changedFiles === 0 && summary.newFiles === 0) {
    context.ui.result('work', fields, ['No work in progress in the checkout: nothing to carry.']);
    return;
  }
  const leftOut = summary.leftOut.map((item) => `  not carried: ${displayText(item, 200)}`);
  const outcome = carried === undefined ? '' : carried ? ' (carried with the session)' : ' (stays here)';
  context.ui.result('work', fields, [`Work in progress in the checkout: ${describeWork(summary)}${outcome}`, ...leftOut]);
}

/** Secret locations listed before a send's question; inspect lists more. */
const LOCATIONS_SHOWN = 5;

/** What the scan found: kinds, counts and where, never values. */
function reportSecrets(summary: SecretSummary, context: CommandContext): void {
  const { found, kinds, filesScanned, bytesScanned, redacted } = summary;
  const byKind = Object.entries(kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
  const scanned = `Scanned ${filesScanned} text files (${formatBytes(bytesScanned)})`;
  const verdict = found === 0 ? 'no secrets found.' : `found ${found} secret(s): ${byKind}${redacted ? ' (each will be replaced by a marker in what is sent)' : ''}.`;
  const where = secretLocationLines(summary.locations, found, LOCATIONS_SHOWN);
  const inspectHint = found > LOCATIONS_SHOWN ? ['    "copilot-beam inspect <session>" lists more of them'] : [];
  context.ui.result('secrets', { found, redacted, kinds, locations: summary.locations, filesScanned, bytesScanned }, [
    `${scanned}: ${verdict}`,
    ...where,
    ...inspectHint,
  ]);
}

function showReceiver(context: CommandContext, receiver: ReceiverEnvironment): void {
  const codespace = receiver.codespace;
  const lines = [
    'The receiver is:',
    `  host        ${displayText(receiver.hostname)} (${displayText(receiver.platform)})`,
    `  user        ${displayText(receiver.user)}`,
    ...(codespace ? [`  codespace   ${displayText(codespace.name ?? '(unnamed)')} owned by ${displayText(codespace.owner ?? 'an unknown user')}`] : []),
    ...(receiver.repository ? [`  repository  ${displayText(receiver.repository)}`] : []),
  ];
  context.ui.result('receiver', { ...receiver }, lines);
}
