import assert from 'node:assert/strict';
import { readFile, writeFile, appendFile, utimes, open, rm, stat, mkdir } from 'node:fs/promises';
import { BeamError } from '../src/errors.js';
import { fileIdentity, hashFile } from '../src/bundle/pack.js';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSampleSession } from '../scripts/sample-session.js';
import { scanSessionFolder } from '../src/session/session-files.js';
import { scanForSecrets } from '../src/session/secrets/scan.js';
import { scanThreadCount, startScanThreadsEarly, stopEarlyScanThreads, takeEarlyScanThreads } from '../src/session/secrets/pool.js';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { findSecrets, redact } from '../src/session/secrets/rules.js';
import { tempDir } from './helpers/e2e.js';

import { FAKE_GITHUB_TOKEN, FAKE_SLACK_TOKEN } from './helpers/fake-secrets.js';

test('the recommended rules find tokens by kind, and redaction names the kind', async () => {
  const text = `export GITHUB_TOKEN=${FAKE_GITHUB_TOKEN}\nSLACK=${FAKE_SLACK_TOKEN}\nnothing here\n`;
  const matches = await findSecrets(text, 'output.txt');
  assert.deepEqual(matches.map((match) => match.kind).sort(), ['GITHUB_TOKEN', 'SLACK_TOKEN']);
  const redacted = redact(text, matches);
  assert.ok(!redacted.includes(FAKE_GITHUB_TOKEN) && !redacted.includes(FAKE_SLACK_TOKEN));
  assert.match(redacted, /export GITHUB_TOKEN=\[redacted:GITHUB_TOKEN\]\n/);
  assert.match(redacted, /nothing here\n$/);
});

test("the profiler rules.ts switches off is the one secretlint's core loads (one copy installed)", () => {
  const fromCore = createRequire(createRequire(import.meta.url).resolve('@secretlint/core')).resolve('@secretlint/profiler');
  assert.equal(createRequire(import.meta.url).resolve('@secretlint/profiler'), fromCore);
});

test("secretlint's core marks nothing: its own profiler instance is the one switched off", async () => {
  performance.clearMarks();
  await findSecrets(`export GITHUB_TOKEN=${FAKE_GITHUB_TOKEN}\n`, 'output.txt');
  // Each lint and each rule would leave its start and end marks on the global timeline.
  assert.deepEqual(performance.getEntriesByType('mark').map((mark) => mark.name), []);
});

test('a session scan counts kinds without values, skips binaries, and redacts only a copy', async () => {
  const { dir } = await createSampleSession({ copilotHome: await tempDir('secrets'), eventsBytes: 2 * 1024 * 1024 });
  const leak = JSON.stringify({ type: 'tool.execution_complete', data: { toolCallId: 'c', success: true, result: { content: `GH=${FAKE_GITHUB_TOKEN}` } } });
  await appendFile(join(dir, 'events.jsonl'), `${leak}\n`);
  await writeFile(join(dir, 'plan.md'), `Use ${FAKE_SLACK_TOKEN} to post.\n`);
  await writeFile(join(dir, 'files', 'blob.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(FAKE_GITHUB_TOKEN)]));
  const before = await readFile(join(dir, 'events.jsonl'));

  const { files } = await scanSessionFolder(dir);
  const plain = await scanForSecrets(dir, files);
  assert.equal(plain.summary.found, 2);
  assert.deepEqual(plain.summary.kinds, { GITHUB_TOKEN: 1, SLACK_TOKEN: 1 });
  const eventLines = before.toString('utf8').split('\n').length - 1;
  assert.deepEqual(plain.summary.locations, [
    { path: 'events.jsonl', line: eventLines, kind: 'GITHUB_TOKEN' },
    { path: 'plan.md', line: 1, kind: 'SLACK_TOKEN' },
  ]);
  assert.equal(plain.replacements.size, 0);
  assert.ok(!JSON.stringify(plain.summary).includes(FAKE_GITHUB_TOKEN));

  const copies = await tempDir('redacted');
  const redacted = await scanForSecrets(dir, files, copies);
  assert.deepEqual([...redacted.replacements.keys()].sort(), ['events.jsonl', 'plan.md']);
  const events = await readFile(redacted.replacements.get('events.jsonl')!.path, 'utf8');
  assert.ok(!events.includes(FAKE_GITHUB_TOKEN));
  assert.ok(events.endsWith('"content":"GH=[redacted:GITHUB_TOKEN]"}}}\n'));
  for (const line of events.trim().split('\n')) JSON.parse(line); // still valid JSONL
  assert.equal(redacted.replacements.get('events.jsonl')!.size, Buffer.byteLength(events));
  assert.ok((await readFile(join(dir, 'events.jsonl'))).equals(before), 'the session itself is untouched');
});

test('a large session is scanned in pieces by worker threads: same findings, byte-exact redaction, long multibyte lines', async () => {
  const { dir } = await createSampleSession({ copilotHome: await tempDir('secrets-large'), eventsBytes: 18 * 1024 * 1024 });
  const events = join(dir, 'events.jsonl');
  // A line longer than a piece, of two-byte characters, with a token at its very end.
  const longLine = JSON.stringify({ type: 'tool.execution_complete', data: { toolCallId: 'long', success: true, result: { content: `${'é'.repeat(1_500_000)} ${FAKE_GITHUB_TOKEN}` } } });
  await appendFile(events, `${longLine}\n${JSON.stringify({ type: 'user.message', data: { content: `slack ${FAKE_SLACK_TOKEN}` } })}\n`);
  // Not UTF-8 well past the first piece: the whole file is binary and is not scanned.
  const invalid = Buffer.concat([Buffer.alloc(3 * 1024 * 1024, 0x61), Buffer.from([0xc3, 0x28]), Buffer.from(` ${FAKE_GITHUB_TOKEN}\n`)]);
  await writeFile(join(dir, 'files', 'latin1.log'), invalid);
  const original = await readFile(events, 'utf8');

  const { files } = await scanSessionFolder(dir);
  const copies = await tempDir('redacted-large');
  const result = await scanForSecrets(dir, files, copies);
  assert.deepEqual(result.summary.kinds, { GITHUB_TOKEN: 1, SLACK_TOKEN: 1 });
  // Numbered across pieces and threads: the long line and the one after it are the file's last two.
  const lines = original.split('\n').length - 1;
  assert.deepEqual(result.summary.locations, [
    { path: 'events.jsonl', line: lines - 1, kind: 'GITHUB_TOKEN' },
    { path: 'events.jsonl', line: lines, kind: 'SLACK_TOKEN' },
  ]);
  assert.equal(result.summary.filesScanned, files.length - 3, 'session.db, the rewind backup and the invalid UTF-8 log are not text');
  const redacted = await readFile(result.replacements.get('events.jsonl')!.path, 'utf8');
  const expected = original.replace(FAKE_GITHUB_TOKEN, '[redacted:GITHUB_TOKEN]').replace(FAKE_SLACK_TOKEN, '[redacted:SLACK_TOKEN]');
  assert.ok(redacted === expected, 'the redacted copy differs from the original only where the secrets were');
});

test('hashing as the scan reads: every file hashed as hashFile does, binaries read to their end, the identity noted once it held', async () => {
  // 1 MiB is scanned on this thread, 18 MiB by scan threads: the hash comes from the same reads.
  for (const eventsBytes of [1024 * 1024, 18 * 1024 * 1024]) {
    const { dir } = await createSampleSession({ copilotHome: await tempDir('scan-hash'), eventsBytes });
    // Text for more than a piece, then a NUL: binary, found late, hashed whole.
    await writeFile(join(dir, 'files', 'late-nul.bin'), Buffer.concat([Buffer.alloc(2 * 1024 * 1024 + 5, 0x62), Buffer.from([0]), Buffer.alloc(1024 * 1024, 0x63)]));
    await writeFile(join(dir, 'files', 'empty.txt'), '');
    const { files } = await scanSessionFolder(dir);
    // Files written a moment ago are racy (their next write may keep the same mtime): make them old.
    const old = new Date(Date.now() - 3_600_000);
    for (const file of files) await utimes(join(dir, file.path), old, old);
    await writeFile(join(dir, 'plan.md'), 'just written\n');
    const result = await scanForSecrets(dir, files.map((file) => (file.path === 'plan.md' ? { ...file, size: 13 } : file)), undefined, { hash: true });
    assert.deepEqual([...result.hashes.keys()].sort(), files.map((file) => file.path).sort());
    for (const file of files) {
      const path = join(dir, file.path);
      const read = result.hashes.get(file.path)!;
      const { sha256, size } = await hashFile(path);
      assert.deepEqual({ sha256: read.sha256, size: read.size }, { sha256, size }, file.path);
      if (file.path === 'plan.md') assert.equal(read.identity, undefined, 'a file written within the last second is not trusted by its identity');
      else assert.deepEqual(read.identity, await fileIdentity(path), file.path);
    }
    assert.ok(!result.textFiles.has('files/late-nul.bin'));
    // Without `hash`, nothing is hashed (and binaries are left at their first NUL).
    assert.equal((await scanForSecrets(dir, files)).hashes.size, 0);
  }
});

test('a file that cannot be read during the scan stops it with one line, even when the failing read was a read ahead', async () => {
  const dir = await tempDir('scan-read-error');
  await writeFile(join(dir, 'big.txt'), `${'line of text\n'.repeat(300_000)}token ${FAKE_GITHUB_TOKEN}\n`);
  const files = [{ path: 'big.txt', size: (await stat(join(dir, 'big.txt'))).size }];
  const probe = await open(join(dir, 'big.txt'), 'r');
  const prototype = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  const realRead = prototype.read;
  let reads = 0;
  prototype.read = function (this: unknown, ...args: unknown[]) {
    reads++;
    // The third read is the second piece's read ahead, under way while the first is redacted.
    return reads === 3 ? Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })) : realRead.apply(this, args);
  };
  try {
    await assert.rejects(scanForSecrets(dir, files, await tempDir('scan-read-error-copies'), { hash: true }), (error: Error) => error instanceof BeamError && /^cannot read .*big\.txt: EIO/.test(error.message));
  } finally {
    prototype.read = realRead;
  }
  await rm(join(dir, 'big.txt'));
  await assert.rejects(scanForSecrets(dir, files, undefined, { hash: true }), (error: Error) => error instanceof BeamError && /^cannot read .*big\.txt: ENOENT/.test(error.message));
});

// A machine with one core starts no scan threads, early or not.
const noScanThreads = { skip: scanThreadCount() < 1 ? 'one core: no scan threads' : false };

test('scan threads started early are taken by the next scan, whatever its size, and find the same secrets', noScanThreads, async () => {
  const { dir } = await createSampleSession({ copilotHome: await tempDir('secrets-early'), eventsBytes: 64 * 1024 });
  await writeFile(join(dir, 'plan.md'), `Use ${FAKE_SLACK_TOKEN} to post.\n`);
  const { files } = await scanSessionFolder(dir);
  const inThread = await scanForSecrets(dir, files, undefined, { hash: true });
  startScanThreadsEarly();
  const early = await scanForSecrets(dir, files, undefined, { hash: true });
  const left = takeEarlyScanThreads();
  await left?.close();
  assert.equal(left, undefined, 'the scan took the early threads (and closed them)');
  assert.deepEqual(early.summary, inThread.summary);
  assert.deepEqual(early.summary.kinds, { SLACK_TOKEN: 1 });
  assert.deepEqual([...early.hashes.entries()].sort(), [...inThread.hashes.entries()].sort());
  await stopEarlyScanThreads(); // nothing left to stop
});

test('scan threads started early and never used do not keep the process alive', noScanThreads, async () => {
  const pool = new URL('../src/session/secrets/pool.js', import.meta.url).href;
  const script = join(await tempDir('secrets-early-exit'), 'child.mjs');
  // The first threads scan a piece, which shows they run in the child; the second are left
  // started and unused. Were they to keep the process alive, the child would never exit and the
  // call would fail at its timeout.
  await writeFile(
    script,
    [
      `import { startScanThreadsEarly, takeEarlyScanThreads } from '${pool}';`,
      'startScanThreadsEarly();',
      'const used = takeEarlyScanThreads();',
      `const { result } = await used.scan({ bytes: new TextEncoder().encode(${JSON.stringify(`SLACK=${FAKE_SLACK_TOKEN}\n`)}), name: 'x.txt', redact: false });`,
      'await used.close();',
      'startScanThreadsEarly();',
      "console.log(result.text ? result.findings.map((finding) => finding.kind).join(',') : 'binary');",
    ].join('\n'),
  );
  const output = execFileSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(output.trim(), 'SLACK_TOKEN');
});

test('a scan whose folder for redacted copies is gone (a cancelled send) fails instead of making it again', async () => {
  const { dir } = await createSampleSession({ copilotHome: await tempDir('secrets-gone'), eventsBytes: 16 * 1024 });
  await mkdir(join(dir, 'research', 'notes'), { recursive: true });
  await writeFile(join(dir, 'research', 'notes', 'keys.md'), `Use ${FAKE_SLACK_TOKEN} to post.\n`);
  const { files } = await scanSessionFolder(dir);
  const gone = join(await tempDir('secrets-gone-copies'), 'removed');
  await assert.rejects(scanForSecrets(dir, files, gone, { hash: true }), /ENOENT/);
  await assert.rejects(stat(gone), /ENOENT/, 'the removed folder was not made again');
});

test('a stopped scan rejects at its next piece', async () => {
  const { dir } = await createSampleSession({ copilotHome: await tempDir('secrets-stopped'), eventsBytes: 16 * 1024 });
  const { files } = await scanSessionFolder(dir);
  const stop = new AbortController();
  stop.abort();
  await assert.rejects(scanForSecrets(dir, files, undefined, { hash: true, signal: stop.signal }), { name: 'AbortError' });
});
