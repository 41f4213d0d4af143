/**
 * `step`, unless `watched` fails first: then that failure, without waiting for `step`. The
 * sender runs the scan and the network side by side, and whichever fails first ends the beam.
 */
export function unlessFailed<T>(step: Promise<T>, watched: Promise<unknown>): Promise<T> {
  return Promise.race([step, watched.then(() => new Promise<never>(() => undefined))]);
}
