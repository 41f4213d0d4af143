import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { PathRemapper } from './path-mapping.js';

/**
 * Rewrites events.jsonl of a received session (never the sender's copy) so that resuming it on
 * this machine is safe: paths point at this checkout, every tool call that never completed gets a
 * completion saying it was not executed, permission modes and skill approvals from the source
 * are dropped, and a handoff event tells the model what happened. Streams line by line.
 */
export interface MoveDescription {
  readonly sourceHost: string;
  readonly destinationHost: string;
  readonly movedAt: Date;
  readonly mapping?: { readonly from: string; readonly to: string };
}

export interface EventTransformReport {
  readonly events: number;
  readonly remappedStrings: number;
  readonly neutralisedToolCalls: ReadonlyArray<{ readonly id: string; readonly name: string }>;
  readonly droppedApprovals: number;
  readonly modeReset?: string;
  readonly permissionReset?: string;
}

type Json = Record<string, unknown>;
interface SessionEvent {
  type?: unknown;
  data?: Json;
  id?: unknown;
  [key: string]: unknown;
}

interface Tracker {
  requested: Map<string, string>;
  completed: Set<string>;
  mode: string;
  permission: string;
  lastId: string | null;
  remapped: { count: number };
  droppedApprovals: number;
  context?: Json;
}

export const NOT_EXECUTED_CODE = 'not_executed_session_moved';
const CHUNK_BYTES = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const NEWLINE = Buffer.from('\n');

/**
 * The rewrite as a stream: bytes of events.jsonl in, rewritten bytes out, whole lines at a time.
 * The receiver feeds it while the file arrives, so the history is rewritten during the transfer
 * instead of read back and written again after it. Chunks handed in must not be reused by the
 * caller until the parts returned for them are written (unchanged lines go out as slices).
 */
export class EventLogRewriter {
  private readonly tracker: Tracker = {
    requested: new Map(),
    completed: new Set(),
    mode: 'interactive',
    permission: 'manual',
    lastId: null,
    remapped: { count: 0 },
    droppedApprovals: 0,
  };
  private events = 0;
  /** A line cut by a chunk boundary waits here; joined once its end arrives, so long lines cost O(n). */
  private carried: Buffer[] = [];
  private result: EventTransformReport | undefined;

  constructor(
    private readonly move: MoveDescription,
    private readonly remapper?: PathRemapper,
  ) {}

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.result) throw new Error('the event log was already finished');
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    let end = bytes.indexOf(LF);
    if (end === -1) {
      this.carried.push(bytes);
      return [];
    }
    const parts: Uint8Array[] = [];
    if (this.carried.length > 0) {
      // Only the cut line is joined, not the whole chunk: a copy per line, not per chunk.
      this.rewriteLine(Buffer.concat([...this.carried, bytes.subarray(0, end)]), parts);
      this.carried = [];
      start = end + 1;
      end = bytes.indexOf(LF, start);
    }
    for (; end !== -1; end = bytes.indexOf(LF, start)) {
      this.rewriteLine(bytes.subarray(start, end), parts);
      start = end + 1;
    }
    if (start < bytes.length) this.carried.push(bytes.subarray(start));
    return parts;
  }

  /** The last (unterminated) line and the events we append; afterwards `report` is set. */
  finish(): Uint8Array[] {
    if (this.result) throw new Error('the event log was already finished');
    const parts: Uint8Array[] = [];
    if (this.carried.length > 0) this.rewriteLine(Buffer.concat(this.carried), parts);
    this.carried = [];
    const appended = closingEvents(this.tracker, this.move);
    for (const event of appended.events) parts.push(Buffer.from(`${JSON.stringify(event)}\n`));
    this.result = {
      events: this.events,
      remappedStrings: this.tracker.remapped.count,
      neutralisedToolCalls: appended.neutralised,
      droppedApprovals: this.tracker.droppedApprovals,
      ...(appended.modeReset ? { modeReset: appended.modeReset } : {}),
      ...(appended.permissionReset ? { permissionReset: appended.permissionReset } : {}),
    };
    return parts;
  }

  /** Set once finish() has run. */
  get report(): EventTransformReport | undefined {
    return this.result;
  }

  private rewriteLine(bytes: Buffer, parts: Uint8Array[]): void {
    const raw = bytes.at(-1) === CR ? bytes.subarray(0, -1) : bytes;
    const line = raw.toString('utf8');
    if (line.trim() === '') return;
    let event: SessionEvent;
    try {
      event = JSON.parse(line) as SessionEvent;
    } catch {
      parts.push(raw, NEWLINE); // a torn line is kept as it was: not ours to repair
      return;
    }
    this.events++;
    // Most lines hold no source path: skipping the deep remap for them changes nothing but time.
    const rewritten = rewriteEvent(event, this.tracker, this.remapper?.mayOccurIn(line) ? this.remapper : undefined);
    // Unchanged events keep their exact bytes (JSON.stringify would turn 0.0 into 0, for one).
    if (rewritten === event) parts.push(raw, NEWLINE);
    else parts.push(Buffer.from(`${JSON.stringify(rewritten)}\n`));
  }
}

/** Rewrites an events.jsonl already on disk (through a temporary file and a rename). */
export async function transformEvents(path: string, move: MoveDescription, remapper?: PathRemapper): Promise<EventTransformReport> {
  const rewriter = new EventLogRewriter(move, remapper);
  const temporary = `${path}.copilot-beam-tmp`;
  const output = createWriteStream(temporary, { mode: 0o600, highWaterMark: CHUNK_BYTES });
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    await writeParts(output, rewriter.push(chunk));
  }
  await writeParts(output, rewriter.finish());
  output.end();
  await once(output, 'finish');
  await rename(temporary, path);
  return rewriter.report!;
}

/** One writev for a batch of parts; waits only when the stream is over its high-water mark. */
export async function writeParts(output: Writable, parts: readonly Uint8Array[]): Promise<void> {
  if (parts.length === 0) return;
  output.cork();
  let ready = true;
  for (const part of parts) ready = output.write(part);
  output.uncork();
  if (!ready) await once(output, 'drain');
}

function rewriteEvent(event: SessionEvent, tracker: Tracker, remapper: PathRemapper | undefined): SessionEvent {
  if (typeof event.id === 'string') tracker.lastId = event.id;
  const type = typeof event.type === 'string' ? event.type : '';
  const original = event.data;
  if (!original || typeof original !== 'object') return event;
  let data = original;
  let changed = false;
  const remap = <T>(value: T): T => {
    if (!remapper) return value;
    const before = tracker.remapped.count;
    const remapped = remapper.remapJson(value, tracker.remapped);
    if (tracker.remapped.count > before) changed = true;
    return remapped;
  };

  if (type.startsWith('tool.') || type === 'session.context_changed') data = remap(data);
  else if (data.context && typeof data.context === 'object') data = { ...data, context: remap(data.context) };
  if (type === 'assistant.message' && Array.isArray(data.toolRequests)) data = { ...data, toolRequests: remap(data.toolRequests) };

  track(type, data, tracker);
  if (type === 'skill.invoked' && Array.isArray(data.allowedTools) && data.allowedTools.length > 0) {
    tracker.droppedApprovals += data.allowedTools.length;
    const { allowedTools: _dropped, ...rest } = data;
    data = rest;
    changed = true;
  }
  return changed ? { ...event, data } : event;
}

function track(type: string, data: Json, tracker: Tracker): void {
  switch (type) {
    case 'assistant.message':
      for (const request of Array.isArray(data.toolRequests) ? (data.toolRequests as Json[]) : []) {
        if (typeof request.toolCallId === 'string') tracker.requested.set(request.toolCallId, String(request.name ?? 'tool'));
      }
      break;
    case 'tool.execution_start':
      if (typeof data.toolCallId === 'string' && !tracker.requested.has(data.toolCallId)) {
        tracker.requested.set(data.toolCallId, String(data.toolName ?? 'tool'));
      }
      break;
    case 'tool.execution_complete':
      if (typeof data.toolCallId === 'string') tracker.completed.add(data.toolCallId);
      break;
    case 'session.mode_changed':
      if (typeof data.newMode === 'string') tracker.mode = data.newMode;
      break;
    case 'session.permissions_changed':
      if (typeof data.mode === 'string') tracker.permission = data.mode;
      break;
    case 'session.start':
    case 'session.resume':
    case 'session.context_changed':
      tracker.context = (type === 'session.context_changed' ? data : (data.context as Json | undefined)) ?? tracker.context;
      break;
  }
}

interface ClosingEvents {
  events: SessionEvent[];
  neutralised: Array<{ id: string; name: string }>;
  modeReset?: string;
  permissionReset?: string;
}

function closingEvents(tracker: Tracker, move: MoveDescription): ClosingEvents {
  const events: SessionEvent[] = [];
  const timestamp = move.movedAt.toISOString();
  const append = (type: string, data: Json): void => {
    const id = randomUUID();
    events.push({ type, data, id, timestamp, parentId: tracker.lastId });
    tracker.lastId = id;
  };
  const when = timestamp.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

  const neutralised = [...tracker.requested].filter(([id]) => !tracker.completed.has(id)).map(([id, name]) => ({ id, name }));
  for (const call of neutralised) {
    const message =
      `Not executed: copilot-beam moved this session from ${move.sourceHost} to ${move.destinationHost} at ${when} ` +
      `before this ${call.name} call completed. It did not run on ${move.destinationHost} and will not run; ` +
      'check the state of the files and ask the user before doing it again.';
    append('tool.execution_complete', { toolCallId: call.id, success: false, error: { code: NOT_EXECUTED_CODE, message }, result: { content: message } });
  }

  const modeReset = tracker.mode === 'autopilot' ? tracker.mode : undefined;
  if (modeReset) append('session.mode_changed', { previousMode: modeReset, newMode: 'interactive' });
  const permissionReset = tracker.permission !== 'manual' ? tracker.permission : undefined;
  if (permissionReset) append('session.permissions_changed', { previousMode: permissionReset, mode: 'manual' });

  if (move.mapping && tracker.context) {
    // tracker.context was taken from the already remapped events.
    const { cwd, gitRoot, branch } = tracker.context;
    append('session.context_changed', {
      cwd: typeof cwd === 'string' ? cwd : move.mapping.to,
      ...(typeof gitRoot === 'string' ? { gitRoot } : {}),
      ...(typeof branch === 'string' ? { branch } : {}),
    });
  }

  const notes = [
    `This session was moved with copilot-beam from ${move.sourceHost} to ${move.destinationHost} at ${when}.`,
    move.mapping
      ? `Paths under ${move.mapping.from} on ${move.sourceHost} now refer to ${move.mapping.to} on ${move.destinationHost}.`
      : `Paths from ${move.sourceHost} were kept as they were; they may not exist on ${move.destinationHost}.`,
    neutralised.length > 0
      ? `${neutralised.length} tool call(s) that had not completed on ${move.sourceHost} were not run here (${neutralised.map((c) => c.name).join(', ')}).`
      : 'No tool call was left unfinished.',
    `Permissions granted on ${move.sourceHost} do not carry over: approvals must be given again here` +
      (modeReset ? `, and the session is back in interactive mode (it was in ${modeReset}).` : '.'),
  ];
  append('session.handoff', {
    handoffTime: timestamp,
    sourceType: 'local',
    summary: `Moved from ${move.sourceHost} to ${move.destinationHost} by copilot-beam`,
    context: notes.join(' '),
  });
  return { events, neutralised, ...(modeReset ? { modeReset } : {}), ...(permissionReset ? { permissionReset } : {}) };
}
