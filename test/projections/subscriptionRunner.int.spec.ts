import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ValidationError } from '../../src/domain/shared/errors.js';
import type { EventToAppend } from '../../src/eventstore/eventStore.js';
import type { Consumer } from '../../src/projections/consumer.js';
import type { ConsumerStore } from '../../src/projections/consumerStore.js';
import type { RecordedEvent } from '../../src/eventstore/eventStore.js';
import { retryParked, SubscriptionRunner } from '../../src/projections/subscriptionRunner.js';
import { CheckpointSignals } from '../../src/infrastructure/postgres/checkpointSignals.js';
import { postgresConnectionConfig } from '../../src/infrastructure/postgres/database.js';
import { postgresNotifications } from '../../src/infrastructure/postgres/postgresNotifications.js';
import {
  DatabaseGone,
  openRunnerProcess,
  type RunnerProcess,
  testErrorKinds,
} from '../support/runnerFixture.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

/** A restock; a quantity of 13 is what the test consumers below cannot handle. */
function restocked(productId: string, quantity: number): EventToAppend {
  return {
    id: randomUUID(),
    type: 'StockRestocked',
    data: { productId, quantity, at: '2026-03-01T10:00:00.000Z' },
    metadata: {
      actor: 'system:test',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      schemaVersion: 1,
    },
  };
}

interface Effect {
  position: string;
  stream_id: string;
  quantity: number;
  handled_by: string;
}

/**
 * A consumer that records every event it handles in a table of its own, in its transaction, and
 * asks `fault` first whether to fail on an event.
 */
function recordingConsumer(
  table: string,
  handledBy: string,
  fault: (quantity: number) => Error | undefined = () => undefined,
): Consumer {
  return {
    name: table,
    category: 'inventory',
    handle: async (events, tx) => {
      for (const stored of events) {
        if (stored.event.type !== 'StockRestocked') continue;
        await tx.query(
          `INSERT INTO ${table} (position, stream_id, quantity, handled_by) VALUES ($1, $2, $3, $4)`,
          [stored.position, stored.streamId, stored.event.data.quantity, handledBy],
        );
        const error = fault(stored.event.data.quantity);
        if (error) throw error;
      }
    },
  };
}

describe('The subscription runner', () => {
  let database: TestDatabase;
  let shop: RunnerProcess;

  before(async () => {
    database = await createTestDatabase();
    shop = openRunnerProcess(database.connectionString);
  });

  after(async () => {
    await shop.close();
    await database.drop();
  });

  async function newTable(): Promise<string> {
    const table = `effects_${randomUUID().replaceAll('-', '')}`;
    await shop.pool.query(
      `CREATE TABLE ${table} (position bigint PRIMARY KEY, stream_id text NOT NULL, quantity int NOT NULL, handled_by text NOT NULL)`,
    );
    return table;
  }

  const effects = async (table: string): Promise<Effect[]> =>
    (await shop.pool.query<Effect>(`SELECT * FROM ${table} ORDER BY position`)).rows;

  /** Appends `count` restocks to each of `streams` products, interleaved; answers the last position. */
  async function appendRestocks(products: readonly string[], quantities: readonly number[]): Promise<number> {
    let last = 0;
    for (const quantity of quantities) {
      for (const productId of products) {
        const streamId = `inventory-${productId}`;
        last = (await shop.store.append(streamId, [restocked(productId, quantity)], 'any')).position;
      }
    }
    return last;
  }

  const checkpointReaches = (consumer: string, position: number) => async () =>
    (await shop.consumers.checkpoint(consumer)) >= position;

  describe('when its handler fails midway through a batch', () => {
    it('leaves the tables and the checkpoint as before the batch, and a restart ends as an uninterrupted run', async () => {
      const products = [randomUUID(), randomUUID(), randomUUID()];
      const last = await appendRestocks(products, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const interrupted = await newTable();
      let inserted = 0;
      // The twentieth insert of the catch-up batch loses the database: nothing is at fault, so the
      // runner rolls back and stops following instead of parking anything.
      const failing = shop.runner(
        recordingConsumer(interrupted, 'first', () =>
          ++inserted === 20 ? new DatabaseGone('gone') : undefined,
        ),
      );
      failing.start();
      await waitFor(
        async () => (await failing.health()).status === 'down',
        10_000,
        () => 'the runner still runs',
      );
      expect(inserted, 'the batch got as far as the fault').to.equal(20);
      expect(await effects(interrupted)).to.deep.equal([]);
      expect(await shop.consumers.checkpoint(interrupted)).to.equal(-1);
      await failing.stop();

      const restarted = shop.runner(recordingConsumer(interrupted, 'first'));
      restarted.start();
      const clean = await newTable();
      const uninterrupted = shop.runner(recordingConsumer(clean, 'first'));
      uninterrupted.start();
      await waitFor(checkpointReaches(interrupted, last), 10_000, () => 'the restarted runner caught up');
      await waitFor(checkpointReaches(clean, last), 10_000, () => 'the clean runner caught up');
      const mine = (rows: Effect[]) =>
        rows.filter((row) => products.some((id) => row.stream_id.endsWith(id)));
      expect(mine(await effects(interrupted))).to.have.length(30);
      expect(await effects(interrupted)).to.deep.equal(await effects(clean));
    });
  });

  describe('with two instances on one database', () => {
    it('lets one handle, hands over when its connection ends, and handles no event twice', async () => {
      const table = await newTable();
      const other = openRunnerProcess(database.connectionString, 'second');
      try {
        const first = shop.runner(recordingConsumer(table, 'first'), { restartDelayMs: 2_000 });
        const second = other.runner(recordingConsumer(table, 'second'), { restartDelayMs: 2_000 });
        first.start();
        await waitFor(
          async () => (await shop.consumers.status(table)).activeInstance !== undefined,
          10_000,
          () => 'no holder',
        );
        second.start();
        const products = [randomUUID(), randomUUID()];
        const before = await appendRestocks(products, [1, 2, 3, 4, 5]);
        await waitFor(checkpointReaches(table, before), 10_000, () => 'not handled');
        expect(new Set((await effects(table)).map((row) => row.handled_by))).to.deep.equal(
          new Set(['first']),
        );

        const { activeInstance } = await shop.consumers.status(table);
        expect(activeInstance).to.match(/^test-consumer /);
        await shop.pool.query(
          `SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND a.application_name NOT LIKE 'test-consumer second%'
              AND a.application_name LIKE 'test-consumer %' AND a.datname = current_database()`,
        );
        await waitFor(
          async () =>
            (await shop.consumers.status(table)).activeInstance?.startsWith('test-consumer second') ?? false,
          10_000,
          () => 'the second instance did not take over',
        );
        const after = await appendRestocks(products, [6, 7, 8, 9, 10]);
        await waitFor(checkpointReaches(table, after), 10_000, () => 'not handled after the hand-over');
        const rows = (await effects(table)).filter((row) =>
          products.some((id) => row.stream_id.endsWith(id)),
        );
        expect(rows, 'each event once').to.have.length(20);
        const handover = rows.filter((row) => Number(row.position) > before);
        expect(handover.map((row) => row.handled_by)).to.deep.equal(Array(10).fill('second'));
      } finally {
        await other.close();
      }
    });
  });

  describe('with an event its consumer refuses', () => {
    it('parks it and the rest of its stream, lets other streams flow, and retry-parked ends as a clean run', async () => {
      const table = await newTable();
      const poisoned = randomUUID();
      const healthy = randomUUID();
      let fixed = false;
      const consumer = recordingConsumer(table, 'first', (quantity) =>
        quantity === 13 && !fixed ? new ValidationError('quantity', 'thirteen is refused') : undefined,
      );
      const runner = shop.runner(consumer);
      runner.start();
      for (const [productId, quantity] of [
        [poisoned, 1],
        [healthy, 1],
        [poisoned, 13],
        [healthy, 2],
        [poisoned, 2],
      ] as const) {
        await appendRestocks([productId], [quantity]);
      }
      const last = await appendRestocks([healthy], [3]);
      await waitFor(checkpointReaches(table, last), 10_000, () => 'not caught up');

      const mine = async () =>
        (await effects(table))
          .filter((row) => row.stream_id.endsWith(poisoned) || row.stream_id.endsWith(healthy))
          .map((row) => [row.stream_id === `inventory-${poisoned}` ? 'poisoned' : 'healthy', row.quantity]);
      expect(await mine()).to.deep.equal([
        ['poisoned', 1],
        ['healthy', 1],
        ['healthy', 2],
        ['healthy', 3],
      ]);
      const parked = await shop.consumers.parked(table);
      expect(parked.map((entry) => [entry.streamId, entry.attempts])).to.deep.equal([
        [`inventory-${poisoned}`, 1],
        [`inventory-${poisoned}`, 0],
      ]);
      expect(parked[0]?.error).to.include('thirteen is refused');
      expect(await runner.health()).to.deep.equal({ status: 'degraded', detail: '2 events parked' });

      const stillBroken = await retryParked(consumer, shop.consumers, shop.source);
      expect(stillBroken.retried).to.equal(0);
      expect(stillBroken.failed.map((failure) => failure.streamId)).to.deep.equal([`inventory-${poisoned}`]);
      expect(await shop.consumers.parkedCount(table)).to.equal(2);

      fixed = true;
      expect(await retryParked(consumer, shop.consumers, shop.source)).to.deep.equal({
        retried: 2,
        failed: [],
      });
      expect(await shop.consumers.parkedCount(table)).to.equal(0);
      const clean = await newTable();
      const cleanRunner = shop.runner(recordingConsumer(clean, 'first'));
      cleanRunner.start();
      await waitFor(checkpointReaches(clean, last), 10_000, () => 'the clean run did not catch up');
      expect(await effects(table)).to.deep.equal(await effects(clean));
      expect(await runner.health()).to.deep.equal({ status: 'up' });
    });
  });

  /** The shop's source, except that opening the personal data of `damaged`'s events fails. */
  const openingFailsFor = (damaged: string) => ({
    ...shop.source,
    revealAll: async (events: readonly RecordedEvent[]) => {
      if (events.some((event) => event.streamId.endsWith(damaged)))
        throw new Error('unsupported state or unable to authenticate data');
      return shop.source.revealAll(events);
    },
  });

  describe('with an event whose personal data cannot be opened', () => {
    it('parks it after its attempts, like any event its consumer fails on, and the other streams flow', async () => {
      const table = await newTable();
      const damaged = randomUUID();
      const healthy = randomUUID();
      const source = openingFailsFor(damaged);
      const runner = new SubscriptionRunner(
        recordingConsumer(table, 'first'),
        shop.consumers,
        source,
        testErrorKinds,
        silentLogger,
        {
          attempts: 2,
          firstRetryDelayMs: 5,
        },
      );
      try {
        runner.start();
        await appendRestocks([healthy, damaged], [40]);
        const last = await appendRestocks([healthy], [41]);
        await waitFor(checkpointReaches(table, last), 10_000, () => 'not caught up');
        const rows = (await effects(table)).filter(
          (row) => row.stream_id.endsWith(healthy) || row.stream_id.endsWith(damaged),
        );
        expect(rows.map((row) => [row.stream_id.endsWith(healthy), row.quantity])).to.deep.equal([
          [true, 40],
          [true, 41],
        ]);
        const parked = await shop.consumers.parked(table);
        expect(parked.map((entry) => [entry.streamId, entry.attempts])).to.deep.equal([
          [`inventory-${damaged}`, 2],
        ]);
      } finally {
        await runner.stop();
      }
    });
  });

  describe('with an event whose personal data cannot be opened, that its consumer does not want', () => {
    it('never opens it: nothing is parked, and the events beside it in its batch are handled', async () => {
      const table = await newTable();
      const damaged = randomUUID();
      const healthy = randomUUID();
      const source = openingFailsFor(damaged);
      const consumer = recordingConsumer(table, 'first');
      const runner = new SubscriptionRunner(
        { ...consumer, wants: (event) => !event.streamId.endsWith(damaged) },
        shop.consumers,
        source,
        testErrorKinds,
        silentLogger,
        { attempts: 2, firstRetryDelayMs: 5 },
      );
      // Appended before the runner starts, so that its first batch holds both streams' events.
      const last = await appendRestocks([healthy, damaged, healthy], [50]);
      try {
        runner.start();
        await waitFor(checkpointReaches(table, last), 10_000, () => 'not caught up');
        const rows = (await effects(table)).filter(
          (row) => row.stream_id.endsWith(healthy) || row.stream_id.endsWith(damaged),
        );
        expect(rows.map((row) => [row.stream_id.endsWith(healthy), row.quantity])).to.deep.equal([
          [true, 50],
          [true, 50],
        ]);
        expect(await shop.consumers.parked(table)).to.deep.equal([]);
      } finally {
        await runner.stop();
      }
    });
  });

  describe('with an error that may pass', () => {
    it('tries the event again and handles it once it passes, parking nothing', async () => {
      const table = await newTable();
      let failures = 0;
      const runner = shop.runner(
        recordingConsumer(table, 'first', (quantity) =>
          quantity === 21 && failures++ < 2 ? new Error('a passing hiccup') : undefined,
        ),
      );
      runner.start();
      const productId = randomUUID();
      const last = await appendRestocks([productId], [20, 21, 22]);
      await waitFor(checkpointReaches(table, last), 10_000, () => 'not caught up');
      expect(failures).to.equal(3);
      const rows = (await effects(table)).filter((row) => row.stream_id.endsWith(productId));
      expect(rows.map((row) => row.quantity)).to.deep.equal([20, 21, 22]);
      expect(await shop.consumers.parkedCount(table)).to.equal(0);
    });

    it('parks the event after its last attempt, with the attempts counted', async () => {
      const table = await newTable();
      const runner = shop.runner(
        recordingConsumer(table, 'first', (quantity) =>
          quantity === 31 ? new Error('never passes') : undefined,
        ),
        { attempts: 3 },
      );
      runner.start();
      const productId = randomUUID();
      const last = await appendRestocks([productId], [30, 31]);
      await waitFor(checkpointReaches(table, last), 10_000, () => 'not caught up');
      const parked = await shop.consumers.parked(table);
      expect(parked.map((entry) => [entry.streamId, entry.attempts, entry.error])).to.deep.equal([
        [`inventory-${productId}`, 3, 'Error: never passes'],
      ]);
    });
  });

  describe('with events its consumer does not want', () => {
    /** The consumer store, counting the transactions that move the checkpoint. */
    const countingAdvances = (): { store: ConsumerStore; advances: () => number } => {
      let advances = 0;
      const store = Object.create(shop.consumers) as ConsumerStore;
      store.advance = (consumer, from, to, work) => {
        advances += 1;
        return shop.consumers.advance(consumer, from, to, work);
      };
      return { store, advances: () => advances };
    };

    const wantingOnly = (table: string, productId: string): Consumer => ({
      ...recordingConsumer(table, 'first'),
      wants: (event) => event.streamId === `inventory-${productId}`,
    });

    it('passes them over without a transaction, moving the checkpoint with the next event it wants', async () => {
      const table = await newTable();
      const [wanted, other] = [randomUUID(), randomUUID()];
      const counting = countingAdvances();
      const runner = new SubscriptionRunner(
        wantingOnly(table, wanted),
        counting.store,
        shop.source,
        testErrorKinds,
        silentLogger,
        { passedOverCheckpointMs: 600_000 },
      );
      runner.start();
      try {
        const head = await shop.store.headPosition();
        await waitFor(checkpointReaches(table, head), 10_000, () => 'not caught up');
        const advancesCaughtUp = counting.advances();
        await appendRestocks([other], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        const last = await appendRestocks([wanted], [11]);
        await waitFor(checkpointReaches(table, last), 10_000, () => 'the wanted event was not handled');
        expect(counting.advances() - advancesCaughtUp, 'transactions after catching up').to.equal(1);
        const rows = (await effects(table)).filter((row) => row.position > String(head));
        expect(rows.map((row) => [row.stream_id, row.quantity])).to.deep.equal([[`inventory-${wanted}`, 11]]);
      } finally {
        await runner.stop();
      }
    });

    it('moves the checkpoint past them on its own soon after, when nothing it wants follows', async () => {
      const table = await newTable();
      const runner = shop.runner(wantingOnly(table, randomUUID()), { passedOverCheckpointMs: 20 });
      runner.start();
      const other = randomUUID();
      const last = await appendRestocks([other], [1, 2, 3]);
      await waitFor(checkpointReaches(table, last), 10_000, () => 'the checkpoint stayed behind');
      expect((await effects(table)).filter((row) => row.stream_id.endsWith(other))).to.deep.equal([]);
    });
  });

  describe('with a handler that asks to be told of its commit', () => {
    it('tells it after each transaction that committed, and never for one rolled back', async () => {
      const table = await newTable();
      const told: number[] = [];
      const recording = recordingConsumer(table, 'first', (quantity) =>
        quantity === 13 ? new ValidationError('quantity', 'thirteen is refused') : undefined,
      );
      const runner = shop.runner({
        ...recording,
        handle: async (events, tx) => {
          tx.afterCommit(() => told.push(...events.map((stored) => stored.position)));
          await recording.handle(events, tx);
        },
      });
      runner.start();
      const productId = randomUUID();
      const last = await appendRestocks([productId], [12, 13, 14]);
      await waitFor(checkpointReaches(table, last), 10_000, () => 'not caught up');
      const handled = (await effects(table)).map((row) => Number(row.position));
      const mine = await shop.store.readStream(`inventory-${productId}`);
      expect(told.filter((position) => mine.some((event) => event.position === position))).to.deep.equal([
        mine[0]?.position,
      ]);
      expect(told.every((position) => handled.includes(position))).to.equal(true);
    });
  });

  describe('as its checkpoint moves', () => {
    const checkpointSignals = (): CheckpointSignals =>
      new CheckpointSignals(
        postgresNotifications(
          postgresConnectionConfig(database.connectionString, 'test-checkpoints'),
          silentLogger,
        ),
        silentLogger,
      );

    it('announces it, so that whoever waits for a position is woken, in any process', async () => {
      const signals = checkpointSignals();
      signals.start();
      try {
        const table = await newTable();
        const runner = shop.runner(recordingConsumer(table, 'first'));
        const productId = randomUUID();
        // Listening takes a moment: what is announced before is not heard, so wait for a first one.
        runner.start();
        await waitFor(
          async () => {
            const first = await appendRestocks([productId], [1]);
            return signals.reached(table, first, 500);
          },
          10_000,
          () => 'no announcement heard',
        );
        const last = await appendRestocks([productId], [2]);
        expect(await signals.reached(table, last, 10_000)).to.equal(true);
        expect(await shop.consumers.checkpoint(table)).to.be.at.least(last);
        expect(await signals.reached(table, last + 1_000_000_000, 50), 'a position not reached').to.equal(
          false,
        );

        // What was announced answers without a read, unless more is asked for than was announced.
        let reads = 0;
        const read = async (): Promise<number> => {
          reads += 1;
          return shop.consumers.checkpoint(table);
        };
        expect(await signals.position(table, read)).to.be.at.least(last);
        expect(reads).to.equal(0);
        expect(await signals.position(table, read, last + 1_000_000_000)).to.be.at.least(last);
        expect(reads).to.equal(1);
      } finally {
        await signals.stop();
      }
    });

    it('stamps each announcement anew, at the same position too, and gives no stamp while not hearing', async () => {
      const signals = checkpointSignals();
      const consumer = `stamped-${randomUUID()}`;
      const announce = async (position: number): Promise<void> => {
        await shop.pool.query(`SELECT pg_notify('consumer_checkpoints', $1)`, [
          JSON.stringify({ consumer, position }),
        ]);
      };
      expect(signals.stamp(consumer), 'before it listens').to.equal(undefined);
      signals.start();
      try {
        await waitFor(
          async () => {
            await announce(5);
            return signals.reached(consumer, 5, 200);
          },
          10_000,
          () => 'no announcement heard',
        );
        const first = signals.stamp(consumer);
        expect(first).to.be.a('number');

        // A rebuild's swap announces the checkpoint where it is: the tables changed all the same.
        await announce(5);
        await waitFor(
          async () => signals.stamp(consumer) !== first,
          10_000,
          () => 'the stamp stayed',
        );
        const second = signals.stamp(consumer);
        await announce(6);
        expect(await signals.reached(consumer, 6, 10_000)).to.equal(true);
        expect(signals.stamp(consumer)).to.not.be.oneOf([first, second]);
      } finally {
        await signals.stop();
      }
      expect(signals.stamp(consumer), 'once it stopped hearing').to.equal(undefined);
    });
  });
});
