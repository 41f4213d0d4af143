import type { CommandContext } from './context.js';

/**
 * Runs a beam that Ctrl-C cancels: the signal handler's cleanup aborts it and waits (bounded by
 * the cleanup's own time limit) until it has disconnected and removed what it made.
 */
export async function cancelOnInterrupt<T>(context: CommandContext, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const running = run(controller.signal);
  const forget = context.cleanup.add(async () => {
    controller.abort();
    await running.catch(() => undefined);
  });
  try {
    return await running;
  } finally {
    forget();
  }
}
