import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { addCartItem } from '../../src/commands/cart/cart.js';
import { createCategory } from '../../src/commands/catalog/category.js';
import { createProduct, updateProduct } from '../../src/commands/catalog/product.js';
import type { CommandContext } from '../../src/commands/commandHandler.js';
import { restock } from '../../src/commands/inventory/inventory.js';
import { cancelOrder, placeOrder, readOrder } from '../../src/commands/order/order.js';
import { NotFound } from '../../src/domain/shared/errors.js';
import { openPostgresCommands, type PostgresCommands } from '../support/postgresCommands.js';
import { TEST_ADDRESS } from '../support/shop.js';

const contextOf = (actor: string): CommandContext => ({
  actor,
  correlationId: randomUUID(),
  causationId: randomUUID(),
});
const admin = contextOf('root');

/** The rules that read another aggregate, called as the saga would call them: without HTTP. */
describe('Rules across aggregates, in the command modules', () => {
  let postgres: PostgresCommands;

  before(async () => {
    postgres = await openPostgresCommands();
  });

  after(async () => {
    await postgres.close();
  });

  const kettle = () =>
    createProduct(postgres.env, { name: 'Kettle', priceCents: 2500, initialStock: 5 }, admin);
  const refusal = (work: Promise<unknown>): Promise<unknown> =>
    work.then(
      () => undefined,
      (error: unknown) => error,
    );

  describe('a product in a category', () => {
    it('is created in a category that exists', async () => {
      const { categoryId } = await createCategory(postgres.env, 'Kitchen', admin);
      const created = await createProduct(
        postgres.env,
        { name: 'Kettle', priceCents: 2500, categoryId, initialStock: 0 },
        admin,
      );
      expect(created.revision).to.equal(0);
    });
  });

  describe('adding to a cart', () => {
    it('adds a product on sale at its catalog name and price', async () => {
      const { productId } = await kettle();
      const userId = `shopper-${randomUUID()}`;
      const { cart } = await addCartItem(postgres.env, { userId, productId, quantity: 2 }, contextOf(userId));
      expect(cart.items).to.deep.include({
        productId,
        productName: 'Kettle',
        quantity: 2,
        unitPriceCents: 2500,
        lineTotalCents: 5000,
      });
    });

    it('refuses a product that was deactivated, or never existed, as not found, appending nothing', async () => {
      const { productId } = await kettle();
      await updateProduct(postgres.env, { productId, changes: { active: false } }, admin);
      const userId = `shopper-${randomUUID()}`;
      for (const missing of [productId, randomUUID()]) {
        const error = await refusal(
          addCartItem(postgres.env, { userId, productId: missing, quantity: 1 }, contextOf(userId)),
        );
        expect(error).to.be.instanceOf(NotFound);
      }
      expect(await postgres.store.readStream(`cart-${userId}`)).to.deep.equal([]);
    });
  });

  describe('restocking', () => {
    it('refuses a product that does not exist, writing no stock for it', async () => {
      const productId = randomUUID();
      expect(await refusal(restock(postgres.env, { productId, quantity: 3 }, admin))).to.be.instanceOf(
        NotFound,
      );
      expect(await postgres.store.readStream(`inventory-${productId}`)).to.deep.equal([]);
    });

    it('adds up on a product that exists', async () => {
      const { productId } = await kettle();
      expect(await restock(postgres.env, { productId, quantity: 3 }, admin)).to.include({
        onHand: 8,
        available: 8,
      });
    });
  });

  describe('another customer’s order', () => {
    it('is not found for reading or cancelling, and an administrator sees it', async () => {
      const { productId } = await kettle();
      const owner = `shopper-${randomUUID()}`;
      await addCartItem(postgres.env, { userId: owner, productId, quantity: 1 }, contextOf(owner));
      const { orderId } = await placeOrder(
        postgres.env,
        {
          userId: owner,
          request: {
            idempotencyKey: 'first',
            requestHash: 'hash',
            shippingAddress: TEST_ADDRESS,
            paymentMethod: { type: 'card', token: 'tok_visa' },
          },
        },
        contextOf(owner),
      );
      const stranger = { userId: `shopper-${randomUUID()}`, isAdmin: false };
      expect(await refusal(readOrder(postgres.env, orderId, stranger))).to.be.instanceOf(NotFound);
      expect(
        await refusal(cancelOrder(postgres.env, { orderId, viewer: stranger }, contextOf(stranger.userId))),
      ).to.be.instanceOf(NotFound);
      const seen = await readOrder(postgres.env, orderId, { userId: 'root', isAdmin: true });
      expect(seen.order).to.include({ userId: owner, status: 'Pending' });
    });
  });
});
