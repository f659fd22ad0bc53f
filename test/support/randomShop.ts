import { randomInt, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ShopEvent } from '../../src/domain/shopEvents.js';
import { appendShopEvents, type RunnerProcess } from './runnerFixture.js';
import { TEST_ADDRESS } from './shop.js';

const AT = '2026-03-01T10:00:00.000Z';

/** Every table of the read models, each ordered by its key, without the copies a rebuild makes. */
export const READ_MODEL_TABLES: Record<string, string> = {
  'catalog.products': 'id',
  'catalog.stock': 'product_id',
  'catalog.categories': 'id',
  'orders.orders': 'id',
  'orders.payments': 'order_id',
  'sales.orders': 'id',
  'sales.daily': 'day, product_id',
};

/**
 * Every row of the read models' tables (or of those in `schemas`), each table ordered by its key:
 * two dumps are equal when the tables hold the same rows.
 */
export async function dumpReadModels(
  pool: pg.Pool,
  schemas?: readonly string[],
): Promise<Record<string, unknown[]>> {
  const dumped: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(READ_MODEL_TABLES)) {
    if (schemas && !schemas.includes(table.split('.')[0] as string)) continue;
    dumped[table] = (await pool.query(`SELECT * FROM ${table} ORDER BY ${key}`)).rows;
  }
  return dumped;
}

/** About `count` events of a shop's life: products changing, stock moving, orders taking their course. */
export async function appendRandomShop(shop: RunnerProcess, count: number): Promise<void> {
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
