import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { transformEvents, type EventTransformReport, type MoveDescription } from './events.js';
import { PathRemapper } from './path-mapping.js';
import { remapRewindIndex } from './rewind-index.js';
import { remapWorkspaceFile } from './workspace-file.js';

export type { MoveDescription, EventTransformReport } from './events.js';
export { PathRemapper, pathStyle, type PathMapping } from './path-mapping.js';
export { NOT_EXECUTED_CODE, EventLogRewriter } from './events.js';

export interface TransformReport extends EventTransformReport {
  readonly remappedWorkspaceFields: number;
  readonly remappedRewindPaths: number;
}

/** A session without events.jsonl: nothing was rewritten or appended. */
const NOTHING_TO_TRANSFORM: EventTransformReport = { events: 0, remappedStrings: 0, neutralisedToolCalls: [], droppedApprovals: 0 };

/**
 * Makes a staged (received, verified, not yet installed) session safe to resume here. When
 * events.jsonl was already rewritten as it arrived (EventLogRewriter), pass that report and it is
 * not rewritten again.
 */
export async function transformReceivedSession(
  sessionDir: string,
  move: MoveDescription,
  options: { rewrittenEvents?: EventTransformReport } = {},
): Promise<TransformReport> {
  const remapper = move.mapping ? new PathRemapper(move.mapping) : undefined;
  const eventsPath = join(sessionDir, 'events.jsonl');
  const hasEvents = options.rewrittenEvents === undefined && ((await stat(eventsPath).catch(() => undefined))?.isFile() ?? false);
  const events = options.rewrittenEvents ?? (hasEvents ? await transformEvents(eventsPath, move, remapper) : undefined);
  const remappedWorkspaceFields = remapper ? await remapWorkspaceFile(sessionDir, remapper) : 0;
  const remappedRewindPaths = remapper ? await remapRewindIndex(sessionDir, remapper) : 0;
  return { ...(events ?? NOTHING_TO_TRANSFORM), remappedWorkspaceFields, remappedRewindPaths };
}
