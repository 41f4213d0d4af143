import {
  networkSettings,
  receive,
  type Destination,
  type InstallReview,
  type ReceiverDecisions,
  type ReceiverNews,
  type ReceiveResult,
  type SessionManifest,
  type TransformReport,
} from '../beam/index.js';
import { parseCode, type Code } from '../code/code.js';
import { completeCodeLine } from '../code/complete.js';
import { BeamError } from '../errors.js';
import { formatBytes } from '../format.js';
import { copilotHome } from '../session/home.js';
import { wasActiveIn } from '../session/review.js';
import { displayText } from '../terminal-text.js';
import { CODE_ENV, type CommandContext, type NetworkOptions } from './context.js';
import { cancelOnInterrupt } from './interrupt.js';
import { parseDuration, parseSize } from './options.js';
import { confirmPhrase } from './verify.js';

export interface ReceiveOptions extends NetworkOptions {
  readonly force?: boolean;
  readonly maxSize: string;
  readonly cwd?: string;
  readonly worktree?: string;
  readonly yes?: boolean;
  readonly verify?: boolean;
}

export async function runReceive(codeArgument: string | undefined, options: ReceiveOptions, context: CommandContext): Promise<void> {
  const { env } = context;
  // The code need not sit in the process list: it may come from the environment or stdin.
  const given = codeArgument ?? env[CODE_ENV];
  const code = given === undefined ? await askForCode(context) : parseCode(given);
  const request = {
    code,
    copilotHome: copilotHome(env),
    currentDir: process.cwd(),
    ...(options.cwd === undefined ? {} : { checkout: options.cwd }),
    ...(options.worktree === undefined ? {} : { worktree: options.worktree }),
    force: Boolean(options.force),
    verify: Boolean(options.verify),
    searchTimeoutMs: parseDuration(options.timeout, '--timeout'),
    idleTimeoutMs: parseDuration(options.idleTimeout, '--idle-timeout'),
    maxBytes: parseSize(options.maxSize, '--max-size'),
    env,
    network: networkSettings(options, env),
  };
  const result = await cancelOnInterrupt(context, (signal) => receive({ ...request, signal }, receiverDecisions(options, context)));
  reportInstalled(context, result);
}

const CODE_PROMPT_TRIES = 3;

/** The code from a prompt (or the first line of standard input); a typo at a prompt is asked again. */
async function askForCode(context: CommandContext): Promise<Code> {
  const { ui } = context;
  for (let attempt = 1; ; attempt++) {
    const text = await ui.ask('Code from the sender (Tab completes words): ', completeCodeLine);
    if (text === undefined || text.trim() === '') {
      throw new BeamError('usage', `give the code: copilot-beam receive <code>, ${CODE_ENV}, or on standard input`);
    }
    try {
      return parseCode(text);
    } catch (error) {
      if (!ui.canAsk || attempt >= CODE_PROMPT_TRIES || !(error instanceof BeamError)) throw error;
      // Nothing has touched the network yet: a typo costs no attempt of the code.
      ui.warn(`${error.message}; type it again`);
    }
  }
}

function receiverDecisions(options: ReceiveOptions, context: CommandContext): ReceiverDecisions {
  return {
    tell: (news) => tellReceiver(news, context),
    phraseMatches: (phrase, signal) => confirmPhrase(context.ui, phrase, signal),
    acceptOffer: (_manifest, signal) => context.ui.confirm('Accept this session?', { assumeYes: Boolean(options.yes), signal }),
    // Replacing is never implied by --yes: only --force (which skips this) or a person says so.
    replaceExisting: async (sessionId, signal) =>
      !options.yes &&
      context.ui.canAsk &&
      context.ui.confirm(`Session ${sessionId} is already installed here. Replace it with this one (the old copy is kept as a backup)?`, { signal }),
    installReviewed: (review, signal) => {
      showReview(context, review);
      return context.ui.confirm('Install it?', { assumeYes: Boolean(options.yes), signal });
    },
  };
}

function tellReceiver(news: ReceiverNews, context: CommandContext): void {
  const { ui } = context;
  switch (news.type) {
    case 'connecting':
      return ui.status('connecting', 'Connecting to the DHT...');
    case 'looking':
      return ui.status('looking', `Looking for the sender of code ${news.nameplate}...`);
    case 'wrong-code':
      return ui.warn(`a key confirmation with a peer on this code failed (${news.attemptsLeft} attempt(s) left): a typo, or someone guessing the code`, {
        attemptsLeft: news.attemptsLeft,
      });
    case 'paired':
      return ui.status('paired', 'Connected; the sender proved the code.');
    case 'introduced':
      return ui.status('introduced', 'Waiting for the sender to confirm...');
    case 'offer':
      return showOffer(context, news.manifest);
    case 'warning':
      return ui.warn(news.message);
    case 'receiving':
      return ui.status('receiving', `Receiving ${formatBytes(news.bytes)}...`, { bytes: news.bytes });
    case 'progress':
      return ui.progress('receiving', news.done, news.total);
    case 'received':
      return ui.status('received', `Received and verified ${formatBytes(news.bytes)} in ${news.seconds.toFixed(1)} s`, {
        bytes: news.bytes,
        seconds: Math.round(news.seconds * 1000) / 1000,
      });
    case 'transformed':
      return showTransform(context, news.destination, news.report);
    case 'work-plan':
      return ui.status(
        'work-plan',
        news.plan.inPlace
          ? `The work will land in this checkout (${news.plan.root}), on the new branch ${news.plan.branch}.`
          : `This checkout has changes of its own or --worktree was given: the work will land in a new worktree, ${news.plan.root}, on the new branch ${news.plan.branch}.`,
        { root: news.plan.root, branch: news.plan.branch, inPlace: news.plan.inPlace },
      );
    case 'already-here':
      return ui.status('already-here', `Session ${news.sessionId} is here already, at this very point (received ${news.receivedAt}, unchanged since): nothing to transfer.`, {
        receivedAt: news.receivedAt,
      });
  }
}

function showReview(context: CommandContext, review: InstallReview): void {
  // One item per line, under its heading: long lists stay readable on a narrow terminal.
  const section = (heading: string, items: readonly string[]): string[] =>
    (items.length > 0 ? items : ['nothing']).map((item, index) => `  ${(index === 0 ? heading : '').padEnd(27)}${displayText(item)}`);
  context.ui.result('review', { sessionId: review.sessionId, wasActive: review.wasActive, neutralised: review.neutralised, leftOut: review.leftOut }, [
    'Received and made safe to resume here:',
    ...section('was active on the source', review.wasActive),
    ...section('neutralised here', review.neutralised),
    ...section('left out', review.leftOut),
  ]);
}

function reportInstalled(context: CommandContext, result: ReceiveResult): void {
  if (result.outcome === 'already-here') {
    context.ui.result('done', { sessionId: result.sessionId, path: result.path, alreadyHere: true, resume: result.resume }, [
      `Session ${result.sessionId} was already installed in ${result.path}; it was left as it was.`,
      'Resume it with:',
      '',
      `    ${result.resume}`,
    ]);
    return;
  }
  const { transform } = result;
  const summary = {
    cwd: result.checkout ?? null,
    neutralisedToolCalls: transform.neutralisedToolCalls.length,
    droppedApprovals: transform.droppedApprovals,
    cancelledSchedules: transform.cancelledSchedules,
    remoteSwitches: transform.remoteSwitches,
    modeReset: transform.modeReset ?? null,
    permissionReset: transform.permissionReset ?? null,
  };
  const work = result.work;
  context.ui.result('done', { sessionId: result.sessionId, path: result.path, backup: result.backup ?? null, resume: result.resume, work: work ?? null, ...summary }, [
    `Installed session ${result.sessionId} in ${result.path}`,
    ...(work ? [`The work in progress is in ${work.root}, on branch ${work.branch.replace(/^refs\/heads\//, '')}${work.sameStatus ? ', as it was on the source' : ''}.`] : []),
    ...(result.backup ? [`The session it replaced is kept in ${result.backup}`] : []),
    'Resume it with:',
    '',
    `    ${result.resume}`,
  ]);
}

function showTransform(context: CommandContext, destination: Destination, report: TransformReport): void {
  const { ui } = context;
  if (destination.mapping) {
    ui.status('remapped', `Paths: ${displayText(destination.mapping.from)} -> ${destination.mapping.to} (${destination.reason})`);
  } else {
    ui.warn(`paths not remapped: ${destination.reason}`);
  }
  if (report.neutralisedToolCalls.length > 0) {
    ui.status('neutralised', `${report.neutralisedToolCalls.length} unfinished tool call(s) marked as not executed; they will not run here.`);
  }
  const dropped = wasActiveIn(report).map((item) => displayText(item));
  if (dropped.length > 0) ui.status('permissions', `Dropped from the source: ${dropped.join(', ')}. Approvals start afresh here.`);
}

function showOffer(context: CommandContext, manifest: SessionManifest): void {
  const { source } = manifest;
  const lines = [
    'Incoming session:',
    `  from        ${displayText(source.hostname)} (${displayText(source.platform)})`,
    `  session     ${manifest.sessionId}`,
    `  name        ${displayText(manifest.sessionName ?? '(unnamed)')}`,
    `  size        ${formatBytes(manifest.totalBytes)} in ${manifest.files.length} files`,
    ...(source.cwd ? [`  folder      ${displayText(source.cwd)}`] : []),
    ...(source.git?.remote ? [`  repository  ${displayText(source.git.remote)}`] : []),
    `  work        ${describeWork(manifest)}`,
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
      work: source.work ? { branch: source.work.branch ?? null, commits: source.work.commits, staged: source.work.staged, unstaged: source.work.unstaged, untracked: source.work.untracked.length } : null,
    },
    lines,
  );
  const unredacted = manifest.secrets && !manifest.secrets.redacted ? manifest.secrets.found : 0;
  if (unredacted > 0) context.ui.alarm(`${unredacted} secret(s) travel unredacted in this session`);
}

function describeWork(manifest: SessionManifest): string {
  const { work, git } = manifest.source;
  if (!work) return `none carried (the checkout was at ${git?.branch ? `branch ${displayText(git.branch, 80)}, ` : ''}${git?.head ? git.head.slice(0, 12) : 'an unknown commit'})`;
  const changes = [work.staged ? 'staged' : '', work.unstaged ? 'unstaged' : ''].filter(Boolean).join(' and ') || 'no';
  return `${work.branch ? `branch ${displayText(work.branch, 80)}` : 'a detached HEAD'} at ${work.head.slice(0, 12)}: ${work.commits} unpushed commit(s), ${changes} changes, ${work.untracked.length} new file(s)`;
}

function describeSecrets(manifest: SessionManifest): string {
  const report = manifest.secrets;
  if (!report) return 'not scanned by the sender';
  if (report.found === 0) return "none found by the sender's scan";
  const kinds = Object.entries(report.kinds).map(([kind, count]) => `${count} ${displayText(kind, 60)}`).join(', ');
  return `${report.found} ${report.redacted ? 'redacted' : 'UNREDACTED'} (${kinds})`;
}
