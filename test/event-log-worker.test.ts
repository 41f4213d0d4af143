import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSampleSession } from '../scripts/sample-session.js';
import { BeamError } from '../src/errors.js';
import { EventLogRewriter, EventLogWorker, PathRemapper, type MoveDescription } from '../src/session/transform/index.js';
import { MAX_LINE_BYTES } from '../src/session/transform/events.js';
import { tempDir } from './helpers/e2e.js';

const move: MoveDescription = { sourceHost: 'laptop', destinationHost: 'codespace', movedAt: new Date(0), mapping: { from: '/home/alice/code/app', to: '/workspaces/app' } };
/** Appended events carry fresh random ids: everything else must be identical, byte for byte. */
const withoutIds = (text: string): string => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID');

/** Feeds `bytes` in uneven chunks of one reused buffer, as the receiver does. */
async function feed(sink: EventLogWorker, bytes: Buffer): Promise<void> {
  const reused = Buffer.alloc(300 * 1024);
  for (let start = 0, step = 1; start < bytes.length; step = (step * 7 + 3) % 300) {
    const length = bytes.copy(reused, 0, start, Math.min(bytes.length, start + step * 1024 + 17));
    let released = false;
    await sink.write(reused.subarray(0, length), () => (released = true));
    assert.ok(released, 'the chunk is given back at once: the thread has its own copy');
    reused.fill(0x7b);
    start += length;
  }
}

test('the rewrite on its own thread writes what the rewrite on the receiving thread writes, and reports the same', async () => {
  const home = await tempDir('rewrite-thread');
  const { dir } = await createSampleSession({ copilotHome: home, eventsBytes: 3 * 1024 * 1024, kind: 'source' });
  const openCall = { type: 'assistant.message', data: { content: '', toolRequests: [{ toolCallId: 'open-1', name: 'bash', arguments: { command: 'ls /home/alice/code/app' } }] }, id: 'e-open', parentId: null };
  const original = Buffer.concat([await readFile(join(dir, 'events.jsonl')), Buffer.from(`${JSON.stringify(openCall)}\n`)]);

  const inline = new EventLogRewriter(move, new PathRemapper(move.mapping!));
  const expected = Buffer.concat([...inline.push(original), ...inline.finish()]);

  const target = join(home, 'events.jsonl');
  const sink = new EventLogWorker({ path: target, mode: 0o600 }, move);
  await feed(sink, original);
  await sink.close();
  assert.equal(withoutIds((await readFile(target)).toString('utf8')), withoutIds(expected.toString('utf8')));
  assert.ok(inline.report!.remappedStrings > 0 && inline.report!.neutralisedToolCalls.length > 0, 'the sample exercises the rewrite');
  assert.deepEqual(sink.report, inline.report);
});

test('a chunk decoded into a buffer the thread lent crosses as it is, with the same result as a copied one', async () => {
  const home = await tempDir('rewrite-thread-lent');
  const { dir } = await createSampleSession({ copilotHome: home, eventsBytes: 2 * 1024 * 1024, kind: 'source' });
  const original = await readFile(join(dir, 'events.jsonl'));
  const inline = new EventLogRewriter(move, new PathRemapper(move.mapping!));
  const expected = Buffer.concat([...inline.push(original), ...inline.finish()]);

  const target = join(home, 'events.jsonl');
  const sink = new EventLogWorker({ path: target, mode: 0o600 }, move);
  const block = 256 * 1024;
  let handedOver = 0;
  for (let start = 0; start < original.length; start += block) {
    const buffer = sink.decodeBuffer(block + 1);
    const length = original.copy(buffer, 0, start, start + block);
    const chunk = buffer.subarray(0, length);
    await sink.write(chunk, () => undefined);
    if (chunk.byteLength === 0) handedOver++; // transferred to the thread: no copy was made
  }
  await sink.close();
  assert.equal(handedOver, Math.ceil(original.length / block));
  assert.equal(withoutIds((await readFile(target)).toString('utf8')), withoutIds(expected.toString('utf8')));
});

test('the rewrite thread reports a line too long to hold as the receiving thread would, and stops', async () => {
  const home = await tempDir('rewrite-thread-long');
  const sink = new EventLogWorker({ path: join(home, 'events.jsonl'), mode: 0o600 }, move);
  const block = Buffer.alloc(4 * 1024 * 1024, 0x61);
  const writing = (async () => {
    for (let i = 0; i <= MAX_LINE_BYTES / block.length + 4; i++) await sink.write(block, () => undefined);
    await sink.close();
  })();
  await assert.rejects(writing, (error: unknown) => error instanceof BeamError && error.kind === 'session' && /line longer than 64 MiB/.test(error.message));
});

test('the rewrite thread never writes over an existing file, and says which file it could not write', async () => {
  const home = await tempDir('rewrite-thread-exists');
  const target = join(home, 'events.jsonl');
  await writeFile(target, 'already here\n');
  const sink = new EventLogWorker({ path: target, mode: 0o600 }, move);
  await assert.rejects(
    (async () => {
      await sink.write(Buffer.from('{"type":"session.info","data":{}}\n'), () => undefined);
      await sink.close();
    })(),
    (error: unknown) => error instanceof BeamError && error.kind === 'install' && /cannot write events\.jsonl/.test(error.message),
  );
  assert.equal(await readFile(target, 'utf8'), 'already here\n');
});

test('a rewrite thread destroyed half-way ends quietly', async () => {
  const home = await tempDir('rewrite-thread-destroyed');
  const sink = new EventLogWorker({ path: join(home, 'events.jsonl'), mode: 0o600 }, move);
  await sink.write(Buffer.from('{"type":"session.info","data":{}}\n'), () => undefined);
  await sink.destroy();
  await assert.rejects(sink.write(Buffer.from('more\n'), () => undefined).then(() => sink.close()));
});
