import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Consumer } from '../../src/projections/consumer.js';
import {
  type ErrorKinds,
  type EventSource,
  eventSourceOf,
  type RunnerSettings,
  SubscriptionRunner,
} from '../../src/projections/subscriptionRunner.js';
import { isRefusal } from '../../src/commands/refusals.js';
import { decodeStoredEvent } from '../../src/commands/storedEvents.js';
import { categoryOfEventType, type ShopEvent } from '../../src/domain/shopEvents.js';
import { PostgresEventStore } from '../../src/infrastructure/eventstore/postgresEventStore.js';
import {
  createPool,
  postgresConnectionConfig,
  sqlQueryOn,
} from '../../src/infrastructure/postgres/database.js';
import { PostgresConsumerStore } from '../../src/infrastructure/postgres/postgresConsumerStore.js';
import { silentLogger } from './testDatabase.js';

/** One process's view of a shop database: its own pool, store, consumer store and runners. */
export interface RunnerProcess {
  store: PostgresEventStore;
  consumers: PostgresConsumerStore;
  source: EventSource;
  pool: pg.Pool;
  runner(consumer: Consumer, settings?: Partial<RunnerSettings>): SubscriptionRunner;
  close(): Promise<void>;
}

/** An error the test marks as a database that does not answer. */
export class DatabaseGone extends Error {}

export const testErrorKinds: ErrorKinds = {
  isDependencyDown: (error) => error instanceof DatabaseGone,
  isPermanent: isRefusal,
};

export function openRunnerProcess(
  connectionString: string,
  instance = randomUUID().slice(0, 8),
): RunnerProcess {
  const pool = createPool(connectionString, silentLogger, 5);
  const store = new PostgresEventStore({
    pool,
    connection: postgresConnectionConfig(connectionString, `test-listener ${instance}`),
    logger: silentLogger,
  });
  const consumers = new PostgresConsumerStore({
    pool,
    lockConnection: postgresConnectionConfig(connectionString, `test-consumer ${instance}`),
    logger: silentLogger,
    standbyPollMs: 25,
  });
  const source = eventSourceOf(store, async (events) => [...events]);
  const runners: SubscriptionRunner[] = [];
  return {
    store,
    consumers,
    source,
    pool,
    runner: (consumer, settings = {}) => {
      const runner = new SubscriptionRunner(consumer, consumers, source, testErrorKinds, silentLogger, {
        firstRetryDelayMs: 5,
        restartDelayMs: 60_000,
        ...settings,
      });
      runners.push(runner);
      return runner;
    },
    close: async () => {
      for (const runner of runners) await runner.stop();
      await store.close();
      await pool.end();
    },
  };
}

/**
 * Hands every event in the store to `consumer` again, in one transaction of its own, as a crash
 * between its effects and its checkpoint would: what it applied before must change nothing.
 */
export async function handOverEverythingAgain(process: RunnerProcess, consumer: Consumer): Promise<void> {
  const everything = (await process.store.readAll({ fromPosition: 0, maxCount: 10_000 })).map(
    decodeStoredEvent,
  );
  const client = await process.pool.connect();
  try {
    await client.query('BEGIN');
    await consumer.handle(everything, { query: sqlQueryOn(client), afterCommit: () => undefined });
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

/**
 * Appends shop events as commands would have, each to the stream its type belongs in, `<category>-<id>`,
 * one append each; answers the position of the last.
 */
export async function appendShopEvents(
  process: RunnerProcess,
  id: string,
  ...events: ShopEvent[]
): Promise<number> {
  let last = 0;
  for (const event of events) {
    const appended = await process.store.append(
      `${categoryOfEventType(event.type)}-${id}`,
      [
        {
          id: randomUUID(),
          type: event.type,
          data: event.data as never,
          metadata: { actor: 'system:test', correlationId: id, causationId: id, schemaVersion: 1 },
        },
      ],
      'any',
    );
    last = appended.position;
  }
  return last;
}
