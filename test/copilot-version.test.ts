import assert from 'node:assert/strict';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { copilotOlderThan, installedCopilotVersion } from '../src/session/copilot-version.js';
import { tempDir } from './helpers/e2e.js';

/** A `copilot` that says `version` when it is run, and leaves a mark that it was. */
async function fakeCopilot(folder: string, version: string): Promise<{ path: string; ran: string }> {
  const path = join(folder, 'copilot');
  const ran = join(folder, 'ran');
  await writeFile(path, `#!/bin/sh\ntouch '${ran}'\necho "GitHub Copilot CLI ${version}."\n`);
  await chmod(path, 0o755);
  return { path, ran };
}

const exists = async (path: string): Promise<boolean> => (await import('node:fs/promises')).access(path).then(() => true, () => false);

/** An npm install: node_modules/@github/copilot with its package.json, its command linked from .bin. */
async function npmInstall(root: string, packageVersion: string, runs: string): Promise<{ bin: string; ran: string }> {
  const packageDir = join(root, 'node_modules', '@github', 'copilot');
  await mkdir(packageDir, { recursive: true });
  await writeFile(join(packageDir, 'package.json'), JSON.stringify({ name: '@github/copilot', version: packageVersion }));
  const loader = await fakeCopilot(packageDir, runs);
  const bin = join(root, 'node_modules', '.bin');
  await mkdir(bin);
  await symlink(loader.path, join(bin, 'copilot'));
  return { bin, ran: loader.ran };
}

test('the copilot on PATH is asked for its version; none on PATH is none', async () => {
  const root = await tempDir('copilot-version');
  await fakeCopilot(root, '1.2.3');
  assert.equal(await installedCopilotVersion({ PATH: `${root}:/usr/bin:/bin` }), '1.2.3');
  assert.equal(await installedCopilotVersion({ PATH: await tempDir('copilot-none') }), undefined);
});

test("an npm install at or past the session's version settles it without starting the client", async () => {
  const { bin, ran } = await npmInstall(await tempDir('copilot-npm-new'), '1.0.102', '1.0.102');
  assert.equal(await copilotOlderThan('1.0.102', { PATH: `${bin}:/usr/bin:/bin` }), undefined);
  assert.equal(await copilotOlderThan('1.0.90', { PATH: `${bin}:/usr/bin:/bin` }), undefined);
  assert.equal(await exists(ran), false, 'the client was not started');
});

test("an npm install below the session's version asks the client, which may have updated itself past it", async () => {
  // The package says 1.0.77; its loader runs the 1.0.78 the client downloaded.
  const updated = await npmInstall(await tempDir('copilot-npm-updated'), '1.0.77', '1.0.78');
  assert.equal(await copilotOlderThan('1.0.78', { PATH: `${updated.bin}:/usr/bin:/bin` }), undefined);
  assert.equal(await exists(updated.ran), true, 'the client was asked');
  const old = await npmInstall(await tempDir('copilot-npm-old'), '1.0.77', '1.0.77');
  assert.equal(await copilotOlderThan('1.0.78', { PATH: `${old.bin}:/usr/bin:/bin` }), '1.0.77');
});

test('any other install is asked, and a package.json that is not the client says nothing', async () => {
  const root = await tempDir('copilot-other');
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'something-else', version: '9.9.9' }));
  const { ran } = await fakeCopilot(root, '1.0.50');
  assert.equal(await copilotOlderThan('1.0.60', { PATH: `${root}:/usr/bin:/bin` }), '1.0.50');
  assert.equal(await exists(ran), true);
  assert.equal(await copilotOlderThan('1.0.60', { PATH: await tempDir('copilot-nothing') }), undefined);
});
