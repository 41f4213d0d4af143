import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readBuffers, readChunks, READ_BYTES } from '../src/bundle/read-chunks.js';
import { tempDir } from './helpers/e2e.js';

for (const chunkBytes of [64 * 1024, 256 * 1024]) {
  test(`files read one after another share one pair of buffers, cut into chunks of exactly ${chunkBytes / 1024} KiB but the last`, async () => {
    const dir = await tempDir('read-chunks');
    const contents = [randomBytes(3 * READ_BYTES + 5 * chunkBytes + 123), randomBytes(chunkBytes + 1), randomBytes(2 * READ_BYTES)];
    const buffers = readBuffers();
    for (const [index, content] of contents.entries()) {
      const path = join(dir, `file-${index}`);
      await writeFile(path, content);
      const chunks: Buffer[] = [];
      for await (const chunk of readChunks(path, chunkBytes, buffers)) {
        assert.ok(chunk.buffer === buffers[0].buffer || chunk.buffer === buffers[1].buffer, 'read into the buffers given, not new ones');
        chunks.push(Buffer.from(chunk)); // the caller is done with a chunk before it asks for the next
      }
      assert.ok(Buffer.concat(chunks).equals(content), `file ${index} read whole and in order`);
      const sizes = chunks.map((chunk) => chunk.length);
      assert.ok(sizes.slice(0, -1).every((size) => size === chunkBytes), `file ${index}: every chunk but the last is whole`);
      assert.ok(sizes.at(-1)! > 0 && sizes.at(-1)! <= chunkBytes);
    }
  });
}
