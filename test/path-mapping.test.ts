import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PathRemapper } from '../src/session/transform/path-mapping.js';

test('POSIX prefixes map only as whole paths', () => {
  const remapper = new PathRemapper({ from: '/Users/alice/code/app', to: '/workspaces/app' });
  assert.equal(remapper.remap('/Users/alice/code/app'), '/workspaces/app');
  assert.equal(remapper.remap('cd /Users/alice/code/app && npm test'), 'cd /workspaces/app && npm test');
  assert.equal(remapper.remap('"/Users/alice/code/app/src/x.ts:12"'), '"/workspaces/app/src/x.ts:12"');
  assert.equal(remapper.remap('/Users/alice/code/app2/x'), '/Users/alice/code/app2/x');
  assert.equal(remapper.remap('/x/Users/alice/code/app/y'), '/x/Users/alice/code/app/y');
  assert.equal(remapper.remap('at /Users/alice/code/app.bak'), 'at /Users/alice/code/app.bak');
  assert.equal(remapper.remap('a=/Users/alice/code/app,b=/Users/alice/code/app/'), 'a=/workspaces/app,b=/workspaces/app/');
});

test('Windows sources match either separator, any case, and get / separators', () => {
  const remapper = new PathRemapper({ from: 'C:\\Users\\alice\\code\\app', to: '/workspaces/app' });
  assert.equal(remapper.remap('C:\\Users\\alice\\code\\app\\src\\x.ts'), '/workspaces/app/src/x.ts');
  assert.equal(remapper.remap('edit c:/users/alice/code/app/README.md now'), 'edit /workspaces/app/README.md now');
  assert.equal(remapper.remap('C:\\Users\\alice\\code\\app2\\x'), 'C:\\Users\\alice\\code\\app2\\x');
});

test('JSON values are remapped deeply and changes counted', () => {
  const remapper = new PathRemapper({ from: '/home/alice/app', to: '/workspaces/app' });
  const changes = { count: 0 };
  const out = remapper.remapJson({ command: 'ls /home/alice/app', list: ['/home/alice/app/a', 3, null], keep: true }, changes);
  assert.deepEqual(out, { command: 'ls /workspaces/app', list: ['/workspaces/app/a', 3, null], keep: true });
  assert.equal(changes.count, 2);
});
