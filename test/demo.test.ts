import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const DEMO = fileURLToPath(new URL('../scripts/demo.js', import.meta.url));

// The README promises `npm ci && npm run demo`: the demo beams a session between two real
// processes and checks what arrived; it must keep passing its own checks.
test('npm run demo beams a session and its own checks pass', () => {
  const demo = spawnSync(process.execPath, [DEMO], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(demo.status, 0, demo.stdout + demo.stderr);
  assert.match(demo.stdout, /sender exited 0, receiver exited 0/);
  assert.match(demo.stdout, /\d+ files byte-identical/);
  assert.match(demo.stdout, /the receiver appended: .*session\.handoff/);
});
