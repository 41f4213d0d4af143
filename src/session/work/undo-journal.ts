/**
 * The steps taken to land work, each with what takes it back, so that a failure (or an install
 * that fails afterwards) can put the repository back as it was. Steps are undone newest first,
 * each on its own: one that fails does not stop the others, and all failures are reported.
 */
export class UndoJournal {
  private readonly steps: Array<{ readonly what: string; readonly undo: () => Promise<unknown> }> = [];
  private undoing: Promise<string[]> | undefined;

  record(what: string, undo: () => Promise<unknown>): void {
    this.steps.push({ what, undo });
  }

  /** Undoes every step once; every caller waits for that one undo and hears what could not be undone. */
  undoAll(): Promise<string[]> {
    this.undoing ??= this.undoSteps();
    return this.undoing;
  }

  private async undoSteps(): Promise<string[]> {
    const failures: string[] = [];
    for (const step of [...this.steps].reverse()) {
      try {
        await step.undo();
      } catch (error) {
        failures.push(`${step.what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failures;
  }
}
