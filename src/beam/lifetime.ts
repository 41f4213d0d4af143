import { BeamError, toBeamError } from '../errors.js';

type Cleanup = () => Promise<unknown> | unknown;

/** How long a cancelled beam's own steps get to stop before its cleanups run regardless. */
const SETTLE_AFTER_CANCEL_MS = 2000;

/**
 * What one beam holds (a swarm, a staging folder, redacted copies) and how it may be cancelled.
 * Cleanups run once, newest first, when the beam ends however it ends; an abort also runs the
 * ones registered with `onAbort` at once, so that waits on the network fail straight away.
 */
export class Lifetime {
  private readonly cleanups: Cleanup[] = [];
  private readonly abortHandlers: Cleanup[] = [];
  private closed = false;
  /** The abort handlers' run, once cancelled: cleanups wait for it (the peer is told first). */
  private aborting: Promise<void> = Promise.resolve();
  private readonly stopListening: () => void = () => undefined;
  /** Rejects with an "interrupted" error when the signal aborts; never resolves. */
  readonly aborted: Promise<never>;

  constructor(private readonly signal?: AbortSignal) {
    let stop: () => void = () => undefined;
    this.aborted = new Promise<never>((_resolve, reject) => {
      stop = (): void => {
        reject(cancelledError());
        // Newest first, one after the other: the peer is told before the network goes.
        const handlers = this.abortHandlers.splice(0).reverse();
        this.aborting = (async () => {
          for (const handler of handlers) await Promise.resolve().then(handler).catch(() => undefined);
        })();
      };
    });
    // Only waits that race it observe this rejection; a beam that never waits must not crash.
    this.aborted.catch(() => undefined);
    if (signal?.aborted) {
      stop();
    } else if (signal) {
      signal.addEventListener('abort', stop, { once: true });
      this.stopListening = () => signal.removeEventListener('abort', stop);
    }
  }

  get cancelled(): boolean {
    return Boolean(this.signal?.aborted);
  }

  /** `step`, unless the beam is cancelled first. */
  until<T>(step: Promise<T> | T): Promise<T> {
    return Promise.race([Promise.resolve(step), this.aborted]);
  }

  /** A question to a person; a cancelled beam asks nothing more and stops waiting for answers. */
  ask<T>(question: () => Promise<T>): Promise<T> {
    if (this.cancelled) return Promise.reject(cancelledError());
    return this.until(question());
  }

  /** News for a person; a cancelled beam has no more to tell. */
  tell(news: () => void): void {
    if (!this.cancelled) news();
  }

  /**
   * Runs `cleanup` when the beam ends (at once if it already has); the returned function forgets
   * it (the work was kept).
   */
  defer(cleanup: Cleanup): () => void {
    if (this.closed) {
      void Promise.resolve().then(cleanup).catch(() => undefined);
      return () => undefined;
    }
    return register(this.cleanups, cleanup);
  }

  /**
   * Runs `handler` as soon as the beam is cancelled (at once if it already is); handlers run
   * newest first, each awaited. The returned function forgets it.
   */
  onAbort(handler: Cleanup): () => void {
    if (this.cancelled) {
      void Promise.resolve().then(handler).catch(() => undefined);
      return () => undefined;
    }
    return register(this.abortHandlers, handler);
  }

  /** The error to report for `error`: a cancelled beam reports the cancellation, whatever failed after it. */
  explain(error: unknown): BeamError {
    return this.cancelled ? cancelledError() : toBeamError(error);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopListening();
    await this.aborting;
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      await Promise.resolve().then(cleanup).catch(() => undefined);
    }
  }
}

/**
 * Runs one beam in a lifetime of its own. A cancelled beam rejects promptly with the
 * cancellation, whatever failed after it; its steps first get a moment to stop (they fail fast
 * once the swarm is gone), so that no step writes after the cleanups, and every cleanup has run
 * before the promise settles.
 */
export async function withLifetime<T>(signal: AbortSignal | undefined, run: (lifetime: Lifetime) => Promise<T>): Promise<T> {
  if (signal?.aborted) throw cancelledError();
  const lifetime = new Lifetime(signal);
  const running = run(lifetime);
  try {
    return await lifetime.until(running);
  } catch (error) {
    if (lifetime.cancelled) await settledWithin(running, SETTLE_AFTER_CANCEL_MS);
    throw lifetime.explain(error);
  } finally {
    await lifetime.close();
  }
}

async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([promise.then(() => undefined, () => undefined), timeout]);
  clearTimeout(timer);
}

/** Adds `item` to `list`; the returned function takes it out again. */
function register(list: Cleanup[], item: Cleanup): () => void {
  list.push(item);
  return () => {
    const index = list.indexOf(item);
    if (index >= 0) list.splice(index, 1);
  };
}

function cancelledError(): BeamError {
  return new BeamError('interrupted', 'the beam was cancelled');
}
