import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { expectProblem, fieldsOf, startTestShop, type TestShop } from '../support/shop.js';

/** Hex in the 8-4-4-4-12 layout, but with a version digit of 0 and a variant digit of c. */
const UNUSUAL_UUID = '12345678-9abc-0def-c123-456789abcdef';

describe('Ids in paths and bodies', () => {
  let shop: TestShop;
  let admin: string;
  let shopper: string;
  let productId: string;

  before(async () => {
    shop = await startTestShop();
    admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    shopper = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
    const created = await shop.call('/api/v1/products', {
      method: 'POST',
      token: admin,
      body: { name: 'Kettle', price: '25.00', initialStock: 10 },
    });
    ({ id: productId } = (await created.json()) as { id: string });
  });

  after(async () => {
    await shop.stop();
  });

  it('takes an id with an unusual version and variant as an unknown one, in a path and in a body alike', async () => {
    await expectProblem(await shop.call(`/api/v1/products/${UNUSUAL_UUID}`), 404);
    await expectProblem(
      await shop.call('/api/v1/cart/items', {
        method: 'POST',
        token: shopper,
        body: { productId: UNUSUAL_UUID, quantity: 1 },
      }),
      404,
    );
    const problem = await expectProblem(
      await shop.call('/api/v1/products', {
        method: 'POST',
        token: admin,
        body: { name: 'Cup', price: '2.00', categoryId: UNUSUAL_UUID },
      }),
      400,
    );
    expect(problem.errors).to.deep.equal([{ field: 'categoryId', message: 'no category has this id' }]);
  });

  it('takes ids in capitals, and stores and answers them lowercased', async () => {
    const category = await shop.call('/api/v1/categories', {
      method: 'POST',
      token: admin,
      body: { name: 'Kitchen' },
    });
    const { id: categoryId } = (await category.json()) as { id: string };
    const created = await shop.call('/api/v1/products', {
      method: 'POST',
      token: admin,
      body: { name: 'Cup', price: '2.00', categoryId: categoryId.toUpperCase() },
    });
    expect(created.status, await created.clone().text()).to.equal(201);
    const { id } = (await created.json()) as { id: string };
    const product = (await (await shop.call(`/api/v1/products/${id.toUpperCase()}`)).json()) as {
      categoryId: string;
    };
    expect(product.categoryId).to.equal(categoryId);

    const added = await shop.call('/api/v1/cart/items', {
      method: 'POST',
      token: shopper,
      body: { productId: productId.toUpperCase(), quantity: 1 },
    });
    expect(added.status).to.equal(200);
    const cart = (await added.json()) as { items: { productId: string }[] };
    expect(cart.items.map((line) => line.productId)).to.deep.equal([productId]);
  });

  it('refuses a body id left out, naming the field', async () => {
    const problem = await expectProblem(
      await shop.call('/api/v1/cart/items', { method: 'POST', token: shopper, body: { quantity: 1 } }),
      400,
    );
    expect(fieldsOf(problem)).to.deep.equal(['productId']);
  });

  it('refuses a body id that is not one, naming the field', async () => {
    for (const productIdText of ['not-a-uuid', `${productId}0`, productId.replaceAll('-', ''), 42, null]) {
      const problem = await expectProblem(
        await shop.call('/api/v1/cart/items', {
          method: 'POST',
          token: shopper,
          body: { productId: productIdText, quantity: 1 },
        }),
        400,
      );
      expect(fieldsOf(problem)).to.deep.equal(['productId']);
    }
  });
});
