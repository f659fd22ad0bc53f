import type pg from 'pg';
import type { Logger } from 'pino';
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
import { WrongExpectedVersion } from '../../eventstore/errors.js';
import { canonicalEvent, verifyChain } from '../../eventstore/hashChain.js';
import { settleConflict } from '../../eventstore/idempotency.js';
import { type Change, ChangeSignal } from '../../eventstore/changeSignal.js';
import { type Batch, catchUp } from '../../eventstore/catchUpSubscription.js';
import { type Upcast, upcasterChain } from '../../eventstore/upcasting.js';
import {
  validateCategory,
  validateEvents,
  validateExpectedRevision,
  validateMaxCount,
  validateNonNegativeInteger,
  validateStreamId,
} from '../../eventstore/validation.js';
import { ChannelListener } from '../postgres/channelListener.js';
import type { Queryable } from '../postgres/database.js';
import { postgresNotifications } from '../postgres/postgresNotifications.js';

const NOTIFY_CHANNEL = 'es_events';
const SUBSCRIPTION_BATCH_SIZE = 1000;
const HELD_BACK_POLL_MS = 5;
/** Wake-ups come by notification; this only bounds the wait should one be lost. */
const IDLE_POLL_MS = 1000;
/** `any` and `stream_exists` appends re-read the head and try again when another writer got there first. */
const MAX_UNCHECKED_APPEND_ATTEMPTS = 50;

// node-postgres answers bigint columns as strings: toRecordedEvent turns them into numbers.
const COLUMNS =
  'position, event_id, stream_id, revision, type, data, metadata, recorded_at, previous_hash, hash';

interface EventRow {
  position: string;
  event_id: string;
  stream_id: string;
  revision: string;
  type: string;
  data: JsonObject;
  metadata: EventMetadata;
  recorded_at: Date;
  previous_hash: string;
  hash: string;
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamId: row.stream_id,
    revision: Number(row.revision),
    position: Number(row.position),
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

interface PgError {
  constraint?: string;
}

export interface AppendRequest {
  streamId: string;
  events: readonly EventToAppend[];
  /** The revision of the stream's last event; -1 when the stream must not exist yet. */
  expectedRevision: number;
}

/**
 * Appended; or refused because the stream is not where the append expected it (at `actual`, when
 * known), or because one of its event ids is already stored.
 */
export type AppendOutcome =
  { appended: AppendResult } | { conflict: { actual?: number } } | { eventIdTaken: true };

/**
 * Writes several appends in one transaction, each all or nothing (see es_append in the migration).
 * Expectations that fail come back as conflicts; another writer racing to the same revision or an
 * event id that is taken fails the whole call with a unique violation.
 */
export async function appendBatch(
  db: Queryable,
  requests: readonly AppendRequest[],
  recordedAt: Date,
): Promise<AppendOutcome[]> {
  const recordedAtText = recordedAt.toISOString();
  // Canonical texts are JSON objects, so joined with commas they make a JSON array as they are.
  const canonicalEvents = requests.flatMap(({ streamId, events, expectedRevision }) =>
    events.map((event, index) =>
      canonicalEvent({
        ...event,
        streamId,
        revision: expectedRevision + 1 + index,
        recordedAt: recordedAtText,
      }),
    ),
  );
  const result = await db.query<{
    last_position: string | null;
    last_revision: string;
    actual_revision: string;
  }>({
    // Named, so each connection parses and plans it once.
    name: 'es_append',
    text: `SELECT last_position::text, last_revision::text, actual_revision::text
             FROM es_append($1, $2, $3, $4, $5, $6)`,
    values: [
      requests.map((request) => request.streamId),
      requests.map((request) => validateStreamId(request.streamId)),
      requests.map((request) => request.expectedRevision),
      requests.map((request) => request.events.length),
      `[${canonicalEvents.join(',')}]`,
      recordedAtText,
    ],
  });
  return result.rows.map((row) =>
    row.last_position === null
      ? { conflict: { actual: Number(row.actual_revision) } }
      : { appended: { revision: Number(row.last_revision), position: Number(row.last_position) } },
  );
}

/** One append on a connection of the caller's, inside its transaction if it has one open. */
export async function appendAfter(
  db: Queryable,
  streamId: string,
  events: readonly EventToAppend[],
  expectedRevision: number,
  recordedAt: Date,
): Promise<AppendResult> {
  const [outcome] = await appendBatch(db, [{ streamId, events, expectedRevision }], recordedAt);
  if (outcome && 'appended' in outcome) return outcome.appended;
  const expected = expectedRevision === -1 ? 'no_stream' : expectedRevision;
  const actual = outcome && 'conflict' in outcome ? outcome.conflict.actual : undefined;
  throw new WrongExpectedVersion(streamId, expected, actual ?? -1);
}

/** The most events one batch writes; es_append allows 65536 in a transaction. */
const MAX_BATCH_EVENTS = 2000;

interface QueuedAppend {
  request: AppendRequest;
  settle(outcome: Promise<AppendOutcome>): void;
}

/**
 * Group commit: appends that arrive while a batch is being written go together in the next one, so
 * concurrent writers share one round trip and one commit instead of queueing for one each.
 */
class AppendBatcher {
  private queue: QueuedAppend[] = [];
  private writing = false;

  constructor(private readonly pool: pg.Pool) {}

  submit(request: AppendRequest): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, settle: (outcome) => void outcome.then(resolve, reject) });
      if (!this.writing) void this.writeQueued();
    });
  }

  private async writeQueued(): Promise<void> {
    this.writing = true;
    let answered = 0;
    for (;;) {
      // Writers whose appends were just answered queue their next one in the promise callbacks that
      // follow; one turn of the event loop lets them join the next batch. Without it, batches
      // alternate between those who waited and those just answered (1 and 7 of 8 writers). A lone
      // writer with nobody waiting has no one to gather.
      if (answered > 1 || (answered === 1 && this.queue.length > 0)) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.queue.length === 0) break;
      const batch = this.takeBatch();
      try {
        const written = await appendBatch(
          this.pool,
          batch.map(({ request }) => request),
          new Date(),
        );
        batch.forEach((queued, index) => queued.settle(Promise.resolve(written[index] as AppendOutcome)));
      } catch (error) {
        if (batch.length === 1) (batch[0] as QueuedAppend).settle(this.asOutcome(error));
        // One failure undid the whole batch: each append gets its own transaction and its own answer.
        else for (const queued of batch) queued.settle(this.writeAlone(queued.request));
      }
      answered = batch.length;
    }
    this.writing = false;
  }

  private takeBatch(): QueuedAppend[] {
    let events = 0;
    let count = 0;
    for (const queued of this.queue) {
      if (count > 0 && events + queued.request.events.length > MAX_BATCH_EVENTS) break;
      events += queued.request.events.length;
      count += 1;
    }
    return this.queue.splice(0, count);
  }

  private async writeAlone(request: AppendRequest): Promise<AppendOutcome> {
    try {
      const [outcome] = await appendBatch(this.pool, [request], new Date());
      return outcome as AppendOutcome;
    } catch (error) {
      return this.asOutcome(error);
    }
  }

  private async asOutcome(error: unknown): Promise<AppendOutcome> {
    const { constraint } = error as PgError;
    if (constraint === 'es_events_stream_revision') return { conflict: {} };
    if (constraint === 'es_events_event_id') return { eventIdTaken: true };
    throw error;
  }
}

export interface PostgresEventStoreOptions {
  pool: pg.Pool;
  /** For the one extra connection that LISTENs for new events. */
  connection: pg.ClientConfig;
  logger: Logger;
  upcast?: Upcast;
}

export class PostgresEventStore implements EventStore {
  private readonly pool: pg.Pool;
  private readonly logger: Logger;
  private readonly upcast: Upcast;
  private readonly changes = new ChangeSignal();
  /** One LISTEN connection per store, listening again after it ends; subscribers poll slowly meanwhile. */
  private readonly listener: ChannelListener;
  private readonly batcher: AppendBatcher;
  private heldBackHorizon: { horizon: number; since: number } | undefined;
  /** The highest horizon a read of this store has met: every event below it was committed then. */
  private horizonMet = 0;

  constructor(options: PostgresEventStoreOptions) {
    this.pool = options.pool;
    this.logger = options.logger;
    this.upcast = options.upcast ?? upcasterChain([]);
    this.listener = new ChannelListener(
      postgresNotifications(options.connection, options.logger),
      NOTIFY_CHANNEL,
      {
        onNotification: (payload) => this.changes.notify(changeIn(payload)),
        // Anything appended while no connection listened was not announced.
        onHearingChanged: () => this.changes.notify(),
      },
      options.logger,
    );
    this.batcher = new AppendBatcher(this.pool);
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    const category = validateStreamId(streamId);
    validateExpectedRevision(expected);
    validateEvents(events);
    const result = await this.appendWithRetries(streamId, events, expected);
    // Subscribers in this process hear of it before the notification comes round through Postgres.
    this.changes.notify({ lastPosition: result.position, categories: [category] });
    return result;
  }

  private async appendWithRetries(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    const checked = typeof expected === 'number' || expected === 'no_stream';
    for (let attempt = 1; ; attempt += 1) {
      const head = checked ? (expected === 'no_stream' ? -1 : expected) : await this.headRevision(streamId);
      if (expected === 'stream_exists' && head === -1) {
        return this.resolveConflict(streamId, events, expected, head);
      }
      const outcome = await this.batcher.submit({ streamId, events, expectedRevision: head });
      if ('appended' in outcome) return outcome.appended;
      const retry = 'conflict' in outcome && !checked && attempt < MAX_UNCHECKED_APPEND_ATTEMPTS;
      if (retry) continue;
      const known = 'conflict' in outcome ? outcome.conflict.actual : undefined;
      return this.resolveConflict(streamId, events, expected, known ?? (await this.headRevision(streamId)));
    }
  }

  /** A conflicting append is either the retry of one already stored, a duplicate id, or too late. */
  private async resolveConflict(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
    actual: number,
  ): Promise<AppendResult> {
    const stored = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM es_events WHERE event_id = ANY($1)`,
      [events.map((event) => event.id)],
    );
    return settleConflict(streamId, events, expected, actual, stored.rows.map(toRecordedEvent));
  }

  private async headRevision(streamId: string): Promise<number> {
    const result = await this.pool.query<{ revision: string }>(
      'SELECT revision FROM es_events WHERE stream_id = $1 ORDER BY revision DESC LIMIT 1',
      [streamId],
    );
    return Number(result.rows[0]?.revision ?? -1);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    validateStreamId(streamId);
    const backwards = options.direction === 'backwards';
    const from =
      options.fromRevision === undefined
        ? null
        : validateNonNegativeInteger('fromRevision', options.fromRevision);
    const maxCount = options.maxCount === undefined ? null : validateMaxCount(options.maxCount);
    const result = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM es_events
        WHERE stream_id = $1 AND ($2::bigint IS NULL OR revision ${backwards ? '<=' : '>='} $2)
        ORDER BY revision ${backwards ? 'DESC' : 'ASC'} LIMIT $3`,
      [streamId, from, maxCount],
    );
    return result.rows.map((row) => this.upcast(toRecordedEvent(row)));
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    const fromPosition = validateNonNegativeInteger('fromPosition', options.fromPosition);
    const maxCount = validateMaxCount(options.maxCount);
    const category = options.category === undefined ? undefined : validateCategory(options.category);
    return (await this.readBatch(fromPosition, maxCount, category)).events;
  }

  /**
   * One statement reads the events below the horizon and, from the same snapshot, whether committed
   * events above it are held back, so a late commit can never slip between the two. The page is cut
   * at the horizon after it is read: bounding the scan by the horizon itself hides the range from the
   * planner, which then sorts every row below the horizon instead of walking the index. The horizon is
   * materialised so that it is computed once, not once a row.
   */
  private async readBatch(fromPosition: number, maxCount: number, category?: string): Promise<Batch> {
    const result = await this.pool.query<EventRow & { horizon: string; head: string | null }>(
      `WITH h AS MATERIALIZED (SELECT es_horizon() AS horizon, (SELECT max(position) FROM es_events) AS head)
       SELECT h.horizon::text, h.head::text, e.*
         FROM h
         LEFT JOIN LATERAL (
           SELECT * FROM (
             SELECT ${COLUMNS} FROM es_events
              WHERE position >= $1 ${category ? 'AND category = $3' : ''}
              ORDER BY position LIMIT $2) page
            WHERE page.position < h.horizon) e ON true`,
      category ? [fromPosition, maxCount, category] : [fromPosition, maxCount],
    );
    const first = result.rows[0];
    const horizon = Number(first?.horizon);
    if (horizon > this.horizonMet) this.horizonMet = horizon;
    const heldBack = first?.head != null && Number(first.head) >= horizon;
    this.trackHeldBack(heldBack, horizon);
    const events = result.rows
      .filter((row) => row.position !== null)
      .map((row) => this.upcast(toRecordedEvent(row)))
      // The join keeps the page's order in practice; sorting here makes it a guarantee, for free.
      .sort((a, b) => a.position - b.position);
    return { events, heldBack };
  }

  private trackHeldBack(heldBack: boolean, horizon: number): void {
    if (!heldBack) this.heldBackHorizon = undefined;
    else if (this.heldBackHorizon?.horizon !== horizon) this.heldBackHorizon = { horizon, since: Date.now() };
  }

  deliveryStall(): DeliveryStall {
    return { stalledForMs: this.heldBackHorizon ? Date.now() - this.heldBackHorizon.since : 0 };
  }

  subscribeToAll(options: SubscribeToAllOptions): AsyncIterable<RecordedEvent> {
    const fromPosition = validateNonNegativeInteger('fromPosition', options.fromPosition);
    const category = options.category === undefined ? undefined : validateCategory(options.category);
    this.listener.start();
    return catchUp({
      fromPosition,
      batchSize: SUBSCRIPTION_BATCH_SIZE,
      readBatch: (from, maxCount) => this.readBatch(from, maxCount, category),
      category,
      changes: this.changes,
      heldBackPollMs: HELD_BACK_POLL_MS,
      idlePollMs: IDLE_POLL_MS,
      signal: options.signal,
    });
  }

  /**
   * A position every event up to which was committed, without a query, when a read of this store
   * (a subscription's, most often, which read a moment ago) has met one at least `atLeast`: what a
   * GET folded from streams read afterwards reflects at least. Undefined otherwise.
   */
  settledPosition(atLeast: number): number | undefined {
    const settled = this.horizonMet - 1;
    return settled >= atLeast && settled > 0 ? settled : undefined;
  }

  async headPosition(): Promise<number> {
    const result = await this.pool.query<{ head: string | null }>(
      'SELECT max(position)::text AS head FROM es_events WHERE position < es_horizon()',
    );
    return Number(result.rows[0]?.head ?? 0);
  }

  async verifyStream(streamId: string): Promise<StreamVerification> {
    validateStreamId(streamId);
    const result = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM es_events WHERE stream_id = $1 ORDER BY revision`,
      [streamId],
    );
    return verifyChain(streamId, result.rows.map(toRecordedEvent));
  }

  async close(): Promise<void> {
    await this.listener.stop();
    this.changes.notify();
    this.logger.debug('postgres event store closed');
  }
}

/** The change es_append announced; none for a payload without one, which then concerns everyone. */
function changeIn(payload: string): Change | undefined {
  try {
    const told = JSON.parse(payload) as Partial<Change>;
    const { lastPosition, categories } = told;
    if (!Number.isSafeInteger(lastPosition) || !Array.isArray(categories)) return undefined;
    if (!categories.every((category) => typeof category === 'string')) return undefined;
    return { lastPosition: lastPosition as number, categories };
  } catch {
    return undefined;
  }
}
