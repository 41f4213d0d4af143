import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { transformEvents, type EventTransformReport, type MoveDescription } from './events.js';
import { PathRemapper } from './path-mapping.js';
import { neutraliseCheckpointTitles } from './checkpoint-titles.js';
import { neutraliseRewindIndex } from './rewind-index.js';
import { rebuildWorkspaceFile, type WorkspaceReport } from './workspace-file.js';

export type { MoveDescription, EventTransformReport } from './events.js';
export { PathRemapper, pathStyle, type PathMapping } from './path-mapping.js';
export { NOT_EXECUTED_CODE, EventLogRewriter } from './events.js';
export { EventLogWorker } from './event-log-worker.js';

export type { WorkspaceReport } from './workspace-file.js';

export interface TransformReport extends EventTransformReport {
  /** workspace.yaml as rebuilt: where the session runs, and what of the sender's file was dropped. */
  readonly workspace: WorkspaceReport;
  readonly remappedRewindPaths: number;
  /** Rewind entries naming files outside the destination checkout, dropped. */
  readonly droppedRewindEntries: number;
  /** Checkpoint titles replaced (the client copies them into the system prompt). */
  readonly checkpointTitles: number;
}

/** A session without events.jsonl: nothing was rewritten or appended. */
const NOTHING_TO_TRANSFORM: EventTransformReport = { events: 0, remappedStrings: 0, neutralisedToolCalls: [], droppedApprovals: 0, remoteSwitches: 0, droppedEvents: 0, cancelledSchedules: 0 };

/**
 * Makes a staged (received, verified, not yet installed) session safe to resume here. When
 * events.jsonl was already rewritten as it arrived (EventLogRewriter), pass that report and it is
 * not rewritten again.
 */
export async function transformReceivedSession(
  sessionDir: string,
  move: MoveDescription,
  options: {
    rewrittenEvents?: EventTransformReport;
    /** The id the session is installed under (default: the folder's name). */
    sessionId?: string;
    /** Folders the session may never run in, besides its own (the Copilot home). */
    forbidden?: readonly string[];
  } = {},
): Promise<TransformReport> {
  const remapper = move.mapping ? new PathRemapper(move.mapping) : undefined;
  const eventsPath = join(sessionDir, 'events.jsonl');
  const hasEvents = options.rewrittenEvents === undefined && ((await stat(eventsPath).catch(() => undefined))?.isFile() ?? false);
  const events = options.rewrittenEvents ?? (hasEvents ? await transformEvents(eventsPath, move, remapper) : undefined);
  const workspace = await rebuildWorkspaceFile(sessionDir, {
    sessionId: options.sessionId ?? basename(sessionDir),
    ...(move.mapping ? { mapping: move.mapping } : {}),
    ...(remapper ? { remapper } : {}),
    forbidden: [sessionDir, ...(options.forbidden ?? [])],
  });
  const rewind = await neutraliseRewindIndex(sessionDir, remapper, move.mapping?.to);
  const checkpointTitles = await neutraliseCheckpointTitles(sessionDir);
  return {
    ...(events ?? NOTHING_TO_TRANSFORM),
    workspace,
    remappedRewindPaths: rewind.remappedPaths,
    droppedRewindEntries: rewind.droppedEntries,
    checkpointTitles,
  };
}
