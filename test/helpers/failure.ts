import assert from 'node:assert/strict';
import { BeamError } from '../../src/errors.js';

/** The BeamError `promise` must reject with; the test fails when it resolves or throws anything else. */
export async function failure(promise: Promise<unknown>): Promise<BeamError> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof BeamError, String(error));
  return error;
}
