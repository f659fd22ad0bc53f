import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { inventories } from '../../src/commands/aggregates.js';
import { checkoutSaga, CHECKOUT_SAGA } from '../../src/commands/checkout/checkoutSaga.js';
import { sendCheckoutCommand } from '../../src/commands/checkout/checkoutCommands.js';
import { DeadlineWorker } from '../../src/commands/checkout/deadlineWorker.js';
import { handle } from '../../src/commands/commandHandler.js';
import type { CommandEnvironment } from '../../src/commands/commandEnvironment.js';
import { eventStreams } from '../../src/commands/eventStreams.js';
import type { ChargeRequest, PaymentProvider } from '../../src/commands/payment/paymentProvider.js';
import { PaymentSimulator } from '../../src/infrastructure/payments/paymentSimulator.js';
import { postgresConnectionConfig, sqlQueryOn } from '../../src/infrastructure/postgres/database.js';
import { postgresNotifications } from '../../src/infrastructure/postgres/postgresNotifications.js';
import { EventCodec } from '../../src/infrastructure/personalData/eventCodec.js';
import { PersonalDataVault } from '../../src/infrastructure/personalData/personalDataVault.js';
import type { Consumer } from '../../src/projections/consumer.js';
import { eventSourceOf, SubscriptionRunner } from '../../src/projections/subscriptionRunner.js';
import { DatabaseGone, openRunnerProcess, testErrorKinds } from '../support/runnerFixture.js';
import { placeOrderOf, TEST_SETTINGS } from '../support/postgresCommands.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

const SETTINGS = { paymentRetryDelayMs: 10, paymentRetries: 3 };
const context = { actor: 'system:test', correlationId: randomUUID(), causationId: randomUUID() };

/** A fault after an event was handled, before its checkpoint commits: the instance is as good as dead. */
class CrashAfterEvent extends DatabaseGone {}

/** The provider, counting the calls that reach it from one instance. */
function countingProvider(provider: PaymentProvider): PaymentProvider & { calls: ChargeRequest[] } {
  const calls: ChargeRequest[] = [];
  return {
    calls,
    charge: (request) => {
      calls.push(request);
      return provider.charge(request);
    },
  };
}

/** One instance of the shop's checkout: the saga on its runner and the deadline worker, its own pools. */
interface Faults {
  saga?: (saga: Consumer) => Consumer;
  deadlines?: (env: CommandEnvironment) => CommandEnvironment;
}

function checkoutInstance(connectionString: string, faults: Faults = {}) {
  const process = openRunnerProcess(connectionString);
  const codec = new EventCodec(process.store, new PersonalDataVault(process.pool));
  const env: CommandEnvironment = {
    streams: eventStreams(process.store, codec),
    now: () => new Date(),
    ...TEST_SETTINGS,
  };
  const provider = countingProvider(new PaymentSimulator(process.pool, 50));
  const saga = checkoutSaga(env, { settings: SETTINGS });
  // Personal data opened, as the shop's runners read it: the card token is sealed in the order.
  const runner = new SubscriptionRunner(
    faults.saga?.(saga) ?? saga,
    process.consumers,
    eventSourceOf(process.store, (events) => codec.revealAll(events)),
    testErrorKinds,
    silentLogger,
    { firstRetryDelayMs: 5, restartDelayMs: 10 },
  );
  const deadlines = new DeadlineWorker(
    { env: faults.deadlines?.(env) ?? env, provider },
    sqlQueryOn(process.pool),
    process.consumers,
    postgresNotifications(postgresConnectionConfig(connectionString, 'test-deadlines'), silentLogger),
    silentLogger,
    undefined,
    { restartDelayMs: 10, firstRetryDelayMs: 10 },
  );
  return {
    env,
    provider,
    query: sqlQueryOn(process.pool),
    start() {
      runner.start();
      deadlines.start();
    },
    async stop() {
      await deadlines.stop();
      await runner.stop();
      await process.close();
    },
  };
}

type Instance = ReturnType<typeof checkoutInstance>;

interface Line {
  productId: string;
  quantity: number;
}

/** The saga, failing once after it handled each event, as if its instance died right then. */
function crashingAfterEachEvent(crashedAfter: Set<string>) {
  return (saga: Consumer): Consumer => ({
    ...saga,
    handle: async (events, tx) => {
      for (const event of events) {
        await saga.handle([event], tx);
        if (crashedAfter.has(event.id)) continue;
        crashedAfter.add(event.id);
        throw new CrashAfterEvent(`died after ${event.streamId}@${event.revision}, before its checkpoint`);
      }
    },
  });
}

/** The first answer of the provider for each payment is lost before it is recorded, as if the instance died. */
function losingFirstAnswers(lost: Set<string>) {
  return (env: CommandEnvironment): CommandEnvironment => {
    const { store } = env.streams;
    const failing = new Proxy(store, {
      get(target, property) {
        if (property === 'append') {
          return async (...args: Parameters<typeof store.append>) => {
            const [streamId, events] = args;
            const answer = events.some((event) =>
              ['PaymentCaptured', 'PaymentDeclined'].includes(event.type),
            );
            if (answer && !lost.has(streamId)) {
              lost.add(streamId);
              throw new Error('the connection ended before the answer was recorded');
            }
            return store.append(...args);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { ...env, streams: { ...env.streams, store: failing } };
  };
}

describe('The checkout saga', () => {
  let database: TestDatabase;
  let writer: Instance;
  let instances: Instance[];

  beforeEach(async () => {
    database = await createTestDatabase();
    writer = checkoutInstance(database.connectionString);
    instances = [];
  });

  afterEach(async () => {
    for (const instance of instances) await instance.stop();
    await writer.stop();
    await database.drop();
  });

  function started(faults: Faults = {}): Instance {
    const instance = checkoutInstance(database.connectionString, faults);
    instances.push(instance);
    instance.start();
    return instance;
  }

  async function stopped(instance: Instance): Promise<void> {
    instances = instances.filter((other) => other !== instance);
    await instance.stop();
  }

  const sql = async <Row extends object>(text: string, values: unknown[] = []): Promise<Row[]> =>
    (await writer.query<Row>(text, values)).rows;

  async function product(stock: number): Promise<string> {
    const productId = randomUUID();
    await handle(writer.env.streams, inventories, {
      id: productId,
      command: { type: 'Restock', productId, quantity: stock, now: new Date().toISOString() },
      context,
    });
    return productId;
  }

  const place = (lines: Line[], token: string): Promise<string> => placeOrderOf(writer.env, { lines, token });

  /** Waits until every order given has its outcome and the saga has nothing left to do. */
  async function settled(orderIds: readonly string[], timeoutMs = 20_000): Promise<void> {
    let seen: unknown;
    await waitFor(
      async () => {
        const [row] = await sql<{ open: string; behind: boolean; due: boolean }>(
          `SELECT
             (SELECT count(*) FROM unnest($1::text[]) AS wanted (order_id)
               WHERE NOT EXISTS (SELECT 1 FROM es_events WHERE stream_id = 'order-' || order_id
                                   AND type IN ('OrderConfirmed', 'OrderCancelled'))) AS open,
             coalesce((SELECT max(position) FROM es_events), -1)
               > coalesce((SELECT position FROM consumer_checkpoints WHERE consumer = $2), -1) AS behind,
             EXISTS (SELECT 1 FROM checkout_deadlines WHERE due_at <= now() AND parked_at IS NULL) AS due`,
          [orderIds, CHECKOUT_SAGA],
        );
        seen = row;
        return row?.open === '0' && !row.behind && !row.due;
      },
      timeoutMs,
      () => `checkouts not settled: ${JSON.stringify(seen)}`,
    );
  }

  /** Every event type of each stream, to compare before and after, and to find doubles. */
  async function eventsByStream(): Promise<Map<string, string[]>> {
    const rows = await sql<{ stream_id: string; type: string }>(
      'SELECT stream_id, type FROM es_events ORDER BY position',
    );
    const streams = new Map<string, string[]>();
    for (const row of rows) streams.set(row.stream_id, [...(streams.get(row.stream_id) ?? []), row.type]);
    return streams;
  }

  async function outcomeOf(orderId: string): Promise<string[]> {
    const rows = await sql<{ type: string; reason: string | null }>(
      `SELECT type, data->>'reason' AS reason FROM es_events
       WHERE stream_id = $1 AND type IN ('OrderConfirmed', 'OrderCancelled') ORDER BY revision`,
      [`order-${orderId}`],
    );
    return rows.map((row) => (row.reason ? `${row.type}:${row.reason}` : row.type));
  }

  async function available(productId: string): Promise<number> {
    const rows = await sql<{ available: string }>(
      `SELECT sum(CASE type WHEN 'StockRestocked' THEN 1 WHEN 'StockReturned' THEN 1
                            WHEN 'ReservationCommitted' THEN -1 ELSE 0 END * (data->>'quantity')::int)
              - coalesce(sum(CASE type WHEN 'StockReserved' THEN 1 WHEN 'ReservationReleased' THEN -1
                                       WHEN 'ReservationCommitted' THEN -1 ELSE 0 END * (data->>'quantity')::int), 0)
              AS available
       FROM es_events WHERE stream_id = $1`,
      [`inventory-${productId}`],
    );
    return Number(rows[0]?.available);
  }

  /** A step of one order recorded more than once: the same event type, order and attempt in one stream. */
  const repeatedSteps = async (): Promise<string[]> =>
    (
      await sql<{ step: string }>(
        `SELECT stream_id || ' ' || type || ' ' || coalesce(data->>'attempt', '') AS step FROM es_events
         WHERE data->>'orderId' IS NOT NULL GROUP BY stream_id, type, data->>'orderId', data->>'attempt' HAVING count(*) > 1`,
      )
    ).map((row) => row.step);

  /** Orders down every path: confirmed, declined, erring until failed, and short of stock. */
  async function placeEveryPath() {
    const plenty = await product(100);
    const scarce = await product(1);
    return {
      plenty,
      scarce,
      confirmed: await place(
        [
          { productId: plenty, quantity: 2 },
          { productId: scarce, quantity: 1 },
        ],
        'tok_visa',
      ),
      declined: await place([{ productId: plenty, quantity: 3 }], 'tok_declined'),
      failed: await place([{ productId: plenty, quantity: 1 }], 'tok_error'),
      outOfStock: await place(
        [
          { productId: plenty, quantity: 1 },
          { productId: scarce, quantity: 5 },
        ],
        'tok_visa',
      ),
    };
  }

  async function expectEveryPathDone(placed: Awaited<ReturnType<typeof placeEveryPath>>): Promise<void> {
    await settled([placed.confirmed, placed.declined, placed.failed, placed.outOfStock]);
    expect(await outcomeOf(placed.confirmed)).to.deep.equal(['OrderConfirmed']);
    expect(await outcomeOf(placed.declined)).to.deep.equal(['OrderCancelled:payment_declined']);
    expect(await outcomeOf(placed.failed)).to.deep.equal(['OrderCancelled:payment_failed']);
    expect(await outcomeOf(placed.outOfStock)).to.deep.equal(['OrderCancelled:out_of_stock']);
    expect(await available(placed.plenty), 'only the confirmed order keeps its stock').to.equal(98);
    expect(await available(placed.scarce)).to.equal(0);
    const streams = await eventsByStream();
    expect(streams.get(`payment-${placed.confirmed}`)).to.deep.equal(['PaymentRequested', 'PaymentCaptured']);
    expect(streams.get(`payment-${placed.declined}`)).to.deep.equal(['PaymentRequested', 'PaymentDeclined']);
    expect(streams.get(`payment-${placed.failed}`)).to.deep.equal([
      'PaymentRequested',
      ...Array<string>(4).fill('PaymentAttemptFailed'),
      'PaymentFailed',
    ]);
    expect(streams.get(`payment-${placed.outOfStock}`), 'never charged').to.equal(undefined);
    expect(await repeatedSteps(), 'no step taken twice').to.deep.equal([]);
  }

  const paidOrders = (placed: Awaited<ReturnType<typeof placeEveryPath>>) => [
    placed.confirmed,
    placed.declined,
    placed.failed,
    placed.outOfStock,
  ];

  it('drives an order down every path to its one outcome', async () => {
    started();
    await expectEveryPathDone(await placeEveryPath());
  });

  describe('when its instance dies after each event it handled, and after each answer of the provider', () => {
    it('completes every order on the next start, doing nothing twice', async () => {
      const crashedAfter = new Set<string>();
      const lostAnswers = new Set<string>();
      const instance = started({
        saga: crashingAfterEachEvent(crashedAfter),
        deadlines: losingFirstAnswers(lostAnswers),
      });

      const placed = await placeEveryPath();
      await expectEveryPathDone(placed);

      const handled = await sql<{ count: string }>(
        "SELECT count(*) FROM es_events WHERE category IN ('order', 'inventory', 'payment')",
      );
      expect(crashedAfter.size, 'a crash after every event').to.equal(Number(handled[0]?.count));
      expect([...lostAnswers].sort()).to.deep.equal(
        [`payment-${placed.confirmed}`, `payment-${placed.declined}`].sort(),
      );
      const asked = instance.provider.calls.map((call) => call.idempotencyKey);
      expect(
        asked.filter((key) => key === `payment-${placed.confirmed}`),
        'asked again',
      ).to.have.length(2);
      const ledger = await sql<{ idempotency_key: string }>(
        'SELECT idempotency_key FROM payment_simulator_charges',
      );
      expect(ledger.map((row) => row.idempotency_key).sort(), 'charged once').to.deep.equal(
        [`payment-${placed.confirmed}`, `payment-${placed.declined}`].sort(),
      );
    });
  });

  describe('when every event of finished checkouts is delivered again to a fresh instance', () => {
    it('takes no new effect', async () => {
      const first = started();
      const placed = await placeEveryPath();
      await expectEveryPathDone(placed);
      await stopped(first);
      const before = await eventsByStream();
      const ledgerBefore = await sql('SELECT * FROM payment_simulator_charges ORDER BY idempotency_key');

      await sql('UPDATE consumer_checkpoints SET position = -1 WHERE consumer = $1', [CHECKOUT_SAGA]);
      await sql('DELETE FROM checkout_processes');
      await sql('DELETE FROM checkout_deadlines');
      const fresh = started();
      await settled(paidOrders(placed));

      expect(await eventsByStream()).to.deep.equal(before);
      expect(await sql('SELECT * FROM payment_simulator_charges ORDER BY idempotency_key')).to.deep.equal(
        ledgerBefore,
      );
      expect(fresh.provider.calls, 'the provider is not asked again').to.deep.equal([]);
    });
  });

  describe('when a cause comes again and is decided otherwise than the first time', () => {
    it('takes the new decision, though the first one is stored already', async () => {
      // A crash lost what the first decision knew: the same event, now after a cancellation, leads
      // to a release where it had led to a payment request.
      const productId = await product(5);
      const orderId = await place([{ productId, quantity: 1 }], 'tok_visa');
      const cause = { id: randomUUID(), correlationId: randomUUID() };
      await sendCheckoutCommand(
        writer.env,
        orderId,
        { type: 'ReserveStock', productId, quantity: 1 },
        { ...cause, id: randomUUID() },
      );
      const requested = await sendCheckoutCommand(
        writer.env,
        orderId,
        { type: 'RequestPayment', userId: 'shopper', amountCents: 2500, token: 'tok_visa' },
        cause,
      );
      const released = await sendCheckoutCommand(
        writer.env,
        orderId,
        { type: 'ReleaseReservation', productId },
        cause,
      );
      expect(requested.map((written) => written.event.type)).to.deep.equal(['PaymentRequested']);
      expect(released.map((written) => written.event.type)).to.deep.equal(['ReservationReleased']);
      expect(await available(productId)).to.equal(5);
      const again = await sendCheckoutCommand(
        writer.env,
        orderId,
        { type: 'ReleaseReservation', productId },
        cause,
      );
      expect(again, 'the same decision again takes no effect').to.deep.equal([]);
    });
  });

  describe('with two instances on one database', () => {
    it('processes each order once, and the other instance takes over when one stops', async () => {
      const instancesOn = [started(), started()];
      const productId = await product(1000);
      const orderMany = () =>
        Promise.all(Array.from({ length: 10 }, () => place([{ productId, quantity: 1 }], 'tok_visa')));

      const early = await orderMany();
      await settled(early);
      const charging = instancesOn.find((instance) => instance.provider.calls.length > 0) as Instance;
      const other = instancesOn.find((instance) => instance !== charging) as Instance;
      expect(other.provider.calls, 'one instance charges').to.deep.equal([]);
      await stopped(charging);
      const late = await orderMany();
      await settled(late);

      for (const orderId of [...early, ...late])
        expect(await outcomeOf(orderId)).to.deep.equal(['OrderConfirmed']);
      expect(charging.provider.calls).to.have.length(10);
      expect(other.provider.calls).to.have.length(10);
      expect(await repeatedSteps()).to.deep.equal([]);
      expect(await available(productId)).to.equal(980);
    });
  });
});
