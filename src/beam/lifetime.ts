import { BeamError, toBeamError } from '../errors.js';

type Cleanup = () => Promise<unknown> | unknown;

/**
 * What one beam holds (a swarm, a staging folder, redacted copies) and how it may be cancelled.
 * Cleanups run once, newest first, when the beam ends however it ends; an abort also runs the
 * ones registered with `onAbort` at once, so that waits on the network fail straight away.
 */
export class Lifetime {
  private readonly cleanups: Cleanup[] = [];
  private readonly abortHandlers: Cleanup[] = [];
  /** Rejects with an "interrupted" error when the signal aborts; never resolves. */
  readonly aborted: Promise<never>;

  constructor(private readonly signal?: AbortSignal) {
    this.aborted = new Promise<never>((_resolve, reject) => {
      const stop = (): void => {
        reject(cancelledError());
        for (const handler of this.abortHandlers.splice(0)) void Promise.resolve().then(handler).catch(() => undefined);
      };
      if (signal?.aborted) stop();
      else signal?.addEventListener('abort', stop, { once: true });
    });
    // Only waits that race it observe this rejection; a beam that never waits must not crash.
    this.aborted.catch(() => undefined);
  }

  get cancelled(): boolean {
    return Boolean(this.signal?.aborted);
  }

  /** `step`, unless the beam is cancelled first. */
  until<T>(step: Promise<T> | T): Promise<T> {
    return Promise.race([Promise.resolve(step), this.aborted]);
  }

  /** Runs `cleanup` when the beam ends; the returned function forgets it (the work was kept). */
  defer(cleanup: Cleanup): () => void {
    this.cleanups.push(cleanup);
    return () => {
      const index = this.cleanups.indexOf(cleanup);
      if (index >= 0) this.cleanups.splice(index, 1);
    };
  }

  /** Runs `handler` as soon as the beam is cancelled (at once if it already is). */
  onAbort(handler: Cleanup): void {
    if (this.cancelled) void Promise.resolve().then(handler).catch(() => undefined);
    else this.abortHandlers.push(handler);
  }

  /** The error to report for `error`: a cancelled beam reports the cancellation, whatever failed after it. */
  explain(error: unknown): BeamError {
    return this.cancelled ? cancelledError() : toBeamError(error);
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      await Promise.resolve().then(cleanup).catch(() => undefined);
    }
  }
}

/**
 * Runs one beam in a lifetime of its own: a cancelled beam rejects at once (with the
 * cancellation, whatever failed after it) and every cleanup has run before the promise settles.
 */
export async function withLifetime<T>(signal: AbortSignal | undefined, run: (lifetime: Lifetime) => Promise<T>): Promise<T> {
  const lifetime = new Lifetime(signal);
  try {
    return await lifetime.until(run(lifetime));
  } catch (error) {
    throw lifetime.explain(error);
  } finally {
    await lifetime.close();
  }
}

function cancelledError(): BeamError {
  return new BeamError('interrupted', 'the beam was cancelled');
}
