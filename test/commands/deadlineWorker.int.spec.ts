import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { saveCheckouts } from '../../src/commands/checkout/checkoutTables.js';
import { DeadlineWorker } from '../../src/commands/checkout/deadlineWorker.js';
import type { CommandEnvironment } from '../../src/commands/commandEnvironment.js';
import { PaymentSimulator } from '../../src/infrastructure/payments/paymentSimulator.js';
import { postgresConnectionConfig, sqlQueryOn } from '../../src/infrastructure/postgres/database.js';
import { postgresNotifications } from '../../src/infrastructure/postgres/postgresNotifications.js';
import { PostgresConsumerStore } from '../../src/infrastructure/postgres/postgresConsumerStore.js';
import { openPostgresCommands, placeOrderOf, type PostgresCommands } from '../support/postgresCommands.js';
import { silentLogger } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

describe('The checkout deadline worker', () => {
  let postgres: PostgresCommands;
  let workers: DeadlineWorker[];

  beforeEach(async () => {
    postgres = await openPostgresCommands();
    workers = [];
  });

  afterEach(async () => {
    for (const worker of workers) await worker.stop();
    await postgres.close();
  });

  const query = () => sqlQueryOn(postgres.pool);

  function startedWorker(env: CommandEnvironment = postgres.env): DeadlineWorker {
    const worker = new DeadlineWorker(
      { env, provider: new PaymentSimulator(postgres.pool, 0) },
      query(),
      new PostgresConsumerStore({
        pool: postgres.pool,
        lockConnection: postgresConnectionConfig(postgres.connectionString, 'test-deadline-lock'),
        logger: silentLogger,
        standbyPollMs: 25,
      }),
      postgresNotifications(
        postgresConnectionConfig(postgres.connectionString, 'test-deadlines'),
        silentLogger,
      ),
      silentLogger,
      undefined,
      { attempts: 3, firstRetryDelayMs: 10, restartDelayMs: 10 },
    );
    workers.push(worker);
    worker.start();
    return worker;
  }

  /** A pending order whose expiry has passed. */
  const expiredOrder = (): Promise<string> =>
    placeOrderOf(postgres.env, {
      lines: [{ productId: randomUUID(), quantity: 1 }],
      token: 'tok_visa',
      placedAt: new Date(Date.now() - 60_000),
      timeoutMs: 1_000,
    });

  const recordExpiry = (orderId: string) =>
    saveCheckouts(query(), new Map(), [
      {
        orderId,
        correlationId: randomUUID(),
        schedule: { kind: 'expire-order', attempt: 1, dueAt: new Date(Date.now() - 1_000).toISOString() },
      },
    ]);

  const cancellations = async (orderId: string): Promise<string[]> =>
    (
      await postgres.pool.query<{ reason: string }>(
        `SELECT data->>'reason' AS reason FROM es_events WHERE stream_id = $1 AND type = 'OrderCancelled'`,
        [`order-${orderId}`],
      )
    ).rows.map((row) => row.reason);

  const deadlineRows = async () =>
    (
      await postgres.pool.query<{
        order_id: string;
        failures: number;
        parked: boolean;
        last_error: string | null;
      }>('SELECT order_id, failures, parked_at IS NOT NULL AS parked, last_error FROM checkout_deadlines')
    ).rows;

  it('fires a deadline recorded while no worker ran, once it starts', async () => {
    const orderId = await expiredOrder();
    await recordExpiry(orderId);

    startedWorker();

    await waitFor(
      async () => (await deadlineRows()).length === 0,
      10_000,
      () => 'the deadline is fired',
    );
    expect(await cancellations(orderId)).to.deep.equal(['expired']);
  });

  it('takes effect once when the same deadline is fired again', async () => {
    const orderId = await expiredOrder();
    startedWorker();
    for (let round = 0; round < 2; round += 1) {
      await recordExpiry(orderId);
      await waitFor(
        async () => (await deadlineRows()).length === 0,
        10_000,
        () => `round ${round} fired`,
      );
    }
    expect(await cancellations(orderId)).to.deep.equal(['expired']);
  });

  it('parks a deadline that keeps failing, and fires the others meanwhile', async () => {
    const failing = await expiredOrder();
    const others = [await expiredOrder(), await expiredOrder()];
    const { streams } = postgres.env;
    const worker = startedWorker({
      ...postgres.env,
      streams: {
        ...streams,
        read: (streamId) =>
          streamId === `order-${failing}`
            ? Promise.reject(new Error('this stream cannot be read'))
            : streams.read(streamId),
      },
    });
    for (const orderId of [failing, ...others]) await recordExpiry(orderId);

    await waitFor(
      async () => (await deadlineRows()).some((row) => row.parked),
      10_000,
      () => 'the failing deadline is parked',
    );
    for (const orderId of others) expect(await cancellations(orderId)).to.deep.equal(['expired']);
    expect(await cancellations(failing)).to.deep.equal([]);
    expect(await deadlineRows()).to.deep.equal([
      { order_id: failing, failures: 3, parked: true, last_error: 'Error: this stream cannot be read' },
    ]);
    expect(await worker.health()).to.deep.equal({ status: 'degraded', detail: '1 deadline parked' });
  });
});
