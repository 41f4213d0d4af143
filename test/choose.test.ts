import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { createSampleSession } from '../scripts/sample-session.js';
import { chooseSession } from '../src/session/choose.js';
import { tempDir } from './helpers/e2e.js';

const run = promisify(execFile);

async function setUpdatedAt(dir: string, when: string): Promise<void> {
  const path = join(dir, 'workspace.yaml');
  await writeFile(path, (await readFile(path, 'utf8')).replace(/^updated_at: .*$/m, `updated_at: ${when}`));
}

test('send picks a session by id, id prefix, or name in any case', async () => {
  const home = await tempDir('choose');
  const a = await createSampleSession({ copilotHome: home, sessionId: 'aaaa1111-0000-4000-8000-000000000001', name: 'Fix the parser' });
  const b = await createSampleSession({ copilotHome: home, sessionId: 'aaaa2222-0000-4000-8000-000000000002', name: 'Write docs' });
  assert.equal((await chooseSession(home, a.id, '/')).id, a.id);
  assert.equal((await chooseSession(home, 'aaaa2', '/')).id, b.id);
  assert.equal((await chooseSession(home, 'fix THE parser', '/')).id, a.id);
  await assert.rejects(chooseSession(home, 'aaaa', '/'), /matches 2 sessions/);
  await assert.rejects(chooseSession(home, 'nothing like it', '/'), /no session with the id or name "nothing like it"/);
  await createSampleSession({ copilotHome: home, sessionId: 'bbbb3333-0000-4000-8000-000000000003', name: 'write docs' });
  await assert.rejects(chooseSession(home, 'Write docs', '/'), /2 sessions are named "Write docs"/);
});

test('with no argument, send picks the newest session of the current checkout', async () => {
  const home = await tempDir('choose');
  const repo = join(await tempDir('repo'), 'app');
  const other = join(await tempDir('repo'), 'other');
  await mkdir(join(repo, 'src'), { recursive: true });
  await run('git', ['-C', repo, 'init', '-q']);
  const older = await createSampleSession({ copilotHome: home, cwd: repo });
  const newer = await createSampleSession({ copilotHome: home, cwd: repo });
  const elsewhere = await createSampleSession({ copilotHome: home, cwd: other });
  await setUpdatedAt(older.dir, '2026-11-21T09:00:00.000Z');
  await setUpdatedAt(newer.dir, '2026-11-22T09:00:00.000Z');
  await setUpdatedAt(elsewhere.dir, '2026-11-23T09:00:00.000Z');
  assert.equal((await chooseSession(home, undefined, join(repo, 'src'))).id, newer.id);
  await assert.rejects(chooseSession(home, undefined, await tempDir('empty')), /no Copilot session ran in/);
});
