/** What an append announced: the position of its last event, and the categories of its streams. */
export interface Change {
  lastPosition: number;
  categories: readonly string[];
}

/** Which changes a subscriber waits for: those that reach `fromPosition`, in its category if it has one. */
export interface Interest {
  fromPosition: number;
  category?: string | undefined;
}

/** How many announced changes are kept for a subscriber that notes a version, reads, then waits. */
const CHANGES_KEPT = 256;

/**
 * Wakes subscribers when new events may be readable. A subscriber notes `version` before it reads,
 * then waits for a change since then that concerns it, so a wake-up that arrives during the read is
 * never lost, and one about events it has read already, or of another category, does not wake it.
 * A change told without details (`notify()`) concerns everyone.
 */
export class ChangeSignal {
  private currentVersion = 0;
  /** The latest changes, the oldest first; `undefined` stands for one told without details. */
  private readonly recent: (Change | undefined)[] = [];
  private readonly waiters = new Map<() => void, Interest>();

  get version(): number {
    return this.currentVersion;
  }

  notify(change?: Change): void {
    this.currentVersion += 1;
    this.recent.push(change);
    if (this.recent.length > CHANGES_KEPT) this.recent.shift();
    for (const [wake, interest] of this.waiters) if (concerns(change, interest)) wake();
  }

  /**
   * Resolves on a change after `sinceVersion` that concerns `interest`, after `timeoutMs`, or when
   * `abort` fires.
   */
  async waitForChange(
    sinceVersion: number,
    interest: Interest,
    timeoutMs: number,
    abort?: AbortSignal,
  ): Promise<void> {
    if (abort?.aborted || this.changedSince(sinceVersion, interest)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      abort?.addEventListener('abort', done, { once: true });
      this.waiters.set(done, interest);
    });
  }

  private changedSince(sinceVersion: number, interest: Interest): boolean {
    const missed = this.currentVersion - sinceVersion;
    if (missed <= 0) return false;
    // Changes older than those kept are not known any more: they may concern the subscriber.
    if (missed > this.recent.length) return true;
    return this.recent.slice(-missed).some((change) => concerns(change, interest));
  }
}

function concerns(change: Change | undefined, interest: Interest): boolean {
  if (change === undefined) return true;
  if (change.lastPosition < interest.fromPosition) return false;
  return interest.category === undefined || change.categories.includes(interest.category);
}
