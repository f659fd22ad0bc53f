import type { ConsumerTransaction } from './consumer.js';

/** Held while this process is the one active instance of a consumer. */
export interface ConsumerLease {
  /** Aborted once the lock is lost (its connection ended): another instance may take over. */
  lost: AbortSignal;
  release(): Promise<void>;
}

/** An event a consumer gave up on, with every later event of its stream for that consumer. */
export interface ParkedEvent {
  consumer: string;
  streamId: string;
  revision: number;
  position: number;
  eventId: string;
  error: string;
  attempts: number;
  parkedAt: Date;
}

export type NewParkedEvent = Omit<ParkedEvent, 'consumer' | 'parkedAt'>;

export interface RunnerTransaction extends ConsumerTransaction {
  /** Which of these streams have parked events for the consumer. */
  parkedAmong(streamIds: readonly string[]): Promise<Set<string>>;
  park(events: readonly NewParkedEvent[]): Promise<void>;
}

/** The checkpoint was not where this instance left it: another instance has moved it since. */
export class CheckpointMoved extends Error {
  override readonly name = 'CheckpointMoved';
  constructor(
    readonly consumer: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`the checkpoint of ${consumer} is at ${actual}, not at ${expected}: another instance moved it`);
  }
}

export interface ConsumerStatus {
  name: string;
  /** The position of the last event handled or parked; -1 before the first. */
  checkpoint: number;
  parked: number;
  /** The connection holding the consumer's lock (application name and process), if one does. */
  activeInstance: string | undefined;
}

/** Where consumers keep checkpoints and parked events, and how their instances take turns. */
export interface ConsumerStore {
  /**
   * Waits until this process holds the consumer's lock, telling `onStandby` each time another
   * instance is found holding it; undefined if `signal` ends the wait.
   */
  acquire(consumer: string, signal: AbortSignal, onStandby?: () => void): Promise<ConsumerLease | undefined>;
  /** -1 before the consumer's first event. */
  checkpoint(consumer: string): Promise<number>;
  /**
   * Runs `work` and moves the checkpoint from `from` to `to`, in one transaction; throws
   * `CheckpointMoved`, having done nothing, when the checkpoint is not at `from`.
   */
  advance<T>(
    consumer: string,
    from: number,
    to: number,
    work: (tx: RunnerTransaction) => Promise<T>,
  ): Promise<T>;
  /**
   * Runs `work` on a stream's parked events, oldest first, and unparks them if it returns, in one
   * transaction that takes turns with the active instance's.
   */
  unpark(
    consumer: string,
    streamId: string,
    work: (parked: readonly ParkedEvent[], tx: ConsumerTransaction) => Promise<void>,
  ): Promise<number>;
  /** Records that retrying a stream's parked events failed again, on the first of them. */
  retryFailed(consumer: string, streamId: string, error: string): Promise<void>;
  /** The streams with parked events, the one parked first first. */
  streamsWithParkedEvents(consumer: string): Promise<string[]>;
  /** Every parked event of the consumer, in the order they were recorded. */
  parked(consumer: string): Promise<ParkedEvent[]>;
  parkedCount(consumer: string): Promise<number>;
  status(consumer: string): Promise<ConsumerStatus>;
}
