import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { OrderEvent } from '../../src/domain/order/order.js';
import { salesProjector } from '../../src/projections/sales/salesProjector.js';
import { salesReport } from '../../src/projections/sales/salesQueries.js';
import { sqlQueryOn } from '../../src/infrastructure/postgres/database.js';
import {
  appendShopEvents,
  handOverEverythingAgain,
  openRunnerProcess,
  type RunnerProcess,
} from '../support/runnerFixture.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { TEST_ADDRESS } from '../support/shop.js';
import { waitFor } from '../support/waitFor.js';

describe('The sales projector', () => {
  let database: TestDatabase;
  let shop: RunnerProcess;
  const [kettle, mug] = [randomUUID(), randomUUID()];

  before(async () => {
    database = await createTestDatabase();
    shop = openRunnerProcess(database.connectionString);
  });

  after(async () => {
    await shop.close();
    await database.drop();
  });

  const placed = (orderId: string, placedAt: string): OrderEvent => ({
    type: 'OrderPlaced',
    data: {
      orderId,
      userId: 'shopper',
      items: [
        { productId: kettle, productName: 'Kettle', quantity: 2, unitPriceCents: 2500 },
        { productId: mug, productName: 'Mug', quantity: 1, unitPriceCents: 500 },
      ],
      totalCents: 5500,
      shippingAddress: { ...TEST_ADDRESS, line2: null },
      paymentMethod: { type: 'card', token: 'tok_visa' },
      idempotencyKey: randomUUID(),
      requestHash: 'f'.repeat(64),
      placedAt,
      expiresAt: placedAt,
    },
  });

  const append = (orderId: string, ...events: OrderEvent[]) => appendShopEvents(shop, orderId, ...events);

  it('counts a confirmed order on the day it was confirmed, and takes it back once cancelled', async () => {
    const [kept, cancelled, pending] = [randomUUID(), randomUUID(), randomUUID()];
    await append(
      kept,
      placed(kept, '2026-03-01T23:59:00.000Z'),
      { type: 'OrderConfirmed', data: { orderId: kept, at: '2026-03-02T00:00:01.000Z' } },
      { type: 'OrderShipped', data: { orderId: kept, at: '2026-03-03T10:00:00.000Z' } },
      { type: 'OrderDelivered', data: { orderId: kept, at: '2026-03-04T10:00:00.000Z' } },
    );
    await append(
      cancelled,
      placed(cancelled, '2026-03-02T10:00:00.000Z'),
      { type: 'OrderConfirmed', data: { orderId: cancelled, at: '2026-03-02T10:00:01.000Z' } },
      {
        type: 'OrderCancelled',
        data: { orderId: cancelled, reason: 'customer_cancelled', at: '2026-03-05T10:00:00.000Z' },
      },
    );
    const last = await append(pending, placed(pending, '2026-03-02T11:00:00.000Z'));
    const runner = shop.runner(salesProjector());
    runner.start();
    await waitFor(
      async () => (await shop.consumers.checkpoint('sales')) >= last,
      10_000,
      () => 'not caught up',
    );
    await runner.stop();

    const report = await salesReport(sqlQueryOn(shop.pool), '2026-03-01', '2026-03-31');
    expect(report.days).to.deep.equal([
      { date: '2026-03-02', productId: kettle, productName: 'Kettle', units: 2, revenueCents: 5000 },
      { date: '2026-03-02', productId: mug, productName: 'Mug', units: 1, revenueCents: 500 },
    ]);
    expect(report.ordersByStatus).to.deep.equal({
      PENDING: 1,
      CONFIRMED: 0,
      SHIPPED: 0,
      DELIVERED: 1,
      CANCELLED: 1,
    });
    expect((await salesReport(sqlQueryOn(shop.pool), '2026-03-02', '2026-03-02')).ordersByStatus).to.include({
      PENDING: 1,
      CANCELLED: 1,
      DELIVERED: 0,
    });

    // Handed over again, as after a crash: nothing is counted twice.
    await handOverEverythingAgain(shop, salesProjector());
    expect(await salesReport(sqlQueryOn(shop.pool), '2026-03-01', '2026-03-31')).to.deep.equal(report);
  });
});
