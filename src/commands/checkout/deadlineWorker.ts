import type { Logger } from 'pino';
import type { SqlQuery } from '../../projections/consumer.js';
import type { ConsumerLease, ConsumerStore } from '../../projections/consumerStore.js';
import { delay } from '../../projections/delay.js';
import type { WorkerHealth } from '../../projections/subscriptionRunner.js';
import {
  DEADLINES_CHANNEL,
  deadlineCounts,
  deadlineFailed,
  deadlineFired,
  dueDeadlines,
  firingKey,
  markStarted,
  type StoredDeadline,
} from './checkoutTables.js';
import { type DeadlineDependencies, fireDeadline } from './fireDeadline.js';

/** LISTEN on a channel; `onLost` is told when the connection ends, after which nothing is heard. */
export interface Notifications {
  listen(
    channel: string,
    onNotification: (payload: string) => void,
    onLost?: () => void,
  ): Promise<{ close(): Promise<void> }>;
}

export interface DeadlineMetrics {
  /** A deadline was fired this long after it was due. */
  fired(kind: StoredDeadline['kind'], lateSeconds: number): void;
}

export interface DeadlineWorkerSettings {
  /** How many deadlines are fired at once: a slow provider call holds up no other. */
  concurrency: number;
  /** How long the worker waits at most before looking again, notification or not. */
  pollMs: number;
  /** Failures of one deadline before it is parked; each waits twice as long as the one before. */
  attempts: number;
  firstRetryDelayMs: number;
  restartDelayMs: number;
}

const DEFAULT_SETTINGS: DeadlineWorkerSettings = {
  concurrency: 32,
  pollMs: 1_000,
  attempts: 8,
  firstRetryDelayMs: 500,
  restartDelayMs: 1_000,
};

/** The name of its lock: one instance of the shop fires deadlines at a time. */
export const DEADLINE_WORKER = 'checkout-deadlines';

/**
 * Fires the checkout's due deadlines, as the single active instance across processes. Each is
 * fired on its own: one that fails is tried later, then parked, and never keeps the others waiting.
 */
export class DeadlineWorker {
  readonly name = DEADLINE_WORKER;
  private readonly settings: DeadlineWorkerSettings;
  private stopping = new AbortController();
  private running: Promise<void> | undefined;
  private failure: unknown;
  private readonly firing = new Map<string, Promise<void>>();
  private readonly wakeUp = new WakeUp();

  constructor(
    private readonly dependencies: Omit<DeadlineDependencies, 'markStarted'>,
    private readonly query: SqlQuery,
    private readonly leases: Pick<ConsumerStore, 'acquire'>,
    private readonly notifications: Notifications,
    private readonly logger: Logger,
    private readonly metrics?: DeadlineMetrics,
    settings: Partial<DeadlineWorkerSettings> = {},
  ) {
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
  }

  start(): void {
    if (this.running) return;
    this.stopping = new AbortController();
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    this.running = undefined;
  }

  async health(): Promise<WorkerHealth> {
    if (!this.running) return { status: 'down', detail: 'not running' };
    if (this.failure !== undefined) return { status: 'down', detail: `failing: ${describe(this.failure)}` };
    const { parked } = await deadlineCounts(this.query);
    return parked > 0
      ? { status: 'degraded', detail: `${parked} deadline${parked === 1 ? '' : 's'} parked` }
      : { status: 'up' };
  }

  private async run(): Promise<void> {
    const stopping = this.stopping.signal;
    while (!stopping.aborted) {
      let lease: ConsumerLease | undefined;
      try {
        lease = await this.leases.acquire(this.name, stopping, () => {
          this.failure = undefined;
        });
        if (!lease) return;
        this.failure = undefined;
        await this.fireWhileHeld(AbortSignal.any([stopping, lease.lost]));
      } catch (error) {
        this.failure = error;
        this.logger.error({ worker: this.name, err: error }, 'deadline worker failed; starting again soon');
      }
      // What was begun ends before the lock is let go, so that no other instance fires it meanwhile.
      await Promise.allSettled(this.firing.values());
      await lease?.release().catch((error: unknown) => {
        this.logger.warn({ worker: this.name, err: error }, 'deadline worker lock could not be released');
      });
      if (!stopping.aborted) await delay(this.settings.restartDelayMs, stopping);
    }
  }

  private async fireWhileHeld(signal: AbortSignal): Promise<void> {
    const listening = await this.notifications.listen(DEADLINES_CHANNEL, () => this.wakeUp.notify());
    try {
      while (!signal.aborted) {
        const free = this.settings.concurrency - this.firing.size;
        const now = this.dependencies.env.now();
        const { due, nextDueAt } = await dueDeadlines(this.query, now, free, [...this.firing.keys()]);
        for (const deadline of due) this.begin(deadline, now);
        // A full page: more may be due already. With no room, a firing that ends wakes the worker.
        if (free > 0 && due.length === free) continue;
        const untilNext = nextDueAt ? nextDueAt.getTime() - this.dependencies.env.now().getTime() : Infinity;
        await this.wakeUp.wait(Math.max(0, Math.min(this.settings.pollMs, untilNext)), signal);
      }
    } finally {
      await listening.close();
    }
  }

  private begin(deadline: StoredDeadline, now: Date): void {
    const key = firingKey(deadline);
    const firing = this.fire(deadline, now).finally(() => {
      this.firing.delete(key);
      this.wakeUp.notify();
    });
    this.firing.set(key, firing);
  }

  private async fire(deadline: StoredDeadline, now: Date): Promise<void> {
    try {
      await fireDeadline(
        { ...this.dependencies, markStarted: (started) => markStarted(this.query, started) },
        deadline,
      );
      await deadlineFired(this.query, deadline);
      this.metrics?.fired(deadline.kind, Math.max(0, (now.getTime() - Date.parse(deadline.dueAt)) / 1000));
    } catch (error) {
      const failures = deadline.failures + 1;
      const park = failures >= this.settings.attempts;
      const retryAt = park
        ? undefined
        : new Date(
            this.dependencies.env.now().getTime() + this.settings.firstRetryDelayMs * 2 ** (failures - 1),
          );
      this.logger[park ? 'error' : 'warn'](
        { worker: this.name, orderId: deadline.orderId, kind: deadline.kind, failures, err: error },
        park ? 'deadline parked after failing too often' : 'deadline failed; trying it again later',
      );
      await deadlineFailed(this.query, deadline, describe(error), retryAt).catch((failure: unknown) => {
        this.logger.error({ worker: this.name, err: failure }, 'a failed deadline could not be recorded');
      });
    }
  }
}

/** A wait that a notification ends early, one that came before the wait began included. */
class WakeUp {
  private notified = false;
  private end: (() => void) | undefined;

  notify(): void {
    this.notified = true;
    this.end?.();
  }

  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.notified) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.end = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        this.end = done;
      });
    }
    this.notified = false;
  }
}

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
