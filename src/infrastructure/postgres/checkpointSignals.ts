import type { Logger } from 'pino';
import type { Notifications } from '../../commands/checkout/deadlineWorker.js';
import { ChannelListener } from './channelListener.js';

/** The channel on which every move of a consumer's checkpoint is announced, at its commit. */
const CHECKPOINTS_CHANNEL = 'consumer_checkpoints';

/**
 * The SQL call that announces a consumer's checkpoint, in the payload `CheckpointSignals` reads;
 * `consumer` and `position` are SQL expressions.
 */
export const announceCheckpoint = (consumer: string, position: string): string =>
  `pg_notify('${CHECKPOINTS_CHANNEL}', json_build_object('consumer', ${consumer}, 'position', ${position})::text)`;

interface Waiter {
  consumer: string;
  position: number;
  wake(announced: boolean): void;
}

/**
 * Consumers' checkpoints as they move, in any instance of the shop: a GET waiting for
 * `X-Min-Position` sleeps until its projector's checkpoint is announced there, instead of asking
 * the table again and again.
 */
export class CheckpointSignals {
  private readonly waiters = new Set<Waiter>();
  private readonly listener: ChannelListener;
  /** The furthest checkpoint of each consumer heard of since the listener last began hearing. */
  private readonly latest = new Map<string, number>();
  /** A number never given before, for each consumer, each time its checkpoint is told or read. */
  private readonly stamps = new Map<string, number>();
  private lastStamp = 0;

  constructor(notifications: Notifications, logger: Logger) {
    this.listener = new ChannelListener(
      notifications,
      CHECKPOINTS_CHANNEL,
      {
        onNotification: (payload) => this.announced(payload),
        onHearingChanged: () => {
          this.latest.clear();
          this.stamps.clear();
        },
      },
      logger,
    );
  }

  /**
   * The consumer's checkpoint as far as it was announced, or as `read` answers it when that is not
   * known to be `atLeast` (before the first announcement, while announcements cannot be heard, or
   * when one may have been missed). Announced at commit, it is never ahead of what the tables hold.
   */
  async position(consumer: string, read: () => Promise<number>, atLeast = 0): Promise<number> {
    const heard = this.listener.hearing ? this.latest.get(consumer) : undefined;
    if (heard !== undefined && heard >= atLeast) return heard;
    const position = await read();
    if (this.listener.hearing) {
      this.latest.set(consumer, Math.max(position, this.latest.get(consumer) ?? -1));
      this.stamps.set(consumer, ++this.lastStamp);
    }
    return position;
  }

  /**
   * A number that changes whenever the consumer's tables may have changed as far as this instance
   * can tell: at every announcement of its checkpoint (a rebuild's swap included, at whatever
   * position) and whenever hearing begins or ends; undefined while nothing is heard of it. What
   * its tables answered under one stamp is, while the stamp stays, still at least as recent as
   * the checkpoint announced.
   */
  stamp(consumer: string): number | undefined {
    return this.listener.hearing ? this.stamps.get(consumer) : undefined;
  }

  start(): void {
    this.listener.start();
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }

  /**
   * Resolves true once `consumer`'s checkpoint is announced at `position` or beyond, or false
   * after `timeoutMs`.
   */
  reached(consumer: string, position: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        consumer,
        position,
        wake: (announced) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(announced);
        },
      };
      const timer = setTimeout(() => waiter.wake(false), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private announced(payload: string): void {
    let told: { consumer?: unknown; position?: unknown };
    try {
      told = JSON.parse(payload) as typeof told;
    } catch {
      return;
    }
    if (typeof told.consumer !== 'string' || typeof told.position !== 'number') return;
    if (told.position > (this.latest.get(told.consumer) ?? -1)) this.latest.set(told.consumer, told.position);
    this.stamps.set(told.consumer, ++this.lastStamp);
    for (const waiter of this.waiters) {
      if (waiter.consumer === told.consumer && waiter.position <= told.position) waiter.wake(true);
    }
  }
}
