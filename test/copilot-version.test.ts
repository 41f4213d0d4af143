import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { installedCopilotVersion } from '../src/session/copilot-version.js';
import { tempDir } from './helpers/e2e.js';

/** A `copilot` that says `version` when it is run, after `delay` seconds. */
async function fakeCopilot(folder: string, version: string, delay = 0): Promise<void> {
  const path = join(folder, 'copilot');
  await writeFile(path, `#!/bin/sh\nsleep ${delay}\necho "GitHub Copilot CLI ${version}."\n`);
  await chmod(path, 0o755);
}

test('the copilot on PATH is asked for its version (even an npm install: its command is a loader that may run a newer one)', async () => {
  const root = await tempDir('copilot-version');
  // A package.json beside it says nothing: only the running client knows its version.
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: '@github/copilot', version: '0.0.1' }));
  await fakeCopilot(root, '1.2.3');
  assert.equal(await installedCopilotVersion({ PATH: `${root}:/usr/bin:/bin` }), '1.2.3');
  assert.equal(await installedCopilotVersion({ PATH: await tempDir('copilot-none') }), undefined);
});

test('a version question stopped by its signal gets no answer', async () => {
  const root = await tempDir('copilot-version-stopped');
  await fakeCopilot(root, '1.2.3', 3);
  const question = new AbortController();
  const answer = installedCopilotVersion({ PATH: `${root}:/usr/bin:/bin` }, question.signal);
  question.abort();
  assert.equal(await answer, undefined);
});
