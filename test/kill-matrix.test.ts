import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createSampleSession } from '../scripts/sample-session.js';
import { assertBeamedCopy, listOrEmpty, spawnBeam, startSender, useTestNetwork, tempDir, treeDigest, type BeamProcess, type JsonEvent } from './helpers/e2e.js';

/**
 * SIGKILL either process at 20 points of a transfer, from just after pairing to the end. After
 * every kill the source is byte-identical and the destination holds either nothing or the whole,
 * verified session: never a partial one.
 */
describe('SIGKILL at 20 points of a transfer', () => {
  const network = useTestNetwork();

  // Milliseconds after the receiver reports "paired"; spread over the whole transfer.
  const delays = [0, 40, 90, 150, 220, 300, 400, 520, 680, 900];
  const points = delays.flatMap((delay) => [
    { victim: 'receiver' as const, delay },
    { victim: 'sender' as const, delay },
  ]);

  test('source intact, destination empty or complete, at every point', async () => {
    const laptop = join(await tempDir('kill'), 'laptop');
    const session = await createSampleSession({ copilotHome: laptop, eventsBytes: 24 * 1024 * 1024, binaryBytes: 2 * 1024 * 1024 });
    const source = await treeDigest(session.dir);
    const env = (copilotHome: string): NodeJS.ProcessEnv => ({ ...process.env, HOME: network.home, COPILOT_HOME: copilotHome, COPILOT_BEAM_BOOTSTRAP: network.bootstrap });
    const outcomes: string[] = [];

    for (const point of points) {
      const codespace = join(await tempDir('kill'), 'codespace');
      const { sender, code } = await startSender(env(laptop), [session.id, '--idle-timeout', '1s']);
      let killed = false;
      const receiver: BeamProcess = spawnBeam(['receive', code, '--yes', '--json', '--idle-timeout', '1s'], env(codespace), (stream, line) => {
        if (stream !== 'stdout' || killed) return;
        const event = JSON.parse(line) as JsonEvent;
        if (event.event === 'status' && event.phase === 'paired') {
          killed = true;
          setTimeout(() => (point.victim === 'receiver' ? receiver : sender).child.kill('SIGKILL'), point.delay);
        }
      });
      const [sent, received] = await Promise.all([sender.exited, receiver.exited]);
      assert.ok(killed, 'the kill was armed');

      const installed = await listOrEmpty(join(codespace, 'session-state'));
      if (installed.length === 0) {
        outcomes.push(`${point.victim}@${point.delay}ms: nothing installed (sender ${sent}, receiver ${received})`);
      } else {
        assert.deepEqual(installed, [session.id]);
        await assertBeamedCopy(session.dir, join(codespace, 'session-state', session.id));
        outcomes.push(`${point.victim}@${point.delay}ms: complete session installed (sender ${sent}, receiver ${received})`);
      }
      assert.deepEqual(await treeDigest(session.dir), source, `source changed after killing the ${point.victim}`);
      if (point.victim === 'sender' && installed.length === 0) assert.notEqual(received, 0, 'a receiver without a session reports failure');
    }
    assert.equal(outcomes.length, 20);
    assert.ok(outcomes.some((outcome) => outcome.includes('nothing installed')), 'some kills landed mid-transfer');
  });
});
