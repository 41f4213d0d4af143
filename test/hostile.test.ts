import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { lastEvent, listOrEmpty, spawnBeam, useTestNetwork, tempDir } from './helpers/e2e.js';

const HOSTILE = fileURLToPath(new URL('./helpers/hostile-sender.js', import.meta.url));

/**
 * A sender that completes the key exchange honestly and then misbehaves. The real receiver must
 * refuse each case with a clear message, exit non-zero, and leave nothing behind.
 */
describe('a hostile sender', () => {
  const network = useTestNetwork();

  const cases: Array<[string, RegExp, string[]?]> = [
    ['skips-phrase', /the sender skipped the phrase check the receiver asked for/, ['--verify']],
    ['dotdot', /manifest was refused: a path has a "\.\." segment/],
    ['absolute', /manifest was refused: a path is absolute/],
    ['link', /fields this format does not allow \(type, target\): only regular files travel/],
    ['device', /fields this format does not allow \(type, rdev\)/],
    ['duplicate', /"events\.jsonl" appears twice/],
    ['over-limit', /the session is 3\.2 GB, over this receiver's limit of 2 GiB: use --max-size/],
    ['many-files', /lists 100000 files, over the limit of 20000/],
    ['lying-hash', /"events\.jsonl" does not match its SHA-256 \(tampered or corrupted\)/],
    ['lying-size', /more data than its manifest announced/],
    ['truncated', /closed the connection|sent nothing/],
    ['no-final', /ended its stream without the final tag/],
    ['out-of-order', /failed authentication \(tampered, reordered or replayed data\)/],
    ['replay', /failed authentication \(tampered, reordered or replayed data\)/],
    ['zstd-bomb', /"events\.jsonl" arrived corrupt or larger than announced \(compressed data: a block decodes into more than it may/],
    ['zstd-window', /"events\.jsonl" arrived corrupt or larger than announced \(compressed data: .*too much memory/],
    ['tiny-data', /the sender cut "events\.jsonl" into pieces of the wrong size \(1 bytes where \d+ were due\)/],
    ['zstd-tiny-blocks', /"events\.jsonl" arrived corrupt or larger than announced \(compressed data: a block decodes into 1 bytes, not the \d+ it must/],
  ];

  test('terminal control sequences from the peer never reach the terminal', async () => {
    const code = '7100-aardvark-zucchini';
    const hostile = spawn(process.execPath, [HOSTILE, 'terminal-escapes', network.bootstrap, code], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => hostile.stdout.once('data', () => resolve()));
    const copilotHome = join(await tempDir('hostile'), '.copilot');
    try {
      const receiver = spawnBeam(['receive', code, '--yes'], { ...process.env, HOME: network.home, COPILOT_HOME: copilotHome, COPILOT_BEAM_BOOTSTRAP: network.bootstrap });
      assert.equal(await receiver.exited, 0, receiver.stderr);
      const output = receiver.stdout + receiver.stderr;
      assert.match(output, /from +host/);
      assert.match(output, /name +name/);
      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(output), JSON.stringify(output));
    } finally {
      hostile.kill();
    }
  });

  cases.forEach(([scenario, message, receiverArgs = []], index) => {
    test(`refuses: ${scenario}`, async () => {
      const code = `${7000 + index}-aardvark-zucchini`;
      const hostile = spawn(process.execPath, [HOSTILE, scenario, network.bootstrap, code], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => hostile.stdout.once('data', () => resolve()));
      const copilotHome = join(await tempDir('hostile'), '.copilot');
      try {
        const receiver = spawnBeam(['receive', code, '--yes', '--json', '--idle-timeout', '5s', ...receiverArgs], { ...process.env, HOME: network.home, COPILOT_HOME: copilotHome, COPILOT_BEAM_BOOTSTRAP: network.bootstrap });
        const status = await receiver.exited;
        const error = lastEvent(receiver.stdout);
        assert.equal(error?.event, 'error', receiver.stdout);
        assert.match(String(error?.message), message);
        assert.ok(status === 8 || (scenario === 'truncated' && (status === 5 || status === 4)), `exit ${status}: ${String(error?.message)}`);
        assert.deepEqual(await listOrEmpty(join(copilotHome, 'session-state')), [], 'nothing installed');
        assert.deepEqual(await listOrEmpty(join(copilotHome, 'copilot-beam', 'staging')), [], 'no staging left');
        assert.ok(!existsSync('/tmp/copilot-beam-absolute-escape.txt'));
        assert.ok(!existsSync(join(copilotHome, '..', 'escaped.txt')));
      } finally {
        hostile.kill();
      }
    });
  });
});
