import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePort } from '../src/cli/options.js';
import { BeamError } from '../src/errors.js';
import { parseRelayKey, RELAY_ENV, resolveRelay } from '../src/transport/relay-key.js';

const KEY = 'ab'.repeat(32);

test('a relay is named by 64 hex characters; anything else is a usage error that says what to give', () => {
  assert.deepEqual(parseRelayKey(` ${KEY.toUpperCase()}\n`), Uint8Array.from(Buffer.from(KEY, 'hex')));
  for (const bad of ['', 'ab', `${KEY}00`, `${KEY.slice(0, 63)}g`, 'z'.repeat(52)]) {
    assert.throws(
      () => parseRelayKey(bad),
      (error: unknown) => error instanceof BeamError && error.kind === 'usage' && /64 hex characters/.test(error.message),
      bad,
    );
  }
});

test('--relay wins over the environment, which is used when the option is absent', () => {
  const other = 'cd'.repeat(32);
  assert.deepEqual(resolveRelay(KEY, { [RELAY_ENV]: other }), Uint8Array.from(Buffer.from(KEY, 'hex')));
  assert.deepEqual(resolveRelay(undefined, { [RELAY_ENV]: other }), Uint8Array.from(Buffer.from(other, 'hex')));
  assert.equal(resolveRelay(undefined, { [RELAY_ENV]: '  ' }), undefined);
  assert.equal(resolveRelay(undefined, {}), undefined);
});

test('ports are whole numbers from 1 to 65535', () => {
  assert.equal(parsePort('49737', '--port'), 49737);
  for (const bad of ['0', '65536', '-1', '12.5', 'http', '']) {
    assert.throws(() => parsePort(bad, '--port'), /--port must be a port number from 1 to 65535/, bad);
  }
});
