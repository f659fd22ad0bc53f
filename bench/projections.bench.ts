import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { ShopEvent } from '../src/domain/shopEvents.js';
import type { EventToAppend } from '../src/eventstore/eventStore.js';
import { PostgresEventStore } from '../src/infrastructure/eventstore/postgresEventStore.js';
import { EventCodec } from '../src/infrastructure/personalData/eventCodec.js';
import { PersonalDataVault } from '../src/infrastructure/personalData/personalDataVault.js';
import { createPool, postgresConnectionConfig } from '../src/infrastructure/postgres/database.js';
import { rebuildProjections } from '../src/infrastructure/postgres/projectionRebuild.js';
import { PROJECTIONS } from '../src/projections/projections.js';
import { eventSourceOf } from '../src/projections/subscriptionRunner.js';
import { type Child, HttpClient, killChildren, startReportingChild, startShop } from './children.js';
import { benchServer, percentile, printTable, quietLogger, rate, readAllRate } from './database.js';

const ORDERS = 33_400;
const PRODUCTS = 200;
const CUSTOMERS = 500;
const NOUNS = ['kettle', 'teapot', 'mug', 'saucer', 'grinder'];
const READ_CONCURRENCY = 32;
const READ_SECONDS = 5;
const READ_PAGE = 1000;

const AT = '2026-03-01T10:00:00.000Z';
const metadata = () => ({
  actor: 'system:bench',
  correlationId: randomUUID(),
  causationId: randomUUID(),
  schemaVersion: 1,
});

/** A store of a shop's life: products, and orders placed, paid, confirmed and their stock committed. */
async function fill(
  store: PostgresEventStore,
  codec: EventCodec,
): Promise<{ products: string[]; events: number }> {
  const toAppend = async (events: ShopEvent[]): Promise<EventToAppend[]> =>
    Promise.all(
      events.map(async (event) => ({
        id: randomUUID(),
        type: event.type,
        data: await codec.encode(event),
        metadata: metadata(),
      })),
    );
  const products: string[] = Array.from({ length: PRODUCTS }, () => randomUUID());
  let created = 0;
  await rate(16, PRODUCTS, async () => {
    const productId = products[created++] as string;
    await store.append(
      `product-${productId}`,
      await toAppend([
        {
          type: 'ProductCreated',
          data: {
            productId,
            name: `Bench ${NOUNS[randomInt(NOUNS.length)] ?? 'thing'} ${randomInt(1000)}`,
            description: 'For the bench',
            priceCents: 500 + randomInt(5000),
            categoryId: null,
            imageUrl: null,
            createdAt: AT,
          },
        },
      ]),
      'no_stream',
    );
    await store.append(
      `inventory-${productId}`,
      await toAppend([{ type: 'StockRestocked', data: { productId, quantity: 1_000_000, at: AT } }]),
      'any',
    );
  });
  await rate(16, ORDERS, async () => {
    const orderId = randomUUID();
    const productId = products[randomInt(PRODUCTS)] as string;
    const userId = `customer-${randomInt(CUSTOMERS)}`;
    await store.append(
      `order-${orderId}`,
      await toAppend([
        {
          type: 'OrderPlaced',
          data: {
            orderId,
            userId,
            items: [{ productId, productName: 'Bench product', quantity: 1, unitPriceCents: 2500 }],
            totalCents: 2500,
            shippingAddress: {
              name: 'Bench Shopper',
              line1: '1 Main St',
              line2: null,
              city: 'Berlin',
              postalCode: '10115',
              country: 'DE',
            },
            paymentMethod: { type: 'card', token: 'tok_visa' },
            idempotencyKey: orderId,
            requestHash: 'f'.repeat(64),
            placedAt: AT,
            expiresAt: AT,
          },
        },
        { type: 'OrderConfirmed', data: { orderId, at: AT } },
      ]),
      'no_stream',
    );
    await store.append(
      `payment-${orderId}`,
      await toAppend([
        { type: 'PaymentRequested', data: { orderId, userId, amountCents: 2500, token: 'tok_visa', at: AT } },
        { type: 'PaymentCaptured', data: { orderId, amountCents: 2500, providerReference: orderId, at: AT } },
      ]),
      'no_stream',
    );
    await store.append(
      `inventory-${productId}`,
      await toAppend([
        { type: 'StockReserved', data: { productId, orderId, quantity: 1, at: AT } },
        { type: 'ReservationCommitted', data: { productId, orderId, quantity: 1, at: AT } },
      ]),
      'any',
    );
  });
  return { products, events: PRODUCTS * 2 + ORDERS * 6 };
}

/** Requests a second that `concurrency` keep-alive clients get answered, each sending the next at once. */
async function requestRate(client: HttpClient, paths: () => string): Promise<number> {
  let answered = 0;
  const until = performance.now() + READ_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: READ_CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const answer = await client.send('GET', paths());
        if (answer.status !== 200) throw new Error(`GET ${paths()} answered ${answer.status}`);
        answered += 1;
      }
    }),
  );
  return answered / READ_SECONDS;
}

/** Checkouts a second the live lag is measured under, for this many seconds. */
const LAG_RATE = 40;
const LAG_SECONDS = 10;

/** What each projector takes, by stream category: the events whose lag is its lag. */
const WANTED: Record<string, readonly string[]> = {
  catalog: ['product', 'category', 'inventory'],
  orders: ['order', 'payment'],
  sales: ['order'],
};

/**
 * Live lag while checkouts come at LAG_RATE a second (add to the cart, place the order; the saga
 * does the rest): for every event a projector takes, from its recording to the announcement of
 * the checkpoint that passed it, heard on the channel every checkpoint move is announced on.
 */
async function liveLag(
  connectionString: string,
  shop: HttpClient,
  products: readonly string[],
): Promise<Map<string, number[]>> {
  const listener = new pg.Client({ connectionString });
  await listener.connect();
  const moves: { consumer: string; position: number; at: number }[] = [];
  listener.on('notification', (message) => {
    const { consumer, position } = JSON.parse(message.payload ?? '{}') as {
      consumer: string;
      position: number;
    };
    moves.push({ consumer, position, at: Date.now() });
  });
  await listener.query('LISTEN consumer_checkpoints');
  try {
    const tokens = await Promise.all(
      Array.from({ length: LAG_RATE * 2 }, async (_, index) => {
        const answer = await shop.send('POST', '/dev/token', {
          body: { sub: `lag-${index}`, roles: ['customer'] },
        });
        return String(answer.body.access_token);
      }),
    );
    const { rows: before } = await listener.query<{ head: string }>(
      'SELECT coalesce(max(position), 0)::text AS head FROM es_events',
    );
    const begin = performance.now();
    const running: Promise<void>[] = [];
    for (let index = 0; index < LAG_RATE * LAG_SECONDS; index += 1) {
      const wait = begin + (index / LAG_RATE) * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
      const token = tokens[index % tokens.length] as string;
      running.push(
        (async () => {
          await shop.send('POST', '/api/v1/cart/items', {
            token,
            body: { productId: products[randomInt(products.length)], quantity: 1 },
          });
          await shop.send('POST', '/api/v1/orders', {
            token,
            headers: { 'idempotency-key': randomUUID() },
            body: {
              shippingAddress: {
                name: 'Lag Shopper',
                line1: '1 Main St',
                city: 'Berlin',
                postalCode: '10115',
                country: 'DE',
              },
              paymentMethod: { type: 'card', token: 'tok_visa' },
            },
          });
        })(),
      );
    }
    await Promise.all(running);
    await sleep(2000);
    const { rows: appended } = await listener.query<{ position: string; category: string; recorded: string }>(
      `SELECT position::text, category, (extract(epoch FROM recorded_at) * 1000)::text AS recorded
         FROM es_events WHERE position > $1 ORDER BY position`,
      [before[0]?.head ?? '0'],
    );
    const lags = new Map<string, number[]>();
    for (const [consumer, categories] of Object.entries(WANTED)) {
      const passed = moves.filter((move) => move.consumer === consumer);
      const ofConsumer: number[] = [];
      for (const event of appended) {
        if (!categories.includes(event.category)) continue;
        const move = passed.find((candidate) => candidate.position >= Number(event.position));
        ofConsumer.push(move === undefined ? Number.POSITIVE_INFINITY : move.at - Number(event.recorded));
      }
      lags.set(consumer, ofConsumer);
    }
    return lags;
  } finally {
    await listener.end();
  }
}

const round = (value: number): number => Math.round(value);
const ms = (value: number): number | string => (Number.isFinite(value) ? Math.round(value) : 'inf');
const ratio = (value: number): number => Math.round(value * 100) / 100;

export async function benchProjections(): Promise<void> {
  const server = await benchServer();
  const database = await server.database();
  const pool = createPool(database.connectionString, quietLogger, 20);
  const store = new PostgresEventStore({
    pool,
    connection: postgresConnectionConfig(database.connectionString, 'shop-bench-listener'),
    logger: quietLogger,
  });
  const codec = new EventCodec(store, new PersonalDataVault(pool));
  const source = eventSourceOf(store, (events) => codec.revealAll(events));
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-bench-projections-'));
  const started: Child[] = [];
  const clients: HttpClient[] = [];
  process.on('exit', killChildren);
  try {
    const filling = performance.now();
    const { products, events } = await fill(store, codec);
    const fillSeconds = (performance.now() - filling) / 1000;

    const reads: number[] = [await readAllRate(store, READ_PAGE)];
    const rebuilt: (string | number)[][] = [];
    for (const projection of PROJECTIONS) {
      const began = performance.now();
      const done = await rebuildProjections({ pool, source, projections: [projection] });
      rebuilt.push([projection.name, done.events, round(done.events / ((performance.now() - began) / 1000))]);
    }
    const rebuilding = performance.now();
    await rebuildProjections({ pool, source, projections: PROJECTIONS });
    const rebuildRate = events / ((performance.now() - rebuilding) / 1000);
    rebuilt.push(['all at once (the store read once)', events, round(rebuildRate)]);
    reads.push(await readAllRate(store, READ_PAGE));
    const readAll = (reads[0]! + reads[1]!) / 2;

    const shop = await startShop(database, dataDir, { RATE_LIMIT_PER_MINUTE: '100000000' });
    const bare = await startReportingChild('the bare express server', 'bench/bareExpress.ts', {});
    started.push(shop.child, bare.child);
    const [shopClient, bareClient] = [new HttpClient(shop.port), new HttpClient(bare.port)];
    clients.push(shopClient, bareClient);
    // Warm both up, as a server that has been answering for a while is.
    await requestRate(bareClient, () => '/constant');
    await requestRate(shopClient, () => `/api/v1/products/${products[randomInt(PRODUCTS)] ?? ''}`);
    const bareRate = await requestRate(bareClient, () => '/constant');
    const productRate = await requestRate(
      shopClient,
      () => `/api/v1/products/${products[randomInt(PRODUCTS)] ?? ''}`,
    );
    const lags = await liveLag(database.connectionString, shopClient, products);
    const searchRate = await requestRate(
      shopClient,
      () => `/api/v1/products?search=${NOUNS[randomInt(NOUNS.length)] ?? ''}`,
    );

    process.stdout.write(
      `projections bench on ${server.description}, ${process.version}, ${os.cpus().length} cores; a store of ` +
        `${events} shop events (${PRODUCTS} products, ${ORDERS} orders placed, paid, confirmed and committed; ` +
        `addresses and card tokens sealed), written in ${round(fillSeconds)} s\n`,
    );
    printTable(
      'rebuild from position 0 into a copy of the tables, then swapped in: each read model alone, then all',
      [['read model', 'events read', 'events/s'], ...rebuilt],
    );
    printTable(
      `rebuilding every read model against reading the store (${READ_PAGE} a page, mean of a read before and after)`,
      [
        ['figure', 'events/s', 'x readAll', 'goal'],
        ['store.readAll', round(readAll), 1, ''],
        ['rebuild of all read models', round(rebuildRate), ratio(rebuildRate / readAll), '>= 0.3'],
      ],
    );
    printTable(
      `reads: ${READ_CONCURRENCY} keep-alive clients for ${READ_SECONDS} s each, the shop and a bare express server each a process of their own`,
      [
        ['request', 'requests/s', 'x bare express', 'goal'],
        ['bare express, constant JSON', round(bareRate), 1, ''],
        ['GET /api/v1/products/{id}', round(productRate), ratio(productRate / bareRate), '>= 0.5'],
        ['GET /api/v1/products?search=<word>', round(searchRate), ratio(searchRate / bareRate), ''],
      ],
    );
    const lagRows = [...lags.entries()].map(([consumer, values]) => [
      consumer,
      values.length,
      ms(percentile(values, 50)),
      ms(percentile(values, 99)),
      ms(Math.max(...values)),
    ]);
    const worstP99 = Math.max(...[...lags.values()].map((values) => percentile(values, 99)));
    printTable(
      `live lag while ${LAG_RATE} checkouts a second come for ${LAG_SECONDS} s: an event's recording to the ` +
        'announcement of the projector checkpoint that passed it (goal: p99 <= 100 ms)',
      [['projector', 'events', 'p50 ms', 'p99 ms', 'max ms'], ...lagRows],
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'projections',
        figures: {
          events,
          readAllEventsPerSecond: round(readAll),
          rebuildEventsPerSecond: round(rebuildRate),
          bareRequestsPerSecond: round(bareRate),
          productRequestsPerSecond: round(productRate),
          searchRequestsPerSecond: round(searchRate),
          liveLagP99Ms: ms(worstP99),
        },
        ratios: {
          rebuildVsReadAll: ratio(rebuildRate / readAll),
          productVsBare: ratio(productRate / bareRate),
        },
      })}\n`,
    );
  } finally {
    for (const client of clients) client.close();
    await Promise.allSettled(started.map((child) => child.stop()));
    await store.close();
    await pool.end();
    await database.drop();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    process.off('exit', killChildren);
  }
}
