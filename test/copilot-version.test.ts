import assert from 'node:assert/strict';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { installedCopilotVersion } from '../src/session/copilot-version.js';
import { tempDir } from './helpers/e2e.js';

/** A `copilot` that says `version` when it is run. */
async function script(folder: string, version: string): Promise<string> {
  const path = join(folder, 'copilot');
  await writeFile(path, `#!/bin/sh\necho "GitHub Copilot CLI ${version}."\n`);
  await chmod(path, 0o755);
  return path;
}

test('an npm install of the client is read from its package, without starting it', async () => {
  const root = await tempDir('copilot-npm');
  const packageDir = join(root, 'node_modules', '@github', 'copilot');
  await mkdir(packageDir, { recursive: true });
  await writeFile(join(packageDir, 'package.json'), JSON.stringify({ name: '@github/copilot', version: '9.8.7' }));
  // Run, it would say otherwise: the answer must come from the package.
  const loader = await script(packageDir, '0.0.1');
  const bin = join(root, 'node_modules', '.bin');
  await mkdir(bin);
  await symlink(loader, join(bin, 'copilot'));
  assert.equal(await installedCopilotVersion({ PATH: bin }), '9.8.7');
});

test('any other copilot is asked for its version; none on PATH is none', async () => {
  const root = await tempDir('copilot-other');
  await script(root, '1.2.3');
  // A package.json nearby that is not the client's says nothing.
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'something-else', version: '4.5.6' }));
  assert.equal(await installedCopilotVersion({ PATH: root }), '1.2.3');
  assert.equal(await installedCopilotVersion({ PATH: await tempDir('copilot-none') }), undefined);
});
