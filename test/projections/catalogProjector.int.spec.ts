import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { ShopEvent } from '../../src/domain/shopEvents.js';
import { catalogProjector } from '../../src/projections/catalog/catalogProjector.js';
import {
  appendShopEvents,
  handOverEverythingAgain,
  openRunnerProcess,
  type RunnerProcess,
} from '../support/runnerFixture.js';
import { dumpReadModels } from '../support/randomShop.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

const AT = '2026-03-01T10:00:00.000Z';
const LATER = '2026-03-02T10:00:00.000Z';

describe('The catalog projector', () => {
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

  const append = (id: string, ...events: ShopEvent[]) => appendShopEvents(shop, id, ...events);

  const dump = () => dumpReadModels(shop.pool, ['catalog']);

  it('folds every event type it consumes into products, their stock and categories', async () => {
    const [productId, categoryId, orderA, orderB, orderC] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await append(categoryId, {
      type: 'CategoryCreated',
      data: { categoryId, name: 'Kitchen', createdAt: AT },
    });
    await append(
      productId,
      {
        type: 'ProductCreated',
        data: {
          productId,
          name: 'Kettle',
          description: null,
          priceCents: 2500,
          categoryId,
          imageUrl: null,
          createdAt: AT,
        },
      },
      { type: 'ProductRenamed', data: { productId, name: 'Electric kettle', at: LATER } },
      { type: 'ProductDescribed', data: { productId, description: 'Boils fast', at: LATER } },
      { type: 'ProductRepriced', data: { productId, priceCents: 2999, at: LATER } },
      { type: 'ProductImageChanged', data: { productId, imageUrl: 'https://example.com/k.png', at: LATER } },
      { type: 'ProductDeactivated', data: { productId, at: LATER } },
      { type: 'ProductActivated', data: { productId, at: LATER } },
      { type: 'StockRestocked', data: { productId, quantity: 10, at: AT } },
      { type: 'StockReserved', data: { productId, orderId: orderA, quantity: 3, at: AT } },
      { type: 'StockReserved', data: { productId, orderId: orderB, quantity: 2, at: AT } },
      { type: 'ReservationReleased', data: { productId, orderId: orderB, quantity: 2, at: AT } },
      { type: 'ReservationCommitted', data: { productId, orderId: orderA, quantity: 3, at: AT } },
      {
        type: 'ReservationRejected',
        data: { productId, orderId: orderC, quantity: 99, available: 7, at: AT },
      },
      { type: 'StockReturned', data: { productId, orderId: orderA, quantity: 1, at: AT } },
    );
    const head = await shop.store.headPosition();
    const runner = shop.runner(catalogProjector());
    runner.start();
    await waitFor(
      async () => (await shop.consumers.checkpoint('catalog')) >= head,
      10_000,
      () => 'not caught up',
    );

    const { rows: products } = await shop.pool.query('SELECT * FROM catalog.products WHERE id = $1', [
      productId,
    ]);
    expect(products).to.have.length(1);
    expect(products[0]).to.deep.include({
      name: 'Electric kettle',
      description: 'Boils fast',
      price_cents: '2999',
      category_id: categoryId,
      image_url: 'https://example.com/k.png',
      active: true,
      revision: '6',
    });
    expect((products[0] as { updated_at: Date }).updated_at.toISOString()).to.equal(LATER);
    const { rows: stock } = await shop.pool.query(
      'SELECT on_hand, reserved FROM catalog.stock WHERE product_id = $1',
      [productId],
    );
    // 10 restocked, 3 committed away, 1 returned; nothing left reserved.
    expect(stock).to.deep.equal([{ on_hand: '8', reserved: '0' }]);
    const { rows: categories } = await shop.pool.query('SELECT name FROM catalog.categories WHERE id = $1', [
      categoryId,
    ]);
    expect(categories).to.deep.equal([{ name: 'Kitchen' }]);
    await runner.stop();
  });

  it('changes nothing when events it applied are handed over again', async () => {
    const productId = randomUUID();
    const last = await append(
      productId,
      {
        type: 'ProductCreated',
        data: {
          productId,
          name: 'Mug',
          description: null,
          priceCents: 500,
          categoryId: null,
          imageUrl: null,
          createdAt: AT,
        },
      },
      { type: 'StockRestocked', data: { productId, quantity: 4, at: AT } },
      { type: 'StockReserved', data: { productId, orderId: randomUUID(), quantity: 1, at: AT } },
    );
    const runner = shop.runner(catalogProjector());
    runner.start();
    await waitFor(
      async () => (await shop.consumers.checkpoint('catalog')) >= last,
      10_000,
      () => 'not caught up',
    );
    await runner.stop();
    const before = await dump();

    await handOverEverythingAgain(shop, catalogProjector());
    expect(await dump()).to.deep.equal(before);
    const { rows } = await shop.pool.query(
      'SELECT on_hand, reserved FROM catalog.stock WHERE product_id = $1',
      [productId],
    );
    expect(rows).to.deep.equal([{ on_hand: '4', reserved: '1' }]);
  });
});
