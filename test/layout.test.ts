import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSessionFile, isSessionFolder, removeForeignEntries } from '../src/session/layout.js';
import { tempDir } from './helpers/e2e.js';

test('the session layout: what the client keeps in a session folder, and nothing else', () => {
  for (const path of ['events.jsonl', 'workspace.yaml', 'plan.md', 'session.db', 'checkpoints/index.md', 'checkpoints/001-a.md', 'files/a/b.txt', 'research/notes/x.md', 'rewind-file-snapshots/index.json', 'rewind-file-snapshots/tracking.json', `rewind-file-snapshots/backups/${'ab'.repeat(32)}`]) {
    assert.ok(isSessionFile(path), path);
  }
  for (const path of ['AGENTS.md', '.mcp.json', '.github/hooks/run.json', '.git/config', 'rewind-file-snapshots/evil.sh', 'rewind-file-snapshots/backups/../x', 'rewind-file-snapshots/backups/not-hex', 'events.jsonl.bak']) {
    assert.ok(!isSessionFile(path), path);
  }
  assert.ok(isSessionFolder('research/notes') && isSessionFolder('rewind-file-snapshots/backups'));
  assert.ok(!isSessionFolder('.github') && !isSessionFolder('.git') && !isSessionFolder('rewind-file-snapshots/other'));
});

test('a staged session loses every foreign file and folder, and says which', async () => {
  const dir = await tempDir('layout');
  await mkdir(join(dir, '.github', 'hooks'), { recursive: true });
  await mkdir(join(dir, 'files'), { recursive: true });
  await writeFile(join(dir, '.github', 'hooks', 'run.json'), '{}');
  await writeFile(join(dir, 'AGENTS.md'), 'x');
  await writeFile(join(dir, 'events.jsonl'), '');
  await writeFile(join(dir, 'files', 'kept.txt'), 'x');
  const removed = await removeForeignEntries(dir, {
    directories: ['.github', '.github/hooks', 'files'],
    files: [{ path: '.github/hooks/run.json' }, { path: 'AGENTS.md' }, { path: 'events.jsonl' }, { path: 'files/kept.txt' }],
  });
  assert.deepEqual(removed, ['.github', 'AGENTS.md']);
  assert.deepEqual((await readdir(dir)).sort(), ['events.jsonl', 'files']);
});
