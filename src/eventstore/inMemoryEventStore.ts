import type {
  AppendResult,
  DeliveryStall,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamVerification,
  SubscribeToAllOptions,
} from './eventStore.js';
import { canonicalEvent, chainHash, GENESIS_HASH, verifyChain } from './hashChain.js';
import { expectationHolds, settleConflict } from './idempotency.js';
import { ChangeSignal } from './changeSignal.js';
import { catchUp } from './catchUpSubscription.js';
import { type Upcast, upcasterChain } from './upcasting.js';
import {
  validateCategory,
  validateEvents,
  validateExpectedRevision,
  validateMaxCount,
  validateNonNegativeInteger,
  validateStreamId,
} from './validation.js';

/** For unit tests only: keeps events in this process, with the same semantics as the real stores. */
export class InMemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly eventsById = new Map<string, RecordedEvent>();
  private readonly changes = new ChangeSignal();
  private readonly upcast: Upcast;
  private readonly now: () => Date;

  constructor(options: { upcast?: Upcast; now?: () => Date } = {}) {
    this.upcast = options.upcast ?? upcasterChain([]);
    this.now = options.now ?? (() => new Date());
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    const category = validateStreamId(streamId);
    validateExpectedRevision(expected);
    validateEvents(events);
    const stream = this.streams.get(streamId) ?? [];
    const actual = stream.length - 1;
    const alreadyStored = events.flatMap((event) => this.eventsById.get(event.id) ?? []);
    if (alreadyStored.length > 0 || !expectationHolds(expected, actual)) {
      return settleConflict(streamId, events, expected, actual, alreadyStored);
    }
    const recordedAt = new Date(this.now().toISOString());
    let previousHash = stream.at(-1)?.hash ?? GENESIS_HASH;
    const recorded = events.map((event, index): RecordedEvent => {
      const revision = actual + 1 + index;
      const hash = chainHash(
        previousHash,
        canonicalEvent({ ...event, streamId, revision, recordedAt: recordedAt.toISOString() }),
      );
      const stored = structuredClone({ ...event, streamId, revision, position: this.log.length + 1 + index });
      const record = { ...stored, recordedAt, hash, previousHash };
      previousHash = hash;
      return record;
    });
    for (const event of recorded) {
      this.log.push(event);
      this.eventsById.set(event.id, event);
    }
    this.streams.set(streamId, [...stream, ...recorded]);
    const last = recorded[recorded.length - 1] as RecordedEvent;
    this.changes.notify({ lastPosition: last.position, categories: [category] });
    return { revision: last.revision, position: last.position };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    validateStreamId(streamId);
    const stream = this.streams.get(streamId) ?? [];
    const maxCount = options.maxCount === undefined ? stream.length : validateMaxCount(options.maxCount);
    const backwards = options.direction === 'backwards';
    const from =
      options.fromRevision === undefined
        ? undefined
        : validateNonNegativeInteger('fromRevision', options.fromRevision);
    const selected = backwards
      ? stream.filter((event) => from === undefined || event.revision <= from).reverse()
      : stream.filter((event) => from === undefined || event.revision >= from);
    return selected.slice(0, maxCount).map((event) => this.copy(event));
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const fromPosition = validateNonNegativeInteger('fromPosition', options.fromPosition);
    const maxCount = validateMaxCount(options.maxCount);
    const category = options.category === undefined ? undefined : validateCategory(options.category);
    const selected = this.log
      .filter((event) => event.position >= fromPosition)
      .filter((event) => category === undefined || event.streamId.startsWith(`${category}-`))
      .slice(0, maxCount);
    return selected.map((event) => this.copy(event));
  }

  subscribeToAll(options: SubscribeToAllOptions): AsyncIterable<RecordedEvent> {
    const fromPosition = validateNonNegativeInteger('fromPosition', options.fromPosition);
    const { category } = options;
    return catchUp({
      fromPosition,
      batchSize: 1000,
      readBatch: async (from, maxCount) => ({
        events: await this.readAll({ fromPosition: from, maxCount, ...(category ? { category } : {}) }),
        heldBack: false,
      }),
      category,
      changes: this.changes,
      heldBackPollMs: 10,
      idlePollMs: 60_000,
      signal: options.signal,
    });
  }

  async headPosition(): Promise<number> {
    return this.log.at(-1)?.position ?? 0;
  }

  async verifyStream(streamId: string): Promise<StreamVerification> {
    validateStreamId(streamId);
    return verifyChain(streamId, this.streams.get(streamId) ?? []);
  }

  deliveryStall(): DeliveryStall {
    return { stalledForMs: 0 };
  }

  async close(): Promise<void> {
    this.changes.notify();
    return;
  }

  private copy(event: RecordedEvent): RecordedEvent {
    return this.upcast({ ...structuredClone(event), recordedAt: new Date(event.recordedAt) });
  }
}
