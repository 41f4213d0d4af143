import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatCode, parseCode, WORDLIST, type Code } from '../src/code/index.js';
import { DEFAULT_LIMITS, MANIFEST_FORMAT, whyPathIsUnsafe } from '../src/bundle/index.js';
import { validateSessionManifest } from '../src/session/manifest.js';
import { BeamError } from '../src/errors.js';
import { encodeFrame, FrameDecoder, FrameType } from '../src/transport/framing.js';
import { PathRemapper } from '../src/session/transform/path-mapping.js';
import { EventLogRewriter, transformEvents } from '../src/session/transform/events.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './helpers/e2e.js';

/** Property-based tests. `npm test` runs a few hundred cases each; `npm run bench` runs 10,000. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const settings = { numRuns: RUNS };

const isKind = (kind: string) => (error: unknown): boolean => error instanceof BeamError && error.kind === kind;

const codeArbitrary: fc.Arbitrary<Code> = fc
  .tuple(fc.integer({ min: 1, max: 9999 }), fc.array(fc.constantFrom(...WORDLIST), { minLength: 2, maxLength: 8 }))
  .map(([nameplate, words]) => ({ nameplate: String(nameplate), words }));

test('codes: however they are typed (case, separators, unique prefixes), they parse back', () => {
  fc.assert(
    fc.property(
      codeArbitrary,
      fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
      fc.constantFrom('-', ' ', '  ', ' - '),
      fc.integer({ min: 3, max: 12 }),
      (code, upper, separator, prefixLength) => {
        const typed = [code.nameplate, ...code.words.map((word, i) => {
          const prefix = word.slice(0, Math.max(3, prefixLength));
          return upper[i] ? prefix.toUpperCase() : prefix;
        })].join(separator);
        assert.deepEqual(parseCode(typed), code);
        assert.deepEqual(parseCode(formatCode(code)), code);
      },
    ),
    settings,
  );
});

test('codes: any input either parses to words of the list or fails as a usage error', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.stringMatching(/^[0-9a-z -]{0,40}$/)), (input) => {
      try {
        const code = parseCode(input);
        assert.match(code.nameplate, /^[1-9]\d*$/);
        for (const word of code.words) assert.ok(WORDLIST.includes(word));
      } catch (error) {
        assert.ok(isKind('usage')(error), String(error));
      }
    }),
    settings,
  );
});

const frameArbitrary = fc.record({
  type: fc.constantFrom(FrameType.PakeShare, FrameType.Confirm, FrameType.Sealed, FrameType.Refuse),
  body: fc.uint8Array({ maxLength: 300 }),
});

test('frames: any sequence, cut anywhere, decodes to itself', () => {
  fc.assert(
    fc.property(fc.array(frameArbitrary, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (frames, cuts) => {
      const wire = Buffer.concat(frames.map((frame) => encodeFrame(frame.type, frame.body)));
      const points = [...new Set(cuts.map((cut) => cut % (wire.length + 1)))].sort((a, b) => a - b);
      const decoder = new FrameDecoder();
      const got = [];
      let previous = 0;
      for (const point of [...points, wire.length]) {
        got.push(...decoder.push(wire.subarray(previous, point)));
        previous = point;
      }
      assert.deepEqual(got.map((frame) => [frame.type, Buffer.from(frame.body).toString('hex')]), frames.map((frame) => [frame.type, Buffer.from(frame.body).toString('hex')]));
      assert.equal(decoder.bufferedBytes, 0);
    }),
    settings,
  );
});

test('frames: random bytes never crash the decoder, they fail as protocol errors or wait for more', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        for (const frame of new FrameDecoder(4096).push(bytes)) assert.ok(Object.values(FrameType).includes(frame.type));
      } catch (error) {
        assert.ok(isKind('protocol')(error), String(error));
      }
    }),
    settings,
  );
});

const segmentOf = (pattern: RegExp) => fc.stringMatching(pattern).filter((s) => s !== '.' && s !== '..');
const pathOf = (segment: fc.Arbitrary<string>) => fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const safePath = pathOf(segmentOf(/^[A-Za-z0-9_.-]{1,12}$/));
/** One letter case only, so that generated trees never clash by case (that clash is tested apart). */
const lowerPath = pathOf(segmentOf(/^[a-z0-9_.-]{1,12}$/));
const hash = fc.stringMatching(/^[0-9a-f]{64}$/);

test('manifests: generated valid ones pass; injecting an unsafe path always fails', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(lowerPath, { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 10, maxLength: 10 }),
      hash,
      fc.constantFrom('../x', '/etc/passwd', 'a/../../b', 'C:\\\\x', 'a//b', './a', 'a\u0000b'),
      (paths, sizes, sha256, unsafe) => {
        // Keep only leaves: a path that is a prefix folder of another is a folder, not a file.
        const files = paths.filter((path) => !paths.some((other) => other.startsWith(`${path}/`)));
        const directories = [...new Set(files.flatMap((path) => path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))];
        const entries = files.map((path, i) => ({ path, size: sizes[i]!, mode: 0o644, sha256 }));
        const manifest = {
          format: MANIFEST_FORMAT,
          sessionId: '11111111-2222-4333-8444-555555555555',
          source: { hostname: 'h', platform: 'linux' },
          directories,
          files: entries,
          totalBytes: entries.reduce((sum, entry) => sum + entry.size, 0),
        };
        const checked = validateSessionManifest(manifest, DEFAULT_LIMITS);
        assert.deepEqual(checked.files, entries);
        assert.deepEqual(checked.directories, directories);
        const hostile = { ...manifest, files: [...entries, { path: unsafe, size: 0, mode: 0o600, sha256 }] };
        // Refused for the path itself: a folder that is not listed would refuse most of these too.
        const reason = whyPathIsUnsafe(unsafe);
        assert.notEqual(reason, null);
        assert.throws(
          () => validateSessionManifest(hostile, DEFAULT_LIMITS),
          (error: unknown) => isKind('protocol')(error) && String(error).includes(`a path ${reason}: ${JSON.stringify(unsafe)}`),
        );
      },
    ),
    settings,
  );
});

test('manifests: arbitrary JSON is refused as a protocol error or yields only safe paths', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.option(fc.array(fc.record({ path: fc.string(), size: fc.integer(), mode: fc.integer(), sha256: fc.string() }), { maxLength: 4 })), (noise, files) => {
      const candidate = files ? { format: MANIFEST_FORMAT, sessionId: '11111111-2222-4333-8444-555555555555', source: { hostname: 'h', platform: 'p' }, directories: [], files, totalBytes: 0 } : noise;
      try {
        const checked = validateSessionManifest(candidate, DEFAULT_LIMITS);
        for (const file of checked.files) assert.equal(whyPathIsUnsafe(file.path), null);
      } catch (error) {
        assert.ok(isKind('protocol')(error), String(error));
      }
    }),
    settings,
  );
});

test('path remap: whole prefixes move, longer names and other text stay', () => {
  const remapper = new PathRemapper({ from: '/Users/alice/code/app', to: '/workspaces/app' });
  fc.assert(
    fc.property(safePath, fc.string(), fc.stringMatching(/^[A-Za-z0-9_.~@%+=-]$/), (suffix, text, continuation) => {
      assert.equal(remapper.remap(`/Users/alice/code/app/${suffix}`), `/workspaces/app/${suffix}`);
      assert.equal(remapper.remap(`cd "/Users/alice/code/app/${suffix}"`), `cd "/workspaces/app/${suffix}"`);
      assert.equal(remapper.remap(`/Users/alice/code/app${continuation}`), `/Users/alice/code/app${continuation}`);
      if (!text.includes('/Users/alice/code/app')) assert.equal(remapper.remap(text), text);
      const value = { a: [`/Users/alice/code/app/${suffix}`, 1, null], b: { c: text } };
      const remapped = remapper.remapJson(value);
      assert.equal(remapped.a[0], `/workspaces/app/${suffix}`);
      assert.deepEqual(remapper.remapJson(remapped), remapped, 'remapping is idempotent');
    }),
    settings,
  );
});

test("event transform: afterwards every tool call's last word is a completion, none is added where it already was, the main agent is interactive with manual approval, and history is kept", async () => {
  const dir = await tempDir('property-events');
  const path = join(dir, 'events.jsonl');
  const step = fc.oneof(
    fc.record({ kind: fc.constant('request' as const), id: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ kind: fc.constant('start' as const), id: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ kind: fc.constant('complete' as const), id: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ kind: fc.constant('mode' as const), mode: fc.constantFrom('interactive', 'plan', 'autopilot'), subAgent: fc.boolean() }),
    fc.record({ kind: fc.constant('permissions' as const), data: fc.constantFrom<Record<string, unknown>>({ allowAllPermissions: true, allowAllPermissionMode: 'on' }, { mode: 'allow-all' }, { allowAllPermissionMode: 'auto' }, {}), subAgent: fc.boolean() }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
      const completed = new Set<string>();
      const lines = steps.map((s, i) => {
        const id = `e${i}`;
        const parentId = i === 0 ? null : `e${i - 1}`;
        if (s.kind === 'mode') return { type: 'session.mode_changed', data: { previousMode: 'interactive', newMode: s.mode }, id, parentId, ...(s.subAgent ? { agentId: 'sub' } : {}) };
        if (s.kind === 'permissions') return { type: 'session.permissions_changed', data: s.data, id, parentId, ...(s.subAgent ? { agentId: 'sub' } : {}) };
        const call = `call_${s.id}`;
        if (s.kind === 'request') return { type: 'assistant.message', data: { content: '', toolRequests: [{ toolCallId: call, name: 'bash', arguments: { command: 'ls' } }] }, id, parentId };
        if (s.kind === 'start') return { type: 'tool.execution_start', data: { toolCallId: call, toolName: 'bash', arguments: { command: 'ls' } }, id, parentId };
        if (completed.has(call)) return { type: 'session.info', data: { infoType: 'x', message: 'y' }, id, parentId };
        completed.add(call);
        return { type: 'tool.execution_complete', data: { toolCallId: call, success: true, result: { content: 'ok' } }, id, parentId };
      });
      const original = lines.map((line) => JSON.stringify(line)).join('\n') + (lines.length ? '\n' : '');
      await writeFile(path, original);
      await transformEvents(path, { sourceHost: 'a', destinationHost: 'b', movedAt: new Date(0) });
      const after = await readFile(path, 'utf8');
      assert.ok(after.startsWith(original));
      type Line = { type: string; agentId?: string; data: { toolCallId?: string; toolRequests?: Array<{ toolCallId: string }>; newMode?: string; allowAllPermissionMode?: string; allowAllPermissions?: boolean } };
      const events = after.trim().split('\n').map((line) => JSON.parse(line) as Line);
      // A request or start opens a call (again, even after a completion); a completion closes it.
      const callsOf = (e: Line): string[] => (e.type === 'assistant.message' ? (e.data.toolRequests ?? []).map((r) => r.toolCallId) : e.data.toolCallId !== undefined ? [e.data.toolCallId] : []);
      const lastWords = (list: Line[]): Map<string, string> => new Map(list.flatMap((e) => callsOf(e).map((call) => [call, e.type] as const)));
      const before = lastWords(events.slice(0, lines.length));
      for (const [call, type] of lastWords(events)) assert.equal(type, 'tool.execution_complete', call);
      const added = events.slice(lines.length).filter((e) => e.type === 'tool.execution_complete').length;
      assert.equal(added, [...before.values()].filter((type) => type !== 'tool.execution_complete').length);
      // What the client restores on resume: the last main-agent mode, and the last permissions event of anyone.
      const lastMode = events.filter((e) => e.type === 'session.mode_changed' && e.agentId === undefined).at(-1);
      assert.equal(lastMode?.data.newMode, 'interactive');
      const lastPermissions = events.filter((e) => e.type === 'session.permissions_changed').at(-1);
      assert.equal(lastPermissions?.data.allowAllPermissionMode, 'off');
      assert.equal(lastPermissions?.data.allowAllPermissions, false);
      assert.equal(lastPermissions?.agentId, undefined);
      assert.equal(events.at(-1)?.type, 'session.handoff');
    }),
    settings,
  );
});

test('event transform: fed in any chunks of a reused buffer while it arrives, the rewrite equals the one done on the whole file', async () => {
  const dir = await tempDir('property-chunks');
  const path = join(dir, 'events.jsonl');
  const line = fc.oneof(
    fc.record({ content: fc.string({ unit: 'binary', maxLength: 40 }) }).map((data) => ({ type: 'user.message', data })),
    fc.integer({ min: 0, max: 5 }).map((n) => ({ type: 'tool.execution_start', data: { toolCallId: `c${n}`, toolName: 'bash', arguments: { command: `cd /src/app && ls é${n}` } } })),
    fc.integer({ min: 0, max: 5 }).map((n) => ({ type: 'tool.execution_complete', data: { toolCallId: `c${n}`, success: true, result: { content: `/src/app/${n} ✓` } } })),
    fc.constant('not json {'),
  );
  const move = { sourceHost: 'a', destinationHost: 'b', movedAt: new Date(0), mapping: { from: '/src/app', to: '/workspaces/app' } };
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), async (lines, cuts, crlf) => {
      const eol = crlf ? '\r\n' : '\n';
      const original = Buffer.from(lines.map((entry) => (typeof entry === 'string' ? entry : JSON.stringify(entry))).join(eol) + (lines.length ? eol : ''));
      await writeFile(path, original);
      const whole = await transformEvents(path, move, new PathRemapper(move.mapping));
      // Appended events carry fresh random ids: everything else must be identical, byte for byte.
      const withoutIds = (text: string): string => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID');
      const expected = withoutIds(await readFile(path, 'utf8'));

      const rewriter = new EventLogRewriter(move, new PathRemapper(move.mapping));
      const points = [...new Set(cuts.map((cut) => cut % (original.length + 1)))].sort((a, b) => a - b);
      // Like the receiver, each piece arrives in one reused buffer, scribbled over once the parts
      // returned for it are written: the rewrite may keep no view of it.
      const reused = Buffer.alloc(original.length);
      const written: Buffer[] = [];
      const write = (parts: readonly Uint8Array[]): void => {
        for (const part of parts) written.push(Buffer.from(part));
        reused.fill(0x7b);
      };
      let start = 0;
      for (const point of [...points, original.length]) {
        const length = original.copy(reused, 0, start, point);
        write(rewriter.push(reused.subarray(0, length)));
        start = point;
      }
      write(rewriter.finish());
      assert.equal(withoutIds(Buffer.concat(written).toString('utf8')), expected);
      assert.deepEqual({ ...rewriter.report, neutralisedToolCalls: rewriter.report?.neutralisedToolCalls.length }, { ...whole, neutralisedToolCalls: whole.neutralisedToolCalls.length });
    }),
    settings,
  );
});
