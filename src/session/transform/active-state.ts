/**
 * What a session's history leaves switched on when the client resumes it, as Copilot CLI 1.0.102
 * rebuilds it (measured by resuming real sessions interactively; see docs/SECURITY.md, "A
 * hostile session"). The closing block resets all of it unconditionally; this record only says
 * what there was, for the report and for the previous-state fields of the resetting events.
 */
export type Json = Record<string, unknown>;

export type PermissionState = 'manual' | 'allow-all' | 'assisted';
export type AgentMode = 'interactive' | 'plan' | 'autopilot';

export interface ActiveState {
  /**
   * Tool calls requested or started and not completed since, by id, with the tool's name, in the
   * order they were (re)opened. A call leaves this map when it completes, so the rewrite of a long
   * history holds its open calls, not every call it ever saw (its memory stays flat). A request
   * or start that comes after the call's completion (the client never writes one) opens it again:
   * the history's last word on it is a request, so it is marked not executed like any other.
   */
  readonly open: Map<string, string>;
  /** The main agent's mode: the client ignores mode changes of sub-agents. */
  mode: AgentMode;
  /** Decided by the last permissions event, whoever it claims to come from. */
  permission: PermissionState;
  /**
   * Scheduled prompts never cancelled, by id (an integer in the client's schema): restored on
   * resume, they go to the model with the person's next message.
   */
  readonly schedules: Set<number>;
  /** A custom agent the main agent selected and never deselected. */
  selectedAgent: string | undefined;
}

export function emptyActiveState(): ActiveState {
  return {
    open: new Map(),
    mode: 'interactive',
    permission: 'manual',
    schedules: new Set(),
    selectedAgent: undefined,
  };
}

const MODES = new Set<string>(['interactive', 'plan', 'autopilot']);

/**
 * The client treats an event as a sub-agent's when it names an agent (top level or in its data)
 * or a parent tool call. It then ignores mode changes, but not permission changes.
 */
export function isSubAgentEvent(event: Json, data: Json): boolean {
  return [event.agentId, data.agentId, data.parentToolCallId].some((value) => typeof value === 'string' && value !== '');
}

/**
 * Both shapes grant: the one the client writes (allowAllPermissions, allowAllPermissionMode) and
 * the one its schema lists (mode). An event with neither resets to manual.
 */
export function permissionAfter(data: Json): PermissionState {
  const fromWord = (word: unknown): PermissionState | undefined => {
    if (word === 'on' || word === 'allow-all') return 'allow-all';
    if (word === 'auto' || word === 'assisted') return 'assisted';
    if (word === 'off' || word === 'manual') return 'manual';
    return undefined;
  };
  return fromWord(data.allowAllPermissionMode) ?? fromWord(data.mode) ?? (data.allowAllPermissions === true ? 'allow-all' : 'manual');
}

/** Updates `state` with one event of the history (its data already rewritten). */
export function observe(state: ActiveState, type: string, event: Json, data: Json): void {
  switch (type) {
    case 'assistant.message':
      for (const request of Array.isArray(data.toolRequests) ? (data.toolRequests as Json[]) : []) {
        const id = request.toolCallId;
        if (typeof id === 'string') state.open.set(id, String(request.name ?? 'tool'));
      }
      return;
    case 'tool.execution_start':
      if (typeof data.toolCallId === 'string' && !state.open.has(data.toolCallId)) {
        state.open.set(data.toolCallId, String(data.toolName ?? 'tool'));
      }
      return;
    case 'tool.execution_complete':
      if (typeof data.toolCallId === 'string') state.open.delete(data.toolCallId);
      return;
    case 'session.mode_changed':
      if (!isSubAgentEvent(event, data) && typeof data.newMode === 'string' && MODES.has(data.newMode)) state.mode = data.newMode as AgentMode;
      return;
    case 'session.permissions_changed':
      state.permission = permissionAfter(data);
      return;
    case 'session.schedule_created':
      if (Number.isSafeInteger(data.id)) state.schedules.add(data.id as number);
      return;
    case 'session.schedule_cancelled':
      if (Number.isSafeInteger(data.id)) state.schedules.delete(data.id as number);
      return;
    case 'subagent.selected':
      if (!isSubAgentEvent(event, data)) state.selectedAgent = typeof data.agentName === 'string' ? data.agentName : 'a custom agent';
      return;
    case 'subagent.deselected':
      if (!isSubAgentEvent(event, data)) state.selectedAgent = undefined;
      return;
  }
}
