import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BeamError } from '../src/errors.js';
import { WRITE_BACK_FROM_BYTES, WriteBack } from '../src/bundle/write-back.js';
import { tempDir } from './helpers/e2e.js';

test('the early write-back syncs complete files from 1 MiB on, one at a time, and leaves smaller ones to the installer', async () => {
  const synced: string[] = [];
  let running = 0;
  const writeBack = new WriteBack(async (path) => {
    running++;
    assert.equal(running, 1, 'one file at a time');
    await new Promise((resolve) => setImmediate(resolve));
    synced.push(path);
    running--;
  }, true);
  writeBack.add('small', WRITE_BACK_FROM_BYTES - 1);
  writeBack.add('a', WRITE_BACK_FROM_BYTES);
  writeBack.add('b', 8 * WRITE_BACK_FROM_BYTES);
  await writeBack.done();
  assert.deepEqual(synced, ['a', 'b']);
});

test('a disk error the early write-back sees stops the install; a file moved away since does not', async () => {
  const failing = new WriteBack(async (path) => {
    if (path === 'moved') throw Object.assign(new Error('gone'), { code: 'ENOENT' });
    if (path === 'broken') throw Object.assign(new Error('input/output error'), { code: 'EIO' });
  }, true);
  failing.add('moved', WRITE_BACK_FROM_BYTES);
  failing.add('broken', WRITE_BACK_FROM_BYTES);
  failing.add('after', WRITE_BACK_FROM_BYTES);
  await assert.rejects(failing.done(), (error: unknown) => error instanceof BeamError && error.kind === 'install' && /cannot write broken to disk: input\/output error/.test(error.message));

  const fine = new WriteBack(undefined, true);
  const dir = await tempDir('write-back');
  await writeFile(join(dir, 'real'), Buffer.alloc(WRITE_BACK_FROM_BYTES));
  fine.add(join(dir, 'real'), WRITE_BACK_FROM_BYTES);
  fine.add(join(dir, 'missing'), WRITE_BACK_FROM_BYTES);
  await fine.done();
});

test('the early write-back does nothing where it is off (not Linux)', async () => {
  const writeBack = new WriteBack(async () => assert.fail('nothing is synced'), false);
  writeBack.add('big', 64 * WRITE_BACK_FROM_BYTES);
  await writeBack.done();
});
