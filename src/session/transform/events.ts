import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { emptyActiveState, observe, type ActiveState, type AgentMode, type Json, type PermissionState } from './active-state.js';
import { closingBlock } from './closing-block.js';
import { eventClass } from './event-types.js';
import { withoutGrants, type GrantCounts } from './grants.js';
import type { PathRemapper } from './path-mapping.js';
import { BeamError } from '../../errors.js';

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
  /** Tool approvals skills carried (field or front matter), removed. */
  readonly droppedApprovals: number;
  /** Remote steering and MCP "all tools" switches, turned off. */
  readonly remoteSwitches: number;
  /** Events of types the client never writes to disk (or may reopen from it), left out. */
  readonly droppedEvents: number;
  /** Scheduled prompts left open by the source, cancelled. */
  readonly cancelledSchedules: number;
  /** A custom agent the main agent had selected, deselected. */
  readonly deselectedAgent?: string;
  /** The main agent's mode, when it was not interactive (it is now). */
  readonly modeReset?: AgentMode;
  /** The permissions in force, when they were not manual approval (they are now). */
  readonly permissionReset?: PermissionState;
}

interface SessionEvent {
  type?: unknown;
  data?: Json;
  id?: unknown;
  [key: string]: unknown;
}

/** What the rewrite keeps track of across lines. */
interface Tracker {
  readonly state: ActiveState;
  lastId: string | null;
  readonly remapped: { count: number };
  readonly grants: GrantCounts;
  context?: Json;
  /** Dropped events' ids, with the nearest ancestor that was kept. */
  readonly droppedParents: Map<string, string | null>;
  droppedEvents: number;
}

export { NOT_EXECUTED_CODE } from './closing-block.js';
const CHUNK_BYTES = 1024 * 1024;
/** The longest line the rewrite holds: far beyond any event the client writes. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const NEWLINE = Buffer.from('\n');

/** A line kept byte for byte (its line end written as LF), one left out, or its replacement with its LF. */
type LineOutcome = typeof KEEP | typeof DROP | Uint8Array;
const KEEP = Symbol('keep');
const DROP = Symbol('drop');

function withoutCr(line: Buffer): Buffer {
  return line.at(-1) === CR ? line.subarray(0, -1) : line;
}

/**
 * The rewrite as a stream: bytes of events.jsonl in, rewritten bytes out, whole lines at a time.
 * The receiver feeds it while the file arrives, so the history is rewritten during the transfer
 * instead of read back and written again after it. Chunks handed in must not be reused by the
 * caller until the parts returned for them are written (unchanged lines go out as slices); after
 * that they may be, since the rewrite keeps no view of them (a cut line's start is copied).
 */
export class EventLogRewriter {
  private readonly tracker: Tracker = {
    state: emptyActiveState(),
    lastId: null,
    remapped: { count: 0 },
    grants: { approvals: 0, switches: 0 },
    droppedParents: new Map(),
    droppedEvents: 0,
  };
  private events = 0;
  /** A line cut by a chunk boundary waits here; joined once its end arrives, so long lines cost O(n). */
  private carried: Buffer[] = [];
  private carriedBytes = 0;
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
      this.carry(bytes);
      return [];
    }
    const parts: Uint8Array[] = [];
    if (this.carried.length > 0) {
      // Only the cut line is joined, not the whole chunk: a copy per line, not per chunk.
      const line = Buffer.concat([...this.carried, bytes.subarray(0, end)]);
      this.emit(this.rewriteLine(line), parts, line);
      this.carried = [];
      this.carriedBytes = 0;
      start = end + 1;
      end = bytes.indexOf(LF, start);
    }
    // Lines that go out as they came are handed on as one slice per run, not two parts per line:
    // the writer then copies nothing (most lines of a history are unchanged).
    let runStart = start;
    for (; end !== -1; end = bytes.indexOf(LF, start)) {
      const line = bytes.subarray(start, end);
      const outcome = this.rewriteLine(line);
      if (outcome !== KEEP || line.at(-1) === CR) {
        if (runStart < start) parts.push(bytes.subarray(runStart, start));
        this.emit(outcome, parts, line);
        runStart = end + 1;
      }
      start = end + 1;
    }
    if (runStart < start) parts.push(bytes.subarray(runStart, start));
    if (start < bytes.length) this.carry(bytes.subarray(start));
    return parts;
  }

  private emit(outcome: LineOutcome, parts: Uint8Array[], line: Buffer): void {
    if (outcome === DROP) return;
    if (outcome === KEEP) parts.push(withoutCr(line), NEWLINE);
    else parts.push(outcome);
  }

  /**
   * A line must be parsed whole, so it is held whole: a history with one endless line (a hostile
   * one; the client writes events of a few MiB at most) is refused before it fills the memory.
   */
  private carry(bytes: Buffer): void {
    this.carriedBytes += bytes.length;
    if (this.carriedBytes > MAX_LINE_BYTES) {
      throw new BeamError('session', `events.jsonl has a line longer than ${MAX_LINE_BYTES / 1024 ** 2} MiB, which copilot-beam does not rewrite: nothing was installed`);
    }
    this.carried.push(Buffer.from(bytes));
  }

  /** The last (unterminated) line and the events we append; afterwards `report` is set. */
  finish(): Uint8Array[] {
    if (this.result) throw new Error('the event log was already finished');
    const parts: Uint8Array[] = [];
    if (this.carried.length > 0) {
      const line = Buffer.concat(this.carried);
      this.emit(this.rewriteLine(line), parts, line);
    }
    this.carried = [];
    this.carriedBytes = 0;
    const block = closingBlock(this.tracker.state, this.tracker.lastId, this.move, this.move.mapping ? this.tracker.context : undefined);
    for (const event of block.events) parts.push(Buffer.from(`${JSON.stringify(event)}\n`));
    this.result = {
      events: this.events,
      remappedStrings: this.tracker.remapped.count,
      neutralisedToolCalls: block.neutralised,
      droppedApprovals: this.tracker.grants.approvals,
      remoteSwitches: this.tracker.grants.switches,
      droppedEvents: this.tracker.droppedEvents,
      cancelledSchedules: block.cancelledSchedules,
      ...(block.deselectedAgent !== undefined ? { deselectedAgent: block.deselectedAgent } : {}),
      ...(block.modeReset ? { modeReset: block.modeReset } : {}),
      ...(block.permissionReset ? { permissionReset: block.permissionReset } : {}),
    };
    return parts;
  }

  /** Set once finish() has run. */
  get report(): EventTransformReport | undefined {
    return this.result;
  }

  /** What becomes of one line (without its line feed): kept as it is, dropped, or these bytes instead. */
  private rewriteLine(bytes: Buffer): LineOutcome {
    const line = withoutCr(bytes).toString('utf8');
    // An event starts with "{": only other lines can be blank.
    if (line.charCodeAt(0) !== 0x7b && line.trim() === '') return DROP;
    let event: SessionEvent;
    try {
      event = JSON.parse(line) as SessionEvent;
    } catch {
      return KEEP; // a torn line is kept as it was: not ours to repair
    }
    this.events++;
    if (eventClass(typeof event.type === 'string' ? event.type : '') === 'dropped') {
      // Its children are chained to its parent instead, so the chain has no hole.
      if (typeof event.id === 'string') this.tracker.droppedParents.set(event.id, liveParent(event, this.tracker));
      this.tracker.droppedEvents++;
      return DROP;
    }
    const chained = withLiveParent(event, this.tracker);
    // Most lines hold no source path: skipping the deep remap for them changes nothing but time.
    const rewritten = rewriteEvent(chained, this.tracker, this.remapper?.mayOccurIn(line) ? this.remapper : undefined);
    // Unchanged events keep their exact bytes (JSON.stringify would turn 0.0 into 0, for one).
    return rewritten === event ? KEEP : Buffer.from(`${JSON.stringify(rewritten)}\n`);
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

/** The event's parent, or the nearest ancestor that was not dropped. */
function liveParent(event: SessionEvent, tracker: Tracker): string | null {
  const parent = typeof event.parentId === 'string' ? event.parentId : null;
  return parent !== null && tracker.droppedParents.has(parent) ? (tracker.droppedParents.get(parent) ?? null) : parent;
}

function withLiveParent(event: SessionEvent, tracker: Tracker): SessionEvent {
  if (typeof event.parentId !== 'string' || !tracker.droppedParents.has(event.parentId)) return event;
  return { ...event, parentId: liveParent(event, tracker) };
}

function withField(data: Json, key: string, value: unknown): Json {
  return data[key] === value ? data : { ...data, [key]: value };
}

function rewriteEvent(event: SessionEvent, tracker: Tracker, remapper: PathRemapper | undefined): SessionEvent {
  if (typeof event.id === 'string') tracker.lastId = event.id;
  const type = typeof event.type === 'string' ? event.type : '';
  const original = event.data;
  if (!original || typeof original !== 'object') return event;
  let data = original;
  const remap = <T>(value: T): T => (remapper ? remapper.remapJson(value, tracker.remapped) : value);

  // Copy on write: an event that needs no change stays the same object and keeps its bytes.
  if (type.startsWith('tool.') || type === 'session.context_changed') data = remap(data);
  else if (data.context && typeof data.context === 'object') data = withField(data, 'context', remap(data.context));
  if (type === 'assistant.message') data = withField(data, 'toolRequests', remap(data.toolRequests));
  data = withoutGrants(type, data, tracker.grants);

  observe(tracker.state, type, event, data);
  if (type === 'session.start' || type === 'session.resume' || type === 'session.context_changed') {
    tracker.context = (type === 'session.context_changed' ? data : (data.context as Json | undefined)) ?? tracker.context;
  }
  return data === original ? event : { ...event, data };
}
