import { formatLimit, formatOverLimit } from '../src/format.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS, MANIFEST_FORMAT, validateManifest, whyPathIsUnsafe, type ManifestRules } from '../src/bundle/index.js';
import { decodeSessionManifest, validateSessionManifest } from '../src/session/manifest.js';
import { offerDigest } from '../src/session/receipts.js';

const hash = 'a'.repeat(64);
function manifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const files = (overrides.files as Array<{ size: number }> | undefined) ?? [
    { path: 'events.jsonl', size: 10, mode: 0o600, sha256: hash },
    { path: 'checkpoints/index.md', size: 5, mode: 0o644, sha256: hash },
  ];
  return {
    format: MANIFEST_FORMAT,
    sessionId: '11111111-2222-4333-8444-555555555555',
    source: { hostname: 'laptop', platform: 'linux' },
    directories: ['checkpoints'],
    files,
    totalBytes: files.reduce((sum, file) => sum + file.size, 0),
    ...overrides,
  };
}

test('a well-formed manifest passes', () => {
  const checked = validateSessionManifest(manifest(), DEFAULT_LIMITS);
  assert.equal(checked.files.length, 2);
  assert.equal(checked.totalBytes, 15);
  const bytes = new TextEncoder().encode(JSON.stringify(manifest()));
  assert.deepEqual(decodeSessionManifest(bytes, DEFAULT_LIMITS), checked);
});

test('unsafe paths are refused', () => {
  for (const path of ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'C:/x', 'a//b', './a', 'a/.', '', 'a\u0000b', 'a\u001b[2Jb']) {
    assert.notEqual(whyPathIsUnsafe(path), null, JSON.stringify(path));
    const hostile = manifest({ files: [{ path, size: 1, mode: 0o600, sha256: hash }], directories: [] });
    assert.throws(() => validateSessionManifest(hostile, DEFAULT_LIMITS), /manifest was refused/, JSON.stringify(path));
  }
  assert.equal(whyPathIsUnsafe('rewind-file-snapshots/backups/abc'), null);
  assert.notEqual(whyPathIsUnsafe(`${'a/'.repeat(40)}b`), null);
});

test('hostile manifests are refused with a reason', () => {
  const file = (path: string, size = 1): Record<string, unknown> => ({ path, size, mode: 0o600, sha256: hash });
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [manifest({ format: 99 }), /format 99 is not supported/],
    [manifest({ sessionId: '../../etc' }), /not a UUID/],
    [manifest({ files: [file('a'), file('a')], directories: [] }), /appears twice/],
    [manifest({ files: [file('Readme'), file('README')], directories: [] }), /appears twice/],
    [manifest({ files: [file('a'), file('a/b')], directories: [] }), /is a file|not listed/],
    [manifest({ files: [file('x/y')], directories: [] }), /not listed/],
    [manifest({ files: [{ path: 'a', size: -1, mode: 0o600, sha256: hash }], directories: [] }), /invalid size/],
    [manifest({ files: [{ path: 'a', size: 1.5, mode: 0o600, sha256: hash }], directories: [] }), /invalid size/],
    [manifest({ files: [{ path: 'a', size: 1, mode: 0o4755, sha256: hash }], directories: [] }), /invalid mode/],
    [manifest({ files: [{ path: 'a', size: 1, mode: 0o600, sha256: 'zz' }], directories: [] }), /invalid SHA-256/],
    [{ ...manifest(), totalBytes: 1 }, /total size does not match/],
    [manifest({ source: { platform: 'linux' } }), /"hostname" is missing/],
    [{ ...manifest(), files: 'nope' }, /file list is missing/],
  ];
  for (const [hostile, message] of cases) {
    assert.throws(() => validateSessionManifest(hostile, DEFAULT_LIMITS), message);
  }
  assert.throws(() => decodeSessionManifest(new TextEncoder().encode('{not json'), DEFAULT_LIMITS), /not valid JSON/);
});

test('limits on size and count are enforced', () => {
  const big = manifest({ files: [{ path: 'a', size: 3 * 1024 ** 3, mode: 0o600, sha256: hash }], directories: [] });
  assert.throws(() => validateSessionManifest(big, DEFAULT_LIMITS), /over this receiver's limit of 2 GiB: use --max-size/);
  const many = Array.from({ length: DEFAULT_LIMITS.maxFiles + 1 }, (_, i) => ({ path: `f${i}`, size: 0, mode: 0o600, sha256: hash }));
  assert.throws(() => validateSessionManifest(manifest({ files: many, directories: [] }), DEFAULT_LIMITS), /over the limit of 20000/);
});

test('the bundle knows no session rules: the layer above decides which ids and sources are valid', () => {
  const seen: unknown[] = [];
  const rules: ManifestRules<{ label: string }> = {
    whyIdIsInvalid: (id) => (id.startsWith('ok-') ? null : 'the id must start with ok-'),
    readSource: (raw, invalid) => {
      seen.push(raw);
      if (typeof raw !== 'string') throw invalid('the source must be a label');
      return { label: raw };
    },
  };
  const checked = validateManifest(manifest({ sessionId: 'ok-1', source: 'laptop' }), DEFAULT_LIMITS, rules);
  assert.deepEqual(checked.source, { label: 'laptop' });
  assert.deepEqual(seen, ['laptop']);
  assert.throws(() => validateManifest(manifest({ sessionId: '11111111-2222-4333-8444-555555555555', source: 'x' }), DEFAULT_LIMITS, rules), /manifest was refused: the id must start with ok-/);
  assert.throws(() => validateManifest(manifest({ sessionId: 'ok-2', source: { hostname: 'h' } }), DEFAULT_LIMITS, rules), /manifest was refused: the source must be a label/);
});

test('limits read as they were set, and a size just over one never reads as equal to it', () => {
  assert.equal(formatLimit(4e9), '4 GB', '--max-size 4GB');
  assert.equal(formatLimit(2 * 1024 ** 3), '2 GiB', 'the default, 2GiB');
  assert.equal(formatLimit(16 * 1024), '16 KiB');
  assert.equal(formatOverLimit(500.4e6, 500e6), '500,400,000 bytes', '"500 MB, over the limit of 500 MB" says nothing');
  assert.equal(formatOverLimit(3.2e9, 2 * 1024 ** 3), '3.2 GB');
});

test("a receipt's offer digest is of what is installed: not of whether files travelled compressed, but of every hash", () => {
  const plain = validateSessionManifest(manifest(), DEFAULT_LIMITS);
  const compressed = validateSessionManifest(manifest({ files: [
    { path: 'events.jsonl', size: 10, mode: 0o600, sha256: hash, compressed: true },
    { path: 'checkpoints/index.md', size: 5, mode: 0o644, sha256: hash, compressed: true },
  ] }), DEFAULT_LIMITS);
  const changed = validateSessionManifest(manifest({ files: [
    { path: 'events.jsonl', size: 10, mode: 0o600, sha256: 'b'.repeat(64) },
    { path: 'checkpoints/index.md', size: 5, mode: 0o644, sha256: hash },
  ] }), DEFAULT_LIMITS);
  assert.equal(offerDigest(compressed), offerDigest(plain));
  assert.notEqual(offerDigest(changed), offerDigest(plain));
});
