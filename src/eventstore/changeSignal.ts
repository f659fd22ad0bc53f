/**
 * Wakes subscribers when new events may be readable. A subscriber notes `version` before it reads,
 * then waits for a change since then, so a wake-up that arrives during the read is never lost.
 */
export class ChangeSignal {
  private currentVersion = 0;
  private readonly waiters = new Set<() => void>();

  get version(): number {
    return this.currentVersion;
  }

  notify(): void {
    this.currentVersion += 1;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Resolves on a change after `sinceVersion`, after `timeoutMs`, or when `abort` fires. */
  async waitForChange(sinceVersion: number, timeoutMs: number, abort?: AbortSignal): Promise<void> {
    if (this.currentVersion !== sinceVersion || abort?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      abort?.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}
