import type { Logger } from 'pino';
import { decodeStoredEvent } from '../commands/storedEvents.js';
import type { ReadAllOptions, RecordedEvent, SubscribeToAllOptions } from '../eventstore/eventStore.js';
import type { Consumer } from './consumer.js';
import {
  CheckpointMoved,
  type ConsumerLease,
  type ConsumerStore,
  type NewParkedEvent,
  type RunnerTransaction,
} from './consumerStore.js';
import { delay } from './delay.js';
import { readyBatches } from './readyBatches.js';

/** What the runner reads: the store's events, with personal data opened a batch at a time. */
export interface EventSource {
  subscribeToAll(options: SubscribeToAllOptions): AsyncIterable<RecordedEvent>;
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  readStream(streamId: string): Promise<RecordedEvent[]>;
  revealAll(events: readonly RecordedEvent[]): Promise<RecordedEvent[]>;
}

/** An event source over a store, opening personal data with `revealAll`. */
export function eventSourceOf(
  store: Pick<EventSource, 'subscribeToAll' | 'readAll' | 'readStream'>,
  revealAll: EventSource['revealAll'],
): EventSource {
  return {
    subscribeToAll: (options) => store.subscribeToAll(options),
    readAll: (options) => store.readAll(options),
    readStream: (streamId) => store.readStream(streamId),
    revealAll,
  };
}

/** How the runner tells errors apart; the composition root knows the adapters' errors. */
export interface ErrorKinds {
  /** A database or store that does not answer: no event is at fault, so none is parked. */
  isDependencyDown(error: unknown): boolean;
  /** An error that handling the same event again would raise again: parked at once. */
  isPermanent(error: unknown): boolean;
}

export interface RunnerSettings {
  /**
   * The most events handled in one transaction, and the page read while catching up: a page's
   * transaction costs the same whatever its size (2,500 reads 200,000 events 0.80x to 0.92x as
   * fast as readAll's pages of 1,000 alone; 1,000 gave 0.77x to 0.80x).
   */
  maxBatchSize: number;
  /** How often an event whose error may pass is tried before it is parked. */
  attempts: number;
  /** The wait before the second try; it doubles for each try after. */
  firstRetryDelayMs: number;
  /** The wait before following the stream again after a dependency failed. */
  restartDelayMs: number;
  /**
   * How long the checkpoint may stay before events the consumer does not want, when no batch it
   * wants comes to move it: a restart hands those events over again, and the consumer passes them
   * over again.
   */
  passedOverCheckpointMs: number;
}

const DEFAULT_RUNNER_SETTINGS: RunnerSettings = {
  maxBatchSize: 2500,
  attempts: 5,
  firstRetryDelayMs: 200,
  restartDelayMs: 1000,
  passedOverCheckpointMs: 250,
};

/**
 * How far this instance has followed the stream: `stored` is the checkpoint as committed, `reached`
 * the last event handled or passed over, and `passedOverSince` when `reached` first went past
 * `stored` without a transaction.
 */
interface Progress {
  stored: number;
  reached: number;
  passedOverSince: number | undefined;
}

const FLUSH_DUE = Symbol('the passed-over checkpoint is due');

/** Up, down, or up but with something an operator should look at (`degraded`). */
export type WorkerHealth = { status: 'up' } | { status: 'degraded' | 'down'; detail: string };

export interface ConsumerLag {
  /** Events of the consumer's category after its checkpoint, counted up to `LAG_COUNT_LIMIT`. */
  eventsBehind: number;
  /** How long ago the oldest of them was recorded; 0 when none wait. */
  secondsBehind: number;
}

/** Counting further than one read would cost more than knowing the exact backlog is worth. */
export const LAG_COUNT_LIMIT = 10_000;

type RunnerState = 'stopped' | 'standby' | 'active' | 'failing';

const EARLIER_EVENT_PARKED = 'an earlier event of its stream is parked for this consumer';

/**
 * Runs one consumer: as the single active instance across processes (the store's lock), from its
 * checkpoint, its effects and checkpoint in one transaction; an event it cannot handle is parked
 * with the rest of its stream, and the other streams go on.
 */
export class SubscriptionRunner {
  private state: RunnerState = 'stopped';
  private failure: unknown;
  private stopping = new AbortController();
  private running: Promise<void> | undefined;
  private readonly settings: RunnerSettings;

  constructor(
    private readonly consumer: Consumer,
    private readonly store: ConsumerStore,
    private readonly source: EventSource,
    private readonly errors: ErrorKinds,
    private readonly logger: Logger,
    settings: Partial<RunnerSettings> = {},
  ) {
    this.settings = {
      ...DEFAULT_RUNNER_SETTINGS,
      ...settings,
      ...(consumer.maxBatchSize === undefined ? {} : { maxBatchSize: consumer.maxBatchSize }),
    };
  }

  get name(): string {
    return this.consumer.name;
  }

  start(): void {
    if (this.running) return;
    this.stopping = new AbortController();
    // Until it holds the lock it stands by, as it does whenever another instance holds it.
    this.state = 'standby';
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    this.running = undefined;
    this.state = 'stopped';
  }

  /** Down while it is not running or is failing; parked events are told, but do not stop the shop. */
  async health(): Promise<WorkerHealth> {
    if (this.state === 'stopped') return { status: 'down', detail: 'not running' };
    if (this.state === 'failing') {
      return { status: 'down', detail: `failing: ${describe(this.failure)}` };
    }
    // A standby instance is healthy: the consumer runs in the instance that holds its lock.
    const parked = await this.parkedCount();
    return parked > 0
      ? { status: 'degraded', detail: `${parked} event${parked === 1 ? '' : 's'} parked` }
      : { status: 'up' };
  }

  parkedCount(): Promise<number> {
    return this.store.parkedCount(this.name);
  }

  async lag(): Promise<ConsumerLag> {
    return consumerLag(this.consumer, this.store, this.source);
  }

  private async run(): Promise<void> {
    const stopping = this.stopping.signal;
    while (!stopping.aborted) {
      let lease: ConsumerLease | undefined;
      let failure: unknown;
      try {
        lease = await this.store.acquire(this.name, stopping, () => this.standingBy());
        if (!lease) return;
        this.state = 'active';
        this.failure = undefined;
        await this.follow(AbortSignal.any([stopping, lease.lost]));
      } catch (error) {
        failure = error;
      }
      // Told before releasing: ending the lock's connection ends the lease too.
      const lockLost = lease?.lost.aborted === true;
      // Released before any wait, so that a standby can take over meanwhile.
      await lease?.release().catch((error: unknown) => {
        this.logger.warn({ consumer: this.name, err: error }, 'consumer lock could not be released');
      });
      if (stopping.aborted) return;
      if (lockLost) {
        await this.standBy();
      } else if (failure instanceof CheckpointMoved) {
        this.logger.warn(
          { consumer: this.name, err: failure },
          'another instance handled events; following again',
        );
      } else if (failure !== undefined) {
        this.state = 'failing';
        this.failure = failure;
        this.logger.error(
          { consumer: this.name, err: failure },
          'consumer failed; following the stream again soon',
        );
        await delay(this.settings.restartDelayMs, stopping);
      }
    }
  }

  /** Another instance holds the lock: this one is healthy, whatever failed here before. */
  private standingBy(): void {
    this.state = 'standby';
    this.failure = undefined;
  }

  /** A holder whose connection was cut is likely the one in trouble: a standby may take over. */
  private async standBy(): Promise<void> {
    this.logger.warn({ consumer: this.name }, 'consumer lock lost; waiting to take it again');
    this.standingBy();
    await delay(this.settings.restartDelayMs, this.stopping.signal);
  }

  private async follow(signal: AbortSignal): Promise<void> {
    const checkpoint = await this.store.checkpoint(this.name);
    const progress: Progress = { stored: checkpoint, reached: checkpoint, passedOverSince: undefined };
    await this.catchUp(progress, signal);
    if (signal.aborted) return;
    await this.storePassedOver(progress);
    await this.followLive(progress, signal);
  }

  /**
   * Reads page after page while whole pages come back, each page one batch, the next page read
   * while this one is handled.
   */
  private async catchUp(progress: Progress, signal: AbortSignal): Promise<void> {
    const pageAfter = (position: number): Promise<RecordedEvent[]> => {
      const page = this.source.readAll({
        fromPosition: position + 1,
        maxCount: this.settings.maxBatchSize,
        ...categoryFilterOf(this.consumer),
      });
      // Read ahead: if handling the current page fails, nobody waits for this one.
      page.catch(() => undefined);
      return page;
    };
    let page = pageAfter(progress.reached);
    while (!signal.aborted) {
      const events = await page;
      const last = events.at(-1);
      if (!last) break;
      const full = events.length === this.settings.maxBatchSize;
      if (full) page = pageAfter(last.position);
      await this.take(events, progress, signal);
      if (!full) break;
    }
  }

  /**
   * Follows the subscription from where catching up ended, handing on what is ready at once, and
   * storing a checkpoint left behind passed-over events once it is due.
   */
  private async followLive(progress: Progress, signal: AbortSignal): Promise<void> {
    // Ends the subscription's wait for new events once this stops following, whatever the reason.
    const reading = new AbortController();
    const events = this.source.subscribeToAll({
      fromPosition: progress.reached + 1,
      ...categoryFilterOf(this.consumer),
      signal: AbortSignal.any([signal, reading.signal]),
    });
    const batches = readyBatches(events, this.settings.maxBatchSize);
    // The next batch is asked for while this one is handled; if handling fails first, nobody waits for it.
    const ahead = (): Promise<IteratorResult<RecordedEvent[]>> => {
      const batch = batches.next();
      batch.catch(() => undefined);
      return batch;
    };
    try {
      let next = ahead();
      while (!signal.aborted) {
        const ready = await this.untilFlushDue(next, progress);
        if (ready === FLUSH_DUE) {
          await this.storePassedOver(progress);
          continue;
        }
        if (ready.done || signal.aborted) break;
        next = ahead();
        await this.take(ready.value, progress, signal);
      }
    } finally {
      reading.abort();
      await batches.return(undefined);
    }
  }

  /** The next batch, or FLUSH_DUE first if passed-over events have waited long enough. */
  private async untilFlushDue<T>(next: Promise<T>, progress: Progress): Promise<T | typeof FLUSH_DUE> {
    if (progress.passedOverSince === undefined) return next;
    const waitMs = progress.passedOverSince + this.settings.passedOverCheckpointMs - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const due = new Promise<typeof FLUSH_DUE>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, waitMs), FLUSH_DUE);
    });
    try {
      return await Promise.race([next, due]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A batch with an event the consumer wants is applied, in a transaction that also moves the
   * checkpoint past what was passed over before it; a batch with none is passed over.
   */
  private async take(
    events: readonly RecordedEvent[],
    progress: Progress,
    signal: AbortSignal,
  ): Promise<void> {
    const last = (events.at(-1) as RecordedEvent).position;
    if (!events.some((event) => this.wanted(event))) {
      progress.reached = last;
      progress.passedOverSince ??= Date.now();
      return;
    }
    progress.stored = await this.apply(events, progress.stored, signal);
    progress.reached = progress.stored;
    progress.passedOverSince = undefined;
  }

  private async storePassedOver(progress: Progress): Promise<void> {
    if (progress.reached === progress.stored) return;
    await this.store.advance(this.name, progress.stored, progress.reached, async () => undefined);
    progress.stored = progress.reached;
    progress.passedOverSince = undefined;
  }

  private opened(events: readonly RecordedEvent[]): Promise<readonly RecordedEvent[]> {
    return openWanted(this.consumer, this.source, events);
  }

  private wanted(event: RecordedEvent): boolean {
    return this.consumer.wants?.(event) ?? true;
  }

  /** Handles a batch in one transaction; when that fails, each event alone, to find the one at fault. */
  private async apply(
    events: readonly RecordedEvent[],
    checkpoint: number,
    signal: AbortSignal,
  ): Promise<number> {
    const last = (events.at(-1) as RecordedEvent).position;
    try {
      // Opening personal data can fail for one event (a sealed value damaged): it is sorted out below.
      const revealed = await this.opened(events);
      await this.store.advance(this.name, checkpoint, last, (tx) => this.handleIn(tx, revealed));
      return last;
    } catch (error) {
      if (error instanceof CheckpointMoved || this.errors.isDependencyDown(error)) throw error;
      let at = checkpoint;
      for (const [index, event] of events.entries()) {
        at = await this.applyAlone(event, at, signal, events.length === 1 && index === 0 ? error : undefined);
      }
      return at;
    }
  }

  private async applyAlone(
    event: RecordedEvent,
    checkpoint: number,
    signal: AbortSignal,
    firstError: unknown,
  ): Promise<number> {
    let error = firstError;
    let attempts = firstError === undefined ? 0 : 1;
    for (;;) {
      if (error === undefined) {
        try {
          const revealed = await this.opened([event]);
          await this.store.advance(this.name, checkpoint, event.position, (tx) =>
            this.handleIn(tx, revealed),
          );
          return event.position;
        } catch (failure) {
          if (failure instanceof CheckpointMoved || this.errors.isDependencyDown(failure)) throw failure;
          error = failure;
          attempts += 1;
        }
      }
      if (this.errors.isPermanent(error) || attempts >= this.settings.attempts) {
        await this.store.advance(this.name, checkpoint, event.position, (tx) =>
          tx.park([parkedEntry(event, describe(error), attempts)]),
        );
        this.logger.error(
          { consumer: this.name, streamId: event.streamId, position: event.position, attempts, err: error },
          'event parked: the consumer cannot handle it, nor the later events of its stream until it is retried',
        );
        return event.position;
      }
      await delay(this.settings.firstRetryDelayMs * 2 ** (attempts - 1), signal);
      if (signal.aborted) throw new Error('stopped while waiting to retry an event');
      error = undefined;
    }
  }

  /**
   * Of the events the consumer wants (`openWanted`), those of parked streams are parked behind
   * them, and the rest are decoded and handled. Events it does not want are passed over, in parked
   * streams too, so that what is parked never depends on how the events fell into batches.
   */
  private async handleIn(tx: RunnerTransaction, wanted: readonly RecordedEvent[]): Promise<void> {
    const parked = await tx.parkedAmong([...new Set(wanted.map((event) => event.streamId))]);
    const behindParked = wanted.filter((event) => parked.has(event.streamId));
    if (behindParked.length > 0)
      await tx.park(behindParked.map((event) => parkedEntry(event, EARLIER_EVENT_PARKED, 0)));
    const toHandle = wanted.filter((event) => !parked.has(event.streamId)).map(decodeStoredEvent);
    if (toHandle.length > 0) await this.consumer.handle(toHandle, tx);
  }
}

export async function consumerLag(
  consumer: Consumer,
  store: ConsumerStore,
  source: EventSource,
): Promise<ConsumerLag> {
  const checkpoint = await store.checkpoint(consumer.name);
  const waiting = await source.readAll({
    fromPosition: checkpoint + 1,
    maxCount: LAG_COUNT_LIMIT,
    ...categoryFilterOf(consumer),
  });
  const oldest = waiting[0];
  return {
    eventsBehind: waiting.length,
    secondsBehind: oldest ? Math.max(0, (Date.now() - oldest.recordedAt.getTime()) / 1000) : 0,
  };
}

export interface RetryOutcome {
  /** Events handled and unparked. */
  retried: number;
  /** Streams whose parked events failed again, with the error. */
  failed: { streamId: string; error: string }[];
}

/**
 * Handles each stream's parked events again, in order, once the cause is fixed: a stream whose
 * events all pass is unparked with them in one transaction; one that fails again stays parked.
 */
export async function retryParked(
  consumer: Consumer,
  store: ConsumerStore,
  source: EventSource,
): Promise<RetryOutcome> {
  const outcome: RetryOutcome = { retried: 0, failed: [] };
  for (const streamId of await store.streamsWithParkedEvents(consumer.name)) {
    try {
      outcome.retried += await store.unpark(consumer.name, streamId, async (parked, tx) => {
        const wanted = new Set(parked.map((entry) => entry.eventId));
        const stored = (await source.readStream(streamId)).filter((event) => wanted.has(event.id));
        if (stored.length !== parked.length)
          throw new Error(`${streamId}: some parked events are no longer readable`);
        await consumer.handle((await openedFor(consumer, source, stored)).map(decodeStoredEvent), tx);
      });
    } catch (error) {
      await store.retryFailed(consumer.name, streamId, describe(error));
      outcome.failed.push({ streamId, error: describe(error) });
    }
  }
  return outcome;
}

/**
 * The events a consumer wants, as it takes them: personal fields opened, unless it keeps them
 * sealed. Those it does not want are never opened: a damaged sealed value in one of them is no
 * fault of this consumer's.
 */
export const openWanted = (
  consumer: Consumer,
  source: Pick<EventSource, 'revealAll'>,
  events: readonly RecordedEvent[],
): Promise<readonly RecordedEvent[]> =>
  openedFor(
    consumer,
    source,
    events.filter((event) => consumer.wants?.(event) ?? true),
  );

const openedFor = async (
  consumer: Consumer,
  source: Pick<EventSource, 'revealAll'>,
  events: readonly RecordedEvent[],
): Promise<readonly RecordedEvent[]> =>
  consumer.keepsPersonalDataSealed === true ? events : source.revealAll(events);

const categoryFilterOf = (consumer: Consumer): { category?: string } =>
  consumer.category === undefined ? {} : { category: consumer.category };

function parkedEntry(event: RecordedEvent, error: string, attempts: number): NewParkedEvent {
  return {
    streamId: event.streamId,
    revision: event.revision,
    position: event.position,
    eventId: event.id,
    error,
    attempts,
  };
}

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
