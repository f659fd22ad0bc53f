import {
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  NotLeaderError,
  START,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  type AppendExpectedRevision,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import type {
  AppendResult,
  DeliveryStall,
  EventMetadata,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  JsonObject,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamVerification,
  SubscribeToAllOptions,
} from '../../eventstore/eventStore.js';
import { canonicalEvent, chainHash, GENESIS_HASH, verifyChain } from '../../eventstore/hashChain.js';
import { expectationHolds, settleConflict } from '../../eventstore/idempotency.js';
import { ChangeSignal } from '../../eventstore/changeSignal.js';
import { catchUp } from '../../eventstore/catchUpSubscription.js';
import { type Upcast, upcasterChain } from '../../eventstore/upcasting.js';
import {
  validateCategory,
  validateEvents,
  validateExpectedRevision,
  validateMaxCount,
  validateNonNegativeInteger,
  validateStreamId,
} from '../../eventstore/validation.js';

/** Stored beside the writer's metadata: EventStoreDB has no hash chain of its own. */
interface ChainLink {
  hash: string;
  previousHash: string;
  recordedAt: string;
}

type StoredMetadata = EventMetadata & { $chain: ChainLink };

interface StoredEvent {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  position?: Position;
}

const MAX_UNCHECKED_APPEND_ATTEMPTS = 50;
const SUBSCRIPTION_BATCH_SIZE = 1000;
const IDLE_POLL_MS = 1000;

function toRecordedEvent(stored: StoredEvent): RecordedEvent {
  const { $chain: chain, ...metadata } = stored.metadata as StoredMetadata;
  return {
    id: stored.id,
    streamId: stored.streamId,
    revision: Number(stored.revision),
    // EventStoreDB's log position: strictly increasing, not contiguous. Appends are implicit
    // transactions of their own, so each event's commit position is its own.
    position: Number(stored.position?.commit ?? -1),
    type: stored.type,
    data: stored.data as JsonObject,
    metadata: metadata,
    recordedAt: new Date(chain.recordedAt),
    hash: chain.hash,
    previousHash: chain.previousHash,
  };
}

function startPosition(fromPosition: number): ReadPosition {
  return fromPosition === 0 ? START : { commit: BigInt(fromPosition), prepare: BigInt(fromPosition) };
}

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly upcast: Upcast;
  private readonly changes = new ChangeSignal();
  private liveWakeUps: { unsubscribe(): Promise<void> } | undefined;

  constructor(options: { connectionString: string; upcast?: Upcast }) {
    this.client = EventStoreDBClient.connectionString(options.connectionString);
    this.upcast = options.upcast ?? upcasterChain([]);
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    validateStreamId(streamId);
    validateExpectedRevision(expected);
    validateEvents(events);
    const checked = typeof expected === 'number' || expected === 'no_stream';
    for (let attempt = 1; ; attempt += 1) {
      const [head] = await this.readStream(streamId, { direction: 'backwards', maxCount: 1 });
      const actual = head?.revision ?? -1;
      const alreadyStored = await this.storedWithIds(streamId, events);
      if (alreadyStored.length > 0 || !expectationHolds(expected, actual)) {
        return settleConflict(streamId, events, expected, actual, alreadyStored);
      }
      try {
        return await this.appendAfter(streamId, events, head);
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (!checked && attempt < MAX_UNCHECKED_APPEND_ATTEMPTS) continue;
        const [current] = await this.readStream(streamId, { direction: 'backwards', maxCount: 1 });
        const stored = await this.storedWithIds(streamId, events);
        return settleConflict(streamId, events, expected, current?.revision ?? -1, stored);
      }
    }
  }

  /** Appends after `head`, chaining hashes from it; EventStoreDB refuses if the stream moved on. */
  private async appendAfter(
    streamId: string,
    events: readonly EventToAppend[],
    head: RecordedEvent | undefined,
  ): Promise<AppendResult> {
    const recordedAt = new Date().toISOString();
    let previousHash = head?.hash ?? GENESIS_HASH;
    const first = (head?.revision ?? -1) + 1;
    const stored = events.map((event, index) => {
      const hash = chainHash(
        previousHash,
        canonicalEvent({ ...event, streamId, revision: first + index, recordedAt }),
      );
      const chain: ChainLink = { hash, previousHash, recordedAt };
      previousHash = hash;
      return jsonEvent({
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: { ...event.metadata, $chain: chain },
      });
    });
    const expectedRevision: AppendExpectedRevision = head ? BigInt(head.revision) : NO_STREAM;
    const result = await this.client.appendToStream(streamId, stored, { expectedRevision });
    return {
      revision: Number(result.nextExpectedRevision),
      position: Number(result.position?.commit ?? -1),
    };
  }

  /** EventStoreDB has no index by event id: this reads the stream, short for an aggregate's. */
  private async storedWithIds(streamId: string, events: readonly EventToAppend[]): Promise<RecordedEvent[]> {
    const ids = new Set(events.map((event) => event.id));
    const stream = await this.readStream(streamId);
    return stream.filter((event) => ids.has(event.id));
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    validateStreamId(streamId);
    const backwards = options.direction === 'backwards';
    const fromRevision =
      options.fromRevision === undefined
        ? backwards
          ? END
          : START
        : BigInt(validateNonNegativeInteger('fromRevision', options.fromRevision));
    const maxCount = options.maxCount === undefined ? undefined : validateMaxCount(options.maxCount);
    const events: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision,
        ...(maxCount === undefined ? {} : { maxCount }),
      });
      for await (const resolved of read) {
        if (resolved.event) events.push(toRecordedEvent(resolved.event));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events.map((event) => this.upcast(event));
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const fromPosition = validateNonNegativeInteger('fromPosition', options.fromPosition);
    const maxCount = validateMaxCount(options.maxCount);
    const prefix = options.category === undefined ? undefined : `${validateCategory(options.category)}-`;
    const events: RecordedEvent[] = [];
    // Reads past system events and other categories until a page is full or the log ends.
    let from: ReadPosition = startPosition(fromPosition);
    for (;;) {
      let read = 0;
      let last: Position | undefined;
      for await (const resolved of this.client.readAll({
        fromPosition: from,
        maxCount,
        direction: FORWARDS,
      })) {
        read += 1;
        const event = resolved.event;
        if (!event) continue;
        last = event.position;
        if (event.position.commit < BigInt(fromPosition) || event.type.startsWith('$')) continue;
        if (event.streamId.startsWith('$') || (prefix && !event.streamId.startsWith(prefix))) continue;
        events.push(this.upcast(toRecordedEvent(event)));
        if (events.length === maxCount) return events;
      }
      if (read < maxCount || !last) return events;
      from = { commit: last.commit + 1n, prepare: last.commit + 1n };
    }
  }

  subscribeToAll(options: SubscribeToAllOptions): AsyncIterable<RecordedEvent> {
    const fromPosition = validateNonNegativeInteger('fromPosition', options.fromPosition);
    const category = options.category === undefined ? undefined : validateCategory(options.category);
    this.startLiveWakeUps();
    return catchUp({
      fromPosition,
      batchSize: SUBSCRIPTION_BATCH_SIZE,
      readBatch: async (from, maxCount) => ({
        events: await this.readAll({ fromPosition: from, maxCount, ...(category ? { category } : {}) }),
        // EventStoreDB orders its log itself: there is no open transaction to wait for.
        heldBack: false,
      }),
      category,
      changes: this.changes,
      heldBackPollMs: IDLE_POLL_MS,
      idlePollMs: IDLE_POLL_MS,
      signal: options.signal,
    });
  }

  /** The server's own live subscription only wakes the catch-up readers; they read in order. */
  private startLiveWakeUps(): void {
    if (this.liveWakeUps) return;
    const subscription = this.client.subscribeToAll({ fromPosition: END, filter: excludeSystemEvents() });
    subscription.on('data', () => this.changes.notify());
    subscription.on('error', () => {
      this.liveWakeUps = undefined;
    });
    this.liveWakeUps = subscription;
  }

  async headPosition(): Promise<number> {
    for await (const resolved of this.client.readAll({
      fromPosition: END,
      direction: BACKWARDS,
      maxCount: 100,
    })) {
      const event = resolved.event;
      if (event && !event.type.startsWith('$') && !event.streamId.startsWith('$'))
        return Number(event.position.commit);
    }
    return 0;
  }

  async verifyStream(streamId: string): Promise<StreamVerification> {
    validateStreamId(streamId);
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, {
        direction: FORWARDS,
        fromRevision: START,
      })) {
        if (resolved.event) events.push(toRecordedEvent(resolved.event));
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return verifyChain(streamId, events);
  }

  deliveryStall(): DeliveryStall {
    return { stalledForMs: 0 };
  }

  async close(): Promise<void> {
    await this.liveWakeUps?.unsubscribe();
    this.changes.notify();
    await this.client.dispose();
  }
}

/** Whether `error` means the EventStoreDB cluster cannot be reached or cannot serve now (503). */
export function isEventStoreDbUnavailable(error: unknown): boolean {
  return (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof NotLeaderError
  );
}
