import type { TransformReport } from './transform/index.js';

/**
 * What a person sees before a received session is installed: what the session had switched on
 * at the source (each reset in the installed copy), what copilot-beam changed so that nothing
 * from the source runs or is granted here, and what it did not install.
 */
export interface InstallReview {
  readonly sessionId: string;
  readonly wasActive: readonly string[];
  readonly neutralised: readonly string[];
  readonly leftOut: readonly string[];
}

/** What the session had switched on at the source, each reset in the installed copy. */
export function wasActiveIn(report: TransformReport): string[] {
  return [
    ...(report.modeReset ? [`${report.modeReset} mode`] : []),
    ...(report.permissionReset ? [`${report.permissionReset} permissions`] : []),
    ...(report.droppedApprovals > 0 ? [`${report.droppedApprovals} skill tool approval(s)`] : []),
    ...(report.cancelledSchedules > 0 ? [`${report.cancelledSchedules} scheduled prompt(s)`] : []),
    ...(report.remoteSwitches > 0 ? [`${report.remoteSwitches} remote-steering or MCP all-tools switch(es)`] : []),
    ...(report.deselectedAgent !== undefined ? [`the custom agent ${report.deselectedAgent}`] : []),
  ];
}

export function reviewOf(sessionId: string, report: TransformReport, leftOut: readonly string[]): InstallReview {
  const wasActive = wasActiveIn(report);
  const calls = report.neutralisedToolCalls;
  const neutralised = [
    ...(calls.length > 0 ? [`${calls.length} unfinished tool call(s) (${[...new Set(calls.map((call) => call.name))].join(', ')}) marked as not executed`] : []),
    ...(wasActive.length > 0 ? ['interactive mode and manual approval restored'] : []),
    ...(report.droppedEvents > 0 ? [`${report.droppedEvents} event(s) of kinds the client never writes to disk left out`] : []),
    ...(report.workspace.droppedFields.length > 0 ? [`workspace.yaml fields not kept: ${report.workspace.droppedFields.join(', ')}`] : []),
    ...(report.droppedRewindEntries > 0 ? [`${report.droppedRewindEntries} rewind entr(ies) naming files outside this checkout removed`] : []),
    ...(report.checkpointTitles > 0 ? [`${report.checkpointTitles} checkpoint title(s) and file name(s) replaced (they reach the model as system text)`] : []),
  ];
  return { sessionId, wasActive, neutralised, leftOut };
}
