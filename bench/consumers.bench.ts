import { randomUUID } from 'node:crypto';
import type { EventToAppend } from '../src/eventstore/eventStore.js';
import { isRefusal } from '../src/commands/refusals.js';
import { PostgresEventStore } from '../src/infrastructure/eventstore/postgresEventStore.js';
import { EventCodec } from '../src/infrastructure/personalData/eventCodec.js';
import { PersonalDataVault } from '../src/infrastructure/personalData/personalDataVault.js';
import { createPool, postgresConnectionConfig } from '../src/infrastructure/postgres/database.js';
import { PostgresConsumerStore } from '../src/infrastructure/postgres/postgresConsumerStore.js';
import {
  type EventSource,
  eventSourceOf,
  SubscriptionRunner,
} from '../src/projections/subscriptionRunner.js';
import { benchDatabase, median, printTable, quietLogger, rate, readAllRate } from './database.js';

const EVENTS = 200_000;
const EVENTS_PER_APPEND = 100;
const READ_BATCH = 1000;
const ROUNDS = 3;

function restocked(productId: string, index: number): EventToAppend {
  return {
    id: randomUUID(),
    type: 'StockRestocked',
    data: { productId, quantity: (index % 50) + 1, at: '2026-03-01T10:00:00.000Z' },
    metadata: {
      correlationId: randomUUID(),
      causationId: randomUUID(),
      actor: 'system:bench',
      schemaVersion: 1,
    },
  };
}

/** Events a second through a consumer that does nothing: what the runner itself costs a rebuild. */
async function runnerRate(
  consumers: PostgresConsumerStore,
  source: EventSource,
  total: number,
): Promise<number> {
  let handled = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const runner = new SubscriptionRunner(
    {
      name: `bench-${randomUUID()}`,
      handle: async (events) => {
        handled += events.length;
        if (handled >= total) done();
      },
    },
    consumers,
    source,
    { isDependencyDown: () => false, isPermanent: isRefusal },
    quietLogger,
  );
  const started = process.hrtime.bigint();
  runner.start();
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await runner.stop();
  return total / seconds;
}

const round = (value: number): number => Math.round(value);
const ratio = (value: number): number => Math.round(value * 100) / 100;

export async function benchConsumers(): Promise<void> {
  const database = await benchDatabase();
  const pool = createPool(database.connectionString, quietLogger, 20);
  const store = new PostgresEventStore({
    pool,
    connection: postgresConnectionConfig(database.connectionString, 'shop-bench-listener'),
    logger: quietLogger,
  });
  const codec = new EventCodec(store, new PersonalDataVault(pool));
  const consumers = new PostgresConsumerStore({
    pool,
    lockConnection: postgresConnectionConfig(database.connectionString, 'shop-bench-consumer'),
    logger: quietLogger,
  });
  const source = eventSourceOf(store, (events) => codec.revealAll(events));
  try {
    await rate(16, EVENTS / EVENTS_PER_APPEND, async () => {
      const productId = randomUUID();
      await store.append(
        `inventory-${productId}`,
        Array.from({ length: EVENTS_PER_APPEND }, (_, index) => restocked(productId, index)),
        'no_stream',
      );
    });
    await readAllRate(store, READ_BATCH);
    const rounds = { readAll: [] as number[], runner: [] as number[] };
    for (let pass = 0; pass < ROUNDS; pass += 1) {
      rounds.readAll.push(await readAllRate(store, READ_BATCH));
      rounds.runner.push(await runnerRate(consumers, source, EVENTS));
    }
    const [readAll, runner] = [median(rounds.readAll), median(rounds.runner)];
    process.stdout.write(`consumers bench on ${database.server}, ${process.version}\n`);
    printTable(
      `${EVENTS} events from position 0: the subscription runner (no-op handler; checkpoint per batch, in its transaction; its own page size) against store.readAll, ${READ_BATCH} a page; median of ${ROUNDS} interleaved rounds`,
      [
        ['reader', 'events/s', 'x readAll'],
        ['store.readAll', round(readAll), 1],
        ['subscription runner', round(runner), ratio(runner / readAll)],
      ],
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'consumers',
        figures: {
          readAllEventsPerSecond: round(readAll),
          runnerEventsPerSecond: round(runner),
          events: EVENTS,
        },
        ratios: { runnerVsReadAll: ratio(runner / readAll) },
      })}\n`,
    );
  } finally {
    await store.close();
    await pool.end();
    await database.drop();
  }
}
