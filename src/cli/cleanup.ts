import { BeamError } from '../errors.js';

type Cleanup = () => Promise<void> | void;

/**
 * Work to undo if the process is interrupted: leave the DHT, delete a staging folder. Ctrl-C runs
 * it all (bounded in time) and exits 130; a second Ctrl-C exits at once.
 */
export class CleanupStack {
  private readonly tasks: Cleanup[] = [];
  private signalled = false;

  /** True once Ctrl-C (or SIGTERM) arrived: whatever fails after that is its consequence. */
  get interrupted(): boolean {
    return this.signalled;
  }

  add(task: Cleanup): () => void {
    this.tasks.push(task);
    return () => {
      const index = this.tasks.indexOf(task);
      if (index >= 0) this.tasks.splice(index, 1);
    };
  }

  async runAll(timeoutMs = 3000): Promise<void> {
    const tasks = this.tasks.splice(0).reverse();
    const all = (async () => {
      for (const task of tasks) await Promise.resolve().then(task).catch(() => undefined);
    })();
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  /** Installs SIGINT/SIGTERM handlers that clean up, report and exit. */
  handleSignals(report: (error: BeamError) => void): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.signalled) process.exit(130);
      this.signalled = true;
      report(new BeamError('interrupted', `interrupted (${signal}): nothing was left half-done`));
      void this.runAll().finally(() => process.exit(130));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}
