import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { carts, orders } from '../../src/commands/aggregates.js';
import { addCartItem } from '../../src/commands/cart/cart.js';
import { createProduct } from '../../src/commands/catalog/product.js';
import type { CommandContext } from '../../src/commands/commandHandler.js';
import { completeCheckout, placeOrder } from '../../src/commands/order/order.js';
import type { StoredEvent } from '../../src/commands/storedEvents.js';
import type { CartCheckedOut } from '../../src/domain/cart/cart.js';
import { openPostgresCommands, type PostgresCommands } from '../support/postgresCommands.js';
import { TEST_ADDRESS } from '../support/shop.js';

describe('Placing an order while the completer sees its checkout', () => {
  let postgres: PostgresCommands;

  before(async () => {
    postgres = await openPostgresCommands();
  });

  after(async () => {
    await postgres.close();
  });

  /** What the completer does: wait for the checkout to be stored, then place its order. */
  async function completerOf(userId: string): Promise<void> {
    for (;;) {
      const { events } = await postgres.env.streams.read(carts.streamId(userId));
      const checkout = events.find((stored) => stored.event.type === 'CartCheckedOut');
      if (checkout)
        return void (await completeCheckout(postgres.env, checkout as StoredEvent<CartCheckedOut>));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('appends the same OrderPlaced, id and metadata, whichever path wins, 50 times out of 50', async () => {
    const admin: CommandContext = { actor: 'root', correlationId: randomUUID(), causationId: randomUUID() };
    const { productId } = await createProduct(
      postgres.env,
      { name: 'Kettle', priceCents: 2500, initialStock: 0 },
      admin,
    );
    for (let repetition = 0; repetition < 50; repetition += 1) {
      const userId = `shopper-${randomUUID()}`;
      const requestId = `request-${repetition}`;
      const context: CommandContext = {
        actor: userId,
        correlationId: requestId,
        causationId: requestId,
        requestId,
      };
      await addCartItem(postgres.env, { userId, productId, quantity: 1 }, context);
      const request = {
        idempotencyKey: `key-${repetition}`,
        requestHash: 'hash',
        shippingAddress: TEST_ADDRESS,
        paymentMethod: { type: 'card' as const, token: 'tok_visa' },
      };
      const [placed] = await Promise.all([
        placeOrder(postgres.env, { userId, request }, context),
        completerOf(userId),
      ]);

      const [checkout] = (await postgres.store.readStream(carts.streamId(userId))).filter(
        (event) => event.type === 'CartCheckedOut',
      );
      const stored = await postgres.store.readStream(orders.streamId(placed.orderId));
      expect(stored.map((event) => event.type)).to.deep.equal(['OrderPlaced']);
      const [orderPlaced] = stored;
      expect(orderPlaced?.metadata).to.deep.equal({
        actor: userId,
        correlationId: requestId,
        causationId: checkout?.id,
        requestId,
        schemaVersion: 1,
      });
    }
  });
});
