import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { EVENT_CLASSES, NEUTRALISED_BY, eventClass } from '../src/session/transform/event-types.js';
import { transformEvents } from '../src/session/transform/events.js';
import { clientEventSchema } from './helpers/copilot-cli.js';
import { tempDir } from './helpers/e2e.js';

/** Every `…Event` interface of the schema: its type, and whether the schema says it is never written to disk. */
function schemaEventTypes(schema: string): Map<string, { ephemeral: boolean }> {
  const types = new Map<string, { ephemeral: boolean }>();
  for (const [, body] of schema.matchAll(/export interface \w+Event \{([\s\S]*?)\n\}/g)) {
    const type = /Type discriminator\. Always "([^"]+)"/.exec(body!)?.[1];
    if (type) types.set(type, { ephemeral: /^\s*ephemeral: true;/m.test(body!) });
  }
  return types;
}

const schema = await clientEventSchema();

test('every event type of the installed client is classified, and every one it never writes is dropped', { skip: schema ? false : 'skipped: the real Copilot CLI is not installed' }, () => {
  const types = schemaEventTypes(schema!);
  assert.ok(types.size > 100, `the schema parsed into ${types.size} types`);
  const unknown = [...types.keys()].filter((type) => !(type in EVENT_CLASSES));
  assert.deepEqual(unknown, [], 'the installed client has event types copilot-beam has not classified: classify them in src/session/transform/event-types.ts');
  const stale = Object.keys(EVENT_CLASSES).filter((type) => !types.has(type));
  assert.deepEqual(stale, [], 'classified types the installed client no longer has');
  for (const [type, { ephemeral }] of types) {
    if (ephemeral) assert.equal(EVENT_CLASSES[type], 'dropped', `${type} is never written to disk by the client`);
  }
  for (const [type, kind] of Object.entries(EVENT_CLASSES)) {
    assert.equal(kind === 'neutralised', type in NEUTRALISED_BY, `${type}: a neutralised type says how`);
  }
});

test('events of types the client never writes are left out, and the parent chain is mended', async () => {
  const dir = await tempDir('dropped');
  const path = join(dir, 'events.jsonl');
  const line = (id: string, parentId: string | null, type: string, data: object): string => `${JSON.stringify({ type, data, id, timestamp: '2026-11-20T09:00:00.000Z', parentId })}\n`;
  const kept = line('a', null, 'user.message', { content: 'hi' });
  await writeFile(
    path,
    kept +
      line('b', 'a', 'session.idle', {}) +
      line('c', 'b', 'session.canvas.recorded', { canvasId: 'x', extensionId: 'y', instanceId: 'z' }) +
      line('d', 'c', 'assistant.turn_end', { turnId: '1' }),
  );
  const report = await transformEvents(path, { sourceHost: 'laptop', destinationHost: 'codespace', movedAt: new Date(0) });
  assert.equal(report.droppedEvents, 2);
  const after = (await readFile(path, 'utf8')).trim().split('\n').map((text) => JSON.parse(text) as { id: string; type: string; parentId: string | null });
  assert.ok((await readFile(path, 'utf8')).startsWith(kept), 'kept lines keep their bytes');
  assert.deepEqual(after.slice(0, 2).map((event) => [event.id, event.type, event.parentId]), [
    ['a', 'user.message', null],
    ['d', 'assistant.turn_end', 'a'],
  ]);
  assert.equal(after[2]!.parentId, 'd', 'the closing block follows the last kept event');
});

test("an event type named like one of Object's members is inert, not that member", () => {
  for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) assert.equal(eventClass(type), 'inert', type);
  assert.equal(eventClass('assistant.idle'), 'dropped');
  assert.equal(eventClass('tool.execution_start'), 'neutralised');
});
