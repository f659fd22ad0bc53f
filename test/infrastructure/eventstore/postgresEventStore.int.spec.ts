import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import type pg from 'pg';
import type { EventToAppend, RecordedEvent } from '../../../src/eventstore/eventStore.js';
import { DuplicateEventId } from '../../../src/eventstore/errors.js';
import { createPool, postgresConnectionConfig } from '../../../src/infrastructure/postgres/database.js';
import {
  appendAfter,
  PostgresEventStore,
} from '../../../src/infrastructure/eventstore/postgresEventStore.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../support/testDatabase.js';
import { collectUntil, freshStream, testEvent, testEvents } from '../../support/events.js';
import { waitFor } from '../../support/waitFor.js';

describe('PostgresEventStore on a real PostgreSQL', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let store: PostgresEventStore;
  const subscriptions: AbortController[] = [];

  function newStore(): PostgresEventStore {
    return new PostgresEventStore({
      pool,
      connection: postgresConnectionConfig(database.connectionString, 'shop-test-listener'),
      logger: silentLogger,
    });
  }

  function subscribe(subscriber: PostgresEventStore, fromPosition: number): AsyncIterable<RecordedEvent> {
    const controller = new AbortController();
    subscriptions.push(controller);
    return subscriber.subscribeToAll({ fromPosition, signal: controller.signal });
  }

  /** Keeps reading a subscription into `received` until its test ends. */
  function drain(subscription: AsyncIterable<RecordedEvent>, received: RecordedEvent[]): void {
    void (async () => {
      for await (const event of subscription) received.push(event);
    })();
  }

  before(async () => {
    database = await createTestDatabase();
    pool = createPool(database.connectionString, silentLogger, 40);
    store = newStore();
  });

  afterEach(() => {
    for (const controller of subscriptions.splice(0)) controller.abort();
  });

  after(async () => {
    await store.close();
    await pool.end();
    await database.drop();
  });

  describe('with 16 concurrent writers', () => {
    const TOTAL_EVENTS = 10_000;
    const committed: string[] = [];

    /** One writer: plain, multi-event and slow-transaction appends, some of them rolled back. */
    async function writer(budget: { left: number }, rolledBack: Set<string>): Promise<void> {
      const sharedStreams = Array.from({ length: 20 }, (_, index) => `shared-${index}`);
      while (budget.left > 0) {
        const roll = randomInt(100);
        const events = testEvents(roll < 25 ? randomInt(2, 11) : 1);
        budget.left -= events.length;
        if (roll >= 85) {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            await appendAfter(client, freshStream(), events, -1, new Date());
            await client.query('SELECT pg_sleep($1)', [randomInt(1, 30) / 1000]);
            const rollback = roll >= 95;
            await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
            for (const { id } of events) {
              if (rollback) rolledBack.add(id);
              else committed.push(id);
            }
          } finally {
            client.release();
          }
        } else {
          const streamId =
            roll < 50 ? (sharedStreams[randomInt(sharedStreams.length)] as string) : freshStream();
          await store.append(streamId, events, 'any');
          committed.push(...events.map((event) => event.id));
        }
      }
    }

    for (const round of [1, 2, 3]) {
      it(`delivers every committed event exactly once, in increasing position order (round ${round})`, async () => {
        const subscriber = newStore();
        const received: RecordedEvent[] = [];
        try {
          drain(subscribe(subscriber, 0), received);
          const rolledBack = new Set<string>();
          const budget = { left: TOTAL_EVENTS };
          await Promise.all(Array.from({ length: 16 }, () => writer(budget, rolledBack)));
          await waitFor(
            () => received.length >= committed.length,
            30_000,
            () => `${received.length} of ${committed.length} delivered`,
          );
          const ids = received.map((event) => event.id);
          expect(new Set(ids).size, 'no event is delivered twice').to.equal(ids.length);
          expect([...ids].sort(), 'every committed event, nothing else').to.deep.equal([...committed].sort());
          expect(ids.filter((id) => rolledBack.has(id))).to.deep.equal([]);
          received.forEach((event, index) => {
            if (index > 0)
              expect(event.position).to.be.greaterThan((received[index - 1] as RecordedEvent).position);
          });
        } finally {
          await subscriber.close();
        }
      });
    }
  });

  describe('while a transaction holds an old transaction id', () => {
    for (const ending of ['COMMIT', 'ROLLBACK'] as const) {
      it(`holds later commits back, then delivers them all once it ends (${ending})`, async () => {
        const from = (await store.headPosition()) + 1;
        const received: RecordedEvent[] = [];
        drain(subscribe(store, from), received);
        const blocker = await pool.connect();
        try {
          await blocker.query('BEGIN');
          const held = [testEvent()];
          await appendAfter(blocker, freshStream(), held, -1, new Date());
          const later = await store.append(freshStream(), testEvents(3), 'no_stream');
          await waitFor(
            () => store.deliveryStall().stalledForMs >= 300,
            5000,
            () => 'no stall reported',
          );
          expect(received, 'nothing passes a transaction still open').to.deep.equal([]);
          expect(await store.readAll({ fromPosition: from, maxCount: 100 })).to.deep.equal([]);
          expect(await store.headPosition()).to.be.lessThan(from);
          await blocker.query(ending);
          const expected = ending === 'COMMIT' ? 4 : 3;
          await waitFor(
            () => received.length === expected,
            5000,
            () => `${received.length} delivered`,
          );
          expect(received.map((event) => event.id)).to.include.members(
            ending === 'COMMIT' ? held.map((event) => event.id) : [],
          );
          expect(received.at(-1)?.position).to.equal(later.position);
          await waitFor(
            () => store.deliveryStall().stalledForMs === 0,
            5000,
            () => 'stall not cleared',
          );
        } finally {
          await blocker.query('ROLLBACK').catch(() => undefined);
          blocker.release();
        }
      });
    }

    it('bounds how long the application’s own connections may sit idle in a transaction', async () => {
      const result = await pool.query<{ idle_in_transaction_session_timeout: string }>(
        'SHOW idle_in_transaction_session_timeout',
      );
      expect(result.rows[0]?.idle_in_transaction_session_timeout).to.equal('1min');
    });
  });

  describe('immutability', () => {
    let streamId: string;
    beforeEach(async () => {
      streamId = freshStream();
      await store.append(streamId, testEvents(3), 'no_stream');
    });

    for (const statement of [
      "UPDATE es_events SET data = '{}' WHERE stream_id = $1",
      'DELETE FROM es_events WHERE stream_id = $1',
      'TRUNCATE es_events',
    ]) {
      it(`refuses ${statement.split(' ')[0]}`, async () => {
        const parameters = statement.includes('$1') ? [streamId] : [];
        const error = await pool.query(statement, parameters).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(error).to.include({ code: 'ES002' });
        expect(await store.readStream(streamId)).to.have.length(3);
      });
    }

    async function tamper(sql: string): Promise<void> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('ALTER TABLE es_events DISABLE TRIGGER es_events_immutable_rows');
        await client.query(sql, [streamId]);
        await client.query('ALTER TABLE es_events ENABLE TRIGGER es_events_immutable_rows');
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    }

    it('reports a stream broken where a row was altered behind the trigger’s back', async () => {
      expect(await store.verifyStream(streamId)).to.include({ verified: true });
      await tamper(`UPDATE es_events SET data = '{"index": 99}' WHERE stream_id = $1 AND revision = 1`);
      expect(await store.verifyStream(streamId)).to.deep.equal({
        streamId,
        verified: false,
        eventCount: 3,
        brokenAtRevision: 1,
      });
    });

    it('reports the next link broken when the altered row’s own hash was recomputed too', async () => {
      await tamper(`UPDATE es_events SET hash = repeat('a', 64) WHERE stream_id = $1 AND revision = 1`);
      const verification = await store.verifyStream(streamId);
      expect(verification).to.include({ verified: false, brokenAtRevision: 1 });
      await tamper(
        `UPDATE es_events SET previous_hash = repeat('a', 64) WHERE stream_id = $1 AND revision = 2`,
      );
      expect(await store.verifyStream(streamId)).to.include({ verified: false, brokenAtRevision: 1 });
    });
  });

  describe('event ids', () => {
    it('refuses an event id already stored in another stream', async () => {
      const event = testEvent();
      await store.append(freshStream(), [event], 'no_stream');
      const other = freshStream();
      const error = await store.append(other, [event], 'any').then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).to.be.instanceOf(DuplicateEventId);
      expect(await store.readStream(other)).to.deep.equal([]);
    });
  });

  describe('positions', () => {
    it('keeps increasing after events were restored into a cluster with lower transaction ids', async () => {
      const future = await pool.query<{ position: string }>(
        `SELECT (((pg_current_xact_id()::text::bigint + 1000000) << 16))::text AS position`,
      );
      const restored = Number(future.rows[0]?.position);
      const restoredEvent: EventToAppend = testEvent();
      await pool.query(
        `INSERT INTO es_events (position, event_id, stream_id, category, revision, type, data, metadata,
                                recorded_at, previous_hash, hash)
         VALUES ($1, $2, $3, 'restored', 0, $4, '{}', $5, now(), repeat('0', 64), repeat('0', 64))`,
        [restored, restoredEvent.id, freshStream('restored'), restoredEvent.type, restoredEvent.metadata],
      );
      await pool.query('SELECT es_ensure_positions_advance()');
      const appended = await store.append(freshStream(), [testEvent()], 'no_stream');
      expect(appended.position).to.be.greaterThan(restored);
    });

    it('orders positions as numbers when they grow by a digit', async () => {
      const before = await store.append(freshStream(), [testEvent()], 'no_stream');
      await pool.query('UPDATE es_position_offset SET xid_offset = xid_offset + ($1::bigint >> 16)', [
        before.position * 10,
      ]);
      const after = await store.append(freshStream(), [testEvent()], 'no_stream');
      expect(String(after.position).length).to.be.greaterThan(String(before.position).length);
      const read = await store.readAll({ fromPosition: before.position, maxCount: 10 });
      expect(read.map((event) => event.position)).to.deep.equal([before.position, after.position]);
    });

    it('announces where an append’s events end and their category, for subscribers to tell if it concerns them', async () => {
      const listener = await pool.connect();
      try {
        const heard: string[] = [];
        listener.on('notification', (message) => heard.push(message.payload ?? ''));
        await listener.query('LISTEN es_events');
        const streamId = freshStream();
        const written = await store.append(streamId, testEvents(2), 'no_stream');
        await waitFor(
          async () => heard.length > 0,
          5_000,
          () => 'no notification came',
        );
        expect(heard.map((payload) => JSON.parse(payload) as unknown)).to.deep.equal([
          { lastPosition: written.position, categories: [streamId.split('-')[0]] },
        ]);
      } finally {
        await listener.query('UNLISTEN es_events');
        listener.release();
      }
    });

    it('knows, without a query, a position up to which everything was committed, once a read met it', async () => {
      const reader = newStore();
      try {
        expect(reader.settledPosition(0), 'before any read').to.equal(undefined);
        const written = await store.append(freshStream(), [testEvent()], 'no_stream');
        const read = await reader.readAll({ fromPosition: written.position, maxCount: 10 });
        expect(read.map((event) => event.position)).to.deep.equal([written.position]);
        expect(reader.settledPosition(written.position)).to.be.at.least(written.position);
        expect(reader.settledPosition(written.position * 2), 'beyond what a read met').to.equal(undefined);
      } finally {
        await reader.close();
      }
    });

    it('delivers events appended by another process, announced by notification', async () => {
      const otherProcess = newStore();
      try {
        const from = (await store.headPosition()) + 1;
        const subscription = subscribe(otherProcess, from);
        const firstRead = collectUntil(subscription, (events) => events.length === 1);
        const written = await store.append(freshStream(), [testEvent()], 'no_stream');
        const [delivered] = await firstRead;
        expect(delivered?.position).to.equal(written.position);
      } finally {
        await otherProcess.close();
      }
    });

    it('listens again on a new connection once its listening one ends, and delivers what comes after', async () => {
      const relistening = new PostgresEventStore({
        pool,
        connection: postgresConnectionConfig(database.connectionString, 'shop-test-relistening'),
        logger: silentLogger,
      });
      const listening = async (): Promise<number[]> =>
        (
          await pool.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE application_name = 'shop-test-relistening' AND query LIKE 'LISTEN%'`,
          )
        ).rows.map((row) => row.pid);
      try {
        const received: RecordedEvent[] = [];
        drain(subscribe(relistening, (await store.headPosition()) + 1), received);
        await waitFor(
          async () => (await listening()).length === 1,
          10_000,
          () => 'it never listened',
        );
        const [first] = await listening();
        await pool.query('SELECT pg_terminate_backend($1)', [first]);
        await waitFor(
          async () => (await listening()).some((pid) => pid !== first),
          10_000,
          () => 'it never listened again',
        );
        const written = await store.append(freshStream(), [testEvent()], 'no_stream');
        await waitFor(
          async () => received.some((event) => event.position === written.position),
          10_000,
          () => 'nothing delivered after listening again',
        );
      } finally {
        await relistening.close();
      }
    });
  });
});
