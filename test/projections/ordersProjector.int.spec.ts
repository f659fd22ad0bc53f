import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { ShopEvent } from '../../src/domain/shopEvents.js';
import { ordersProjector } from '../../src/projections/orders/ordersProjector.js';
import {
  appendShopEvents,
  handOverEverythingAgain,
  openRunnerProcess,
  type RunnerProcess,
} from '../support/runnerFixture.js';
import { dumpReadModels } from '../support/randomShop.js';
import { TEST_ADDRESS } from '../support/shop.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { waitFor } from '../support/waitFor.js';

const AT = '2026-03-01T10:00:00.000Z';
const at = (minutes: number): string => new Date(Date.parse(AT) + minutes * 60_000).toISOString();

describe('The orders projector', () => {
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

  const placed = (orderId: string): ShopEvent => ({
    type: 'OrderPlaced',
    data: {
      orderId,
      userId: 'shopper',
      items: [{ productId: randomUUID(), productName: 'Kettle', quantity: 2, unitPriceCents: 2500 }],
      totalCents: 5000,
      shippingAddress: { ...TEST_ADDRESS, line2: null },
      paymentMethod: { type: 'card', token: 'tok_visa' },
      idempotencyKey: orderId,
      requestHash: 'f'.repeat(64),
      placedAt: AT,
      expiresAt: at(30),
    },
  });

  const row = async (orderId: string) =>
    (
      await shop.pool.query<{ status: string; revision: string; state: Record<string, unknown> }>(
        'SELECT status, revision, state FROM orders.orders WHERE id = $1',
        [orderId],
      )
    ).rows[0];

  const payment = async (orderId: string) =>
    (
      await shop.pool.query<{ revision: string; state: Record<string, unknown> }>(
        'SELECT revision, state FROM orders.payments WHERE order_id = $1',
        [orderId],
      )
    ).rows[0];

  it('folds every order and payment event type into the order and its payment', async () => {
    const [delivered, refunded, declined, failed] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await append(
      delivered,
      placed(delivered),
      {
        type: 'PaymentRequested',
        data: { orderId: delivered, userId: 'shopper', amountCents: 5000, token: 'tok_visa', at: at(1) },
      },
      {
        type: 'PaymentAttemptFailed',
        data: { orderId: delivered, attempt: 1, reason: 'unavailable', at: at(2) },
      },
      {
        type: 'PaymentCaptured',
        data: { orderId: delivered, amountCents: 5000, providerReference: 'ch_1', at: at(3) },
      },
      { type: 'OrderConfirmed', data: { orderId: delivered, at: at(4) } },
      { type: 'OrderShipped', data: { orderId: delivered, at: at(5) } },
      { type: 'OrderDelivered', data: { orderId: delivered, at: at(6) } },
    );
    await append(
      refunded,
      placed(refunded),
      {
        type: 'PaymentRequested',
        data: { orderId: refunded, userId: 'shopper', amountCents: 5000, token: 'tok_visa', at: at(1) },
      },
      {
        type: 'PaymentCaptured',
        data: { orderId: refunded, amountCents: 5000, providerReference: 'ch_2', at: at(2) },
      },
      { type: 'OrderConfirmed', data: { orderId: refunded, at: at(3) } },
      { type: 'OrderCancelled', data: { orderId: refunded, reason: 'customer_cancelled', at: at(4) } },
      {
        type: 'PaymentRefunded',
        data: { orderId: refunded, amountCents: 5000, refundedCents: 5000, at: at(5) },
      },
    );
    await append(
      declined,
      placed(declined),
      {
        type: 'PaymentRequested',
        data: { orderId: declined, userId: 'shopper', amountCents: 5000, token: 'tok_declined', at: at(1) },
      },
      { type: 'PaymentDeclined', data: { orderId: declined, reason: 'card_declined', at: at(2) } },
      { type: 'OrderCancelled', data: { orderId: declined, reason: 'payment_declined', at: at(3) } },
    );
    const last = await append(
      failed,
      placed(failed),
      {
        type: 'PaymentRequested',
        data: { orderId: failed, userId: 'shopper', amountCents: 5000, token: 'tok_error', at: at(1) },
      },
      { type: 'PaymentFailed', data: { orderId: failed, reason: 'unavailable', at: at(2) } },
      { type: 'OrderCancelled', data: { orderId: failed, reason: 'payment_failed', at: at(3) } },
    );
    const runner = shop.runner(ordersProjector());
    runner.start();
    await waitFor(
      async () => (await shop.consumers.checkpoint('orders')) >= last,
      10_000,
      () => 'not caught up',
    );
    await runner.stop();

    expect(await row(delivered)).to.deep.include({ status: 'DELIVERED', revision: '3' });
    expect((await row(delivered))?.state).to.deep.include({
      status: 'Delivered',
      updatedAt: at(6),
      totalCents: 5000,
    });
    expect((await payment(delivered))?.state).to.deep.include({
      status: 'Captured',
      providerReference: 'ch_1',
    });
    expect(await row(refunded)).to.deep.include({ status: 'CANCELLED' });
    expect((await row(refunded))?.state).to.deep.include({ cancellationReason: 'customer_cancelled' });
    expect((await payment(refunded))?.state).to.deep.include({ status: 'Refunded', refundedCents: 5000 });
    expect((await payment(declined))?.state).to.deep.include({ status: 'Declined', reason: 'card_declined' });
    expect((await row(declined))?.state).to.deep.include({ cancellationReason: 'payment_declined' });
    expect((await payment(failed))?.state).to.deep.include({ status: 'Failed', reason: 'unavailable' });
    expect(await payment(failed)).to.deep.include({ revision: '1' });

    const before = await dumpReadModels(shop.pool, ['orders']);
    await handOverEverythingAgain(shop, ordersProjector());
    expect(await dumpReadModels(shop.pool, ['orders'])).to.deep.equal(before);
  });
});
