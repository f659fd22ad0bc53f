import { execFile } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { ShopEvent } from '../../src/domain/shopEvents.js';
import {
  RebuildInProgress,
  rebuildProjections,
} from '../../src/infrastructure/postgres/projectionRebuild.js';
import { type Projection, PROJECTIONS } from '../../src/projections/projections.js';
import { appendShopEvents, openRunnerProcess, type RunnerProcess } from '../support/runnerFixture.js';
import { TEST_ADDRESS } from '../support/shop.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

const AT = '2026-03-01T10:00:00.000Z';

/** Every table of the read models, each ordered by its key, without the copies a rebuild makes. */
const TABLES: Record<string, string> = {
  'catalog.products': 'id',
  'catalog.stock': 'product_id',
  'catalog.categories': 'id',
  'orders.orders': 'id',
  'orders.payments': 'order_id',
  'sales.orders': 'id',
  'sales.daily': 'day, product_id',
};

describe('Rebuilding read models', () => {
  let database: TestDatabase;
  let shop: RunnerProcess;

  before(async () => {
    database = await createTestDatabase();
    shop = openRunnerProcess(database.connectionString);
    await appendRandomShop(shop, 3000);
    for (const projection of PROJECTIONS) shop.runner(projection.projector(projection.schema)).start();
    await caughtUp();
  });

  after(async () => {
    await shop.close();
    await database.drop();
  });

  const caughtUp = async (): Promise<void> => {
    const head = await shop.store.headPosition();
    for (const { name } of PROJECTIONS) {
      await waitFor(
        async () => (await shop.consumers.checkpoint(name)) >= head,
        20_000,
        () => `${name} behind`,
      );
    }
  };

  const dump = async (): Promise<Record<string, unknown[]>> => {
    const dumped: Record<string, unknown[]> = {};
    for (const [table, key] of Object.entries(TABLES)) {
      dumped[table] = (await shop.pool.query(`SELECT * FROM ${table} ORDER BY ${key}`)).rows;
    }
    return dumped;
  };

  const rebuild = (...projections: Projection[]) =>
    rebuildProjections({ pool: shop.pool, source: shop.source, projections });

  /** Each served table's indexes, by what they index: a rebuild names them anew. */
  const indexes = async (): Promise<unknown[]> =>
    (
      await shop.pool.query<{ schemaname: string; tablename: string; definition: string }>(
        `SELECT schemaname, tablename, regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON') AS definition
           FROM pg_indexes WHERE schemaname IN ('catalog', 'orders', 'sales') ORDER BY 1, 2, 3`,
      )
    ).rows;

  it('ends in the tables of the live projectors, row for row, with their indexes', async () => {
    const live = await dump();
    const indexed = await indexes();
    expect(indexed).to.have.length.above(10);
    expect(live['catalog.products']).to.have.length.above(50);
    expect(live['sales.daily']).to.have.length.above(0);
    await rebuild(...PROJECTIONS);
    expect(await dump()).to.deep.equal(live);
    for (const projection of PROJECTIONS) await rebuild(projection);
    expect(await dump()).to.deep.equal(live);
    expect(await indexes()).to.deep.equal(indexed);
  });

  it('lets readers read the whole catalog throughout, and the live projector go on after it', async () => {
    const { rows } = await shop.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM catalog.products',
    );
    const products = rows[0]?.count ?? 0;
    const seen: number[] = [];
    const failures: unknown[] = [];
    let rebuilding = true;
    const reader = (async () => {
      while (rebuilding) {
        await shop.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM catalog.products').then(
          (result) => seen.push(result.rows[0]?.count ?? -1),
          (error: unknown) => failures.push(error),
        );
      }
    })();
    try {
      await rebuild(PROJECTIONS.find((projection) => projection.name === 'catalog') as Projection);
    } finally {
      rebuilding = false;
      await reader;
    }
    expect(failures).to.deep.equal([]);
    expect(seen.length).to.be.above(0);
    expect(new Set(seen)).to.deep.equal(new Set([products]));

    // The live projector writes into the swapped-in tables.
    const productId = randomUUID();
    await appendShopEvents(shop, productId, {
      type: 'ProductCreated',
      data: {
        productId,
        name: 'After the swap',
        description: null,
        priceCents: 100,
        categoryId: null,
        imageUrl: null,
        createdAt: AT,
      },
    });
    await caughtUp();
    const { rows: after } = await shop.pool.query('SELECT name FROM catalog.products WHERE id = $1', [
      productId,
    ]);
    expect(after).to.deep.equal([{ name: 'After the swap' }]);
  });

  it('leaves the served tables untouched when it fails midway, and a second run starts clean', async () => {
    const catalog = PROJECTIONS.find((projection) => projection.name === 'catalog') as Projection;
    const before = await dump();
    let batches = 0;
    const failing: Projection = {
      ...catalog,
      projector: (schema) => {
        const projector = catalog.projector(schema);
        return {
          ...projector,
          handle: async (events, tx) => {
            if ((batches += 1) === 2) throw new Error('the machine went down');
            await projector.handle(events, tx);
          },
        };
      },
    };
    const failed = await rebuild(failing).catch((error: unknown) => error);
    expect((failed as Error).message).to.equal('the machine went down');
    expect(await dump()).to.deep.equal(before);
    await rebuild(catalog);
    expect(await dump()).to.deep.equal(before);
    const { rows } = await shop.pool.query(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog%' ORDER BY nspname",
    );
    expect(rows).to.deep.equal([{ nspname: 'catalog' }]);
  });

  it('refuses to run beside another rebuild of the same database', async () => {
    const other = await shop.pool.connect();
    try {
      await other.query(`SELECT pg_advisory_lock(hashtextextended('shop-rebuild', 0))`);
      const refused = await rebuild(...PROJECTIONS).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(RebuildInProgress);
    } finally {
      await other.query(`SELECT pg_advisory_unlock(hashtextextended('shop-rebuild', 0))`);
      other.release();
    }
  });

  describe('npm run replay', () => {
    const replay = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(
          'npm',
          ['run', '-s', 'replay', '--', ...args],
          { env: { ...process.env, DATABASE_URL: database.connectionString, LOG_LEVEL: 'warn' } },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });

    it('rebuilds the read model named, telling how far it got, and leaves the tables as they were', async () => {
      const before = await dump();
      const { code, stdout, stderr } = await replay(['--projection', 'orders']);
      expect(code, stderr).to.equal(0);
      expect(stdout).to.match(
        /^orders: rebuilt from \d+ events in [\d.]+ s \(\d+ events\/s\), swapped in at position \d+\n$/,
      );
      expect(await dump()).to.deep.equal(before);
    });

    it('refuses an unknown read model and an unknown option with exit code 2 and its usage', async () => {
      for (const args of [['--projection', 'nope'], ['--everything']]) {
        const { code, stderr } = await replay(args);
        expect(code).to.equal(2);
        expect(stderr).to.include('usage: npm run -s replay -- [--projection NAME]');
      }
    });
  });
});

/** About `count` events of a shop's life: products changing, stock moving, orders taking their course. */
async function appendRandomShop(shop: RunnerProcess, count: number): Promise<void> {
  const categories = Array.from({ length: 5 }, () => randomUUID());
  const products: string[] = [];
  let appended = 0;
  const append = async (id: string, event: ShopEvent): Promise<void> => {
    await appendShopEvents(shop, id, event);
    appended += 1;
  };
  for (const categoryId of categories) {
    await append(categoryId, {
      type: 'CategoryCreated',
      data: { categoryId, name: `Category ${categoryId}`, createdAt: AT },
    });
  }
  const day = (offset: number) => new Date(Date.parse(AT) + offset * 86_400_000).toISOString();
  while (appended < count) {
    const choice = randomInt(10);
    if (choice < 2 || products.length < 5) {
      const productId = randomUUID();
      products.push(productId);
      await append(productId, {
        type: 'ProductCreated',
        data: {
          productId,
          name: `Product ${randomInt(1000)}`,
          description: randomInt(2) === 0 ? null : 'A fine thing',
          priceCents: 100 + randomInt(10_000),
          categoryId: categories[randomInt(categories.length)] ?? null,
          imageUrl: null,
          createdAt: day(randomInt(30)),
        },
      });
      await append(productId, {
        type: 'StockRestocked',
        data: { productId, quantity: 1 + randomInt(100), at: AT },
      });
      continue;
    }
    const productId = products[randomInt(products.length)] as string;
    if (choice < 4) {
      const at = day(randomInt(30));
      const change: ShopEvent[] = [
        { type: 'ProductRenamed', data: { productId, name: `Renamed ${randomInt(1000)}`, at } },
        { type: 'ProductRepriced', data: { productId, priceCents: 100 + randomInt(10_000), at } },
        { type: 'ProductDeactivated', data: { productId, at } },
        { type: 'ProductActivated', data: { productId, at } },
      ];
      await append(productId, change[randomInt(change.length)] as ShopEvent);
      continue;
    }
    const orderId = randomUUID();
    const quantity = 1 + randomInt(3);
    const placedAt = day(randomInt(30));
    await append(orderId, {
      type: 'OrderPlaced',
      data: {
        orderId,
        userId: `shopper-${randomInt(20)}`,
        items: [{ productId, productName: 'Thing', quantity, unitPriceCents: 500 }],
        totalCents: quantity * 500,
        shippingAddress: { ...TEST_ADDRESS, line2: null },
        paymentMethod: { type: 'card', token: 'tok_visa' },
        idempotencyKey: orderId,
        requestHash: 'f'.repeat(64),
        placedAt,
        expiresAt: placedAt,
      },
    });
    await append(productId, { type: 'StockReserved', data: { productId, orderId, quantity, at: placedAt } });
    const outcome = randomInt(3);
    if (outcome === 0) {
      await append(productId, {
        type: 'ReservationReleased',
        data: { productId, orderId, quantity, at: placedAt },
      });
      await append(orderId, {
        type: 'OrderCancelled',
        data: { orderId, reason: 'out_of_stock', at: placedAt },
      });
      continue;
    }
    await append(orderId, {
      type: 'PaymentRequested',
      data: { orderId, userId: 'shopper', amountCents: quantity * 500, token: 'tok_visa', at: placedAt },
    });
    await append(orderId, {
      type: 'PaymentCaptured',
      data: { orderId, amountCents: quantity * 500, providerReference: orderId, at: placedAt },
    });
    await append(orderId, { type: 'OrderConfirmed', data: { orderId, at: placedAt } });
    await append(productId, {
      type: 'ReservationCommitted',
      data: { productId, orderId, quantity, at: placedAt },
    });
    if (outcome === 1) {
      await append(orderId, {
        type: 'OrderCancelled',
        data: { orderId, reason: 'customer_cancelled', at: day(31) },
      });
    }
  }
}
