import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Notifications } from '../../commands/checkout/deadlineWorker.js';
import { ChannelListener } from '../postgres/channelListener.js';

/** The channel on which forgetting a customer is announced, with the customer's id as payload. */
export const FORGOTTEN_CHANNEL = 'customer_forgotten';

/** How many customers' keys one process keeps, the least recently used given up first. */
const KEYS_KEPT = 50_000;

/** What the vault asks of its keys in memory; `epoch` changes whenever a kept key may be stale. */
export interface KeptKeys {
  /** The owner's key; null once forgotten; undefined when not kept. */
  get(owner: string): Buffer | null | undefined;
  /** Keeps a key read from the table, unless the keys were invalidated since `epoch`. */
  keep(owner: string, key: Buffer | null, epoch: number): void;
  forgotten(owner: string): void;
  epoch(): number;
}

/** Keeps nothing: every seal and every opening reads the table. */
export const NO_KEPT_KEYS: KeptKeys = {
  get: () => undefined,
  keep: () => undefined,
  forgotten: () => undefined,
  epoch: () => 0,
};

/**
 * Customers' data keys kept in memory, so that opening an event's personal fields costs no query.
 * Forgetting a customer is announced on FORGOTTEN_CHANNEL: a process drops the key as it hears of
 * it, and keeps no key while it cannot hear (before it listens, and after its connection ends), so
 * that an erasure made elsewhere is never missed. A key read while an erasure came in is not kept:
 * it may be the erased one.
 */
export class DataKeyCache implements KeptKeys {
  /** A forgotten customer's entry holds no key. */
  private readonly keys = new LRUCache<string, { key: Buffer | null }>({ max: KEYS_KEPT });
  private invalidations = 0;
  private readonly listener: ChannelListener;

  constructor(notifications: Notifications, logger: Logger, listenAgainMs?: number) {
    this.listener = new ChannelListener(
      notifications,
      FORGOTTEN_CHANNEL,
      { onNotification: (owner) => this.forgotten(owner), onHearingChanged: () => this.dropAll() },
      logger,
      listenAgainMs,
    );
  }

  get(owner: string): Buffer | null | undefined {
    return this.keys.get(owner)?.key;
  }

  keep(owner: string, key: Buffer | null, epoch: number): void {
    if (!this.hearing || epoch !== this.invalidations) return;
    this.keys.set(owner, { key });
  }

  forgotten(owner: string): void {
    this.invalidations += 1;
    // Forgetting is for good: a forgotten customer is kept as such, even when heard of elsewhere.
    if (this.hearing) this.keys.set(owner, { key: null });
  }

  epoch(): number {
    return this.invalidations;
  }

  start(): void {
    this.listener.start();
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }

  /** Whether it hears of erasures now, and so keeps keys. */
  get hearing(): boolean {
    return this.listener.hearing;
  }

  /** Whatever was kept before hearing began, or while it was cut off, may be stale. */
  private dropAll(): void {
    this.invalidations += 1;
    this.keys.clear();
  }
}
