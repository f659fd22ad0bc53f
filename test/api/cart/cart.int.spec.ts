import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { expectProblem, fieldsOf, startTestShop, type TestShop } from '../../support/shop.js';
import { waitFor } from '../../support/waitFor.js';

interface CartBody {
  items: { productId: string; productName: string; quantity: number; unitPrice: string; lineTotal: string }[];
  itemCount: number;
  totalAmount: string;
  updatedAt: string | null;
}

describe('The cart over HTTP', () => {
  let shop: TestShop;
  let admin: string;

  before(async () => {
    shop = await startTestShop();
    admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
  });

  after(async () => {
    await shop.stop();
  });

  async function createProduct(name: string, price: string): Promise<string> {
    const response = await shop.call('/api/v1/products', {
      method: 'POST',
      token: admin,
      body: { name, price },
    });
    expect(response.status).to.equal(201);
    return ((await response.json()) as { id: string }).id;
  }

  const newCustomer = () => shop.tokenFor(`customer-${randomUUID()}`, ['customer']);

  const add = (token: string, productId: string, quantity: number, headers: Record<string, string> = {}) =>
    shop.call('/api/v1/cart/items', { method: 'POST', token, body: { productId, quantity }, headers });

  const cartOf = async (token: string): Promise<CartBody> =>
    (await (await shop.call('/api/v1/cart', { token })).json()) as CartBody;

  describe('GET /api/v1/cart', () => {
    it('answers an empty cart to a customer who never added anything', async () => {
      const response = await shop.call('/api/v1/cart', { token: await newCustomer() });
      expect(response.status).to.equal(200);
      expect(response.headers.get('etag')).to.equal('"-1"');
      expect(await response.json()).to.deep.equal({
        items: [],
        itemCount: 0,
        totalAmount: '0.00',
        updatedAt: null,
      });
    });

    it('answers 401 without a token and 403 to a caller without the customer role', async () => {
      await expectProblem(await shop.call('/api/v1/cart'), 401);
      await expectProblem(await shop.call('/api/v1/cart', { token: admin }), 403);
    });
  });

  describe('POST /api/v1/cart/items', () => {
    it('adds a line at the catalog price, and adds to it on a second call', async () => {
      const token = await newCustomer();
      const productId = await createProduct('Mug', '12.50');
      const first = await add(token, productId, 2);
      expect(first.status).to.equal(200);
      expect(first.headers.get('etag')).to.equal('"0"');
      expect(first.headers.get('x-event-position')).to.match(/^\d+$/);
      const second = await add(token, productId, 3);
      const cart = (await second.json()) as CartBody;
      expect(cart.items).to.deep.equal([
        { productId, productName: 'Mug', quantity: 5, unitPrice: '12.50', lineTotal: '62.50' },
      ]);
      expect(cart).to.include({ itemCount: 5, totalAmount: '62.50' });
      expect(cart.updatedAt).to.match(/^\d{4}-\d\d-\d\dT/);
    });

    it('keeps the price a line was added at when the catalog price changes', async () => {
      const token = await newCustomer();
      const productId = await createProduct('Teapot', '30.00');
      await add(token, productId, 1);
      const repriced = await shop.call(`/api/v1/products/${productId}`, {
        method: 'PATCH',
        token: admin,
        body: { price: '35.00' },
      });
      expect(repriced.status).to.equal(200);
      const cart = (await (await add(token, productId, 1)).json()) as CartBody;
      expect(cart.items[0]).to.include({ quantity: 2, unitPrice: '30.00', lineTotal: '60.00' });
    });

    it('answers 404 for an unknown or inactive product, and adds nothing', async () => {
      const token = await newCustomer();
      await expectProblem(await add(token, randomUUID(), 1), 404);
      const productId = await createProduct('Retired', '5.00');
      await shop.call(`/api/v1/products/${productId}`, {
        method: 'PATCH',
        token: admin,
        body: { active: false },
      });
      await expectProblem(await add(token, productId, 1), 404);
      expect((await cartOf(token)).items).to.deep.equal([]);
    });

    it('refuses quantities outside 1..50, also when adding would pass 50', async () => {
      const token = await newCustomer();
      const productId = await createProduct('Spoon', '1.00');
      for (const quantity of [0, 51, 2.5, '3', null]) {
        const problem = await expectProblem(await add(token, productId, quantity as number), 400);
        expect(fieldsOf(problem)).to.deep.equal(['quantity']);
      }
      expect((await add(token, productId, 40)).status).to.equal(200);
      const problem = await expectProblem(await add(token, productId, 11), 400);
      expect(fieldsOf(problem)).to.deep.equal(['quantity']);
      expect((await cartOf(token)).items[0]?.quantity).to.equal(40);
    });

    it('refuses a product id that is not a UUID, unknown fields and a missing body', async () => {
      const token = await newCustomer();
      const notAnId = await expectProblem(await add(token, 'abc', 1), 400);
      expect(fieldsOf(notAnId)).to.deep.equal(['productId']);
      const unknown = await expectProblem(
        await shop.call('/api/v1/cart/items', {
          method: 'POST',
          token,
          body: { productId: randomUUID(), quantity: 1, unitPrice: '0.01' },
        }),
        400,
      );
      expect(fieldsOf(unknown)).to.deep.equal(['unitPrice']);
      await expectProblem(await shop.call('/api/v1/cart/items', { method: 'POST', token }), 400);
    });

    it('answers 412 to a stale If-Match', async () => {
      const token = await newCustomer();
      const productId = await createProduct('Bowl', '8.00');
      await add(token, productId, 1);
      await add(token, productId, 1);
      await expectProblem(await add(token, productId, 1, { 'if-match': '"0"' }), 412);
      expect((await cartOf(token)).items[0]?.quantity).to.equal(2);
    });

    it('lands all of 20 concurrent additions by one customer', async () => {
      const token = await newCustomer();
      const products = await Promise.all(
        Array.from({ length: 10 }, (_, index) => createProduct(`Plate ${index}`, '2.00')),
      );
      const responses = await Promise.all(
        [...products, ...products].map((productId) => add(token, productId, 1)),
      );
      expect(responses.map((response) => response.status)).to.deep.equal(Array(20).fill(200));
      const cart = await cartOf(token);
      expect(cart.items).to.have.length(10);
      for (const line of cart.items) expect(line.quantity, line.productName).to.equal(2);
      expect(cart).to.include({ itemCount: 20, totalAmount: '40.00' });
    });

    it('shows each customer only their own cart', async () => {
      const shopper = await newCustomer();
      const otherShopper = await newCustomer();
      await add(shopper, await createProduct('Jug', '9.00'), 1);
      expect((await cartOf(otherShopper)).items).to.deep.equal([]);
    });
  });

  describe('PUT /api/v1/cart/items/{productId}', () => {
    it('sets the quantity, and removes the line at 0', async () => {
      const token = await newCustomer();
      const productId = await createProduct('Glass', '3.00');
      await add(token, productId, 1);
      const put = (quantity: number) =>
        shop.call(`/api/v1/cart/items/${productId}`, { method: 'PUT', token, body: { quantity } });
      const changed = (await (await put(7)).json()) as CartBody;
      expect(changed).to.include({ itemCount: 7, totalAmount: '21.00' });
      const removed = await put(0);
      expect(removed.status).to.equal(200);
      expect(((await removed.json()) as CartBody).items).to.deep.equal([]);
    });

    it('answers 404 for a line that is not in the cart and 400 for a quantity over 50', async () => {
      const token = await newCustomer();
      const productId = await createProduct('Fork', '1.50');
      await expectProblem(
        await shop.call(`/api/v1/cart/items/${productId}`, { method: 'PUT', token, body: { quantity: 2 } }),
        404,
      );
      await add(token, productId, 1);
      await expectProblem(
        await shop.call(`/api/v1/cart/items/${productId}`, { method: 'PUT', token, body: { quantity: 51 } }),
        400,
      );
    });
  });

  describe('DELETE /api/v1/cart/items/{productId} and DELETE /api/v1/cart', () => {
    it('removes one line, then answers 404 for it', async () => {
      const token = await newCustomer();
      const kept = await createProduct('Knife', '4.00');
      const removed = await createProduct('Cloth', '2.00');
      await add(token, kept, 1);
      await add(token, removed, 1);
      const response = await shop.call(`/api/v1/cart/items/${removed}`, { method: 'DELETE', token });
      expect(response.status).to.equal(200);
      expect(((await response.json()) as CartBody).items.map((line) => line.productId)).to.deep.equal([kept]);
      await expectProblem(await shop.call(`/api/v1/cart/items/${removed}`, { method: 'DELETE', token }), 404);
    });

    it('clears the cart with 204', async () => {
      const token = await newCustomer();
      await add(token, await createProduct('Tray', '6.00'), 2);
      const response = await shop.call('/api/v1/cart', { method: 'DELETE', token });
      expect(response.status).to.equal(204);
      expect(await cartOf(token)).to.include({ itemCount: 0, totalAmount: '0.00' });
    });

    it('reads its own write: a GET with the command’s X-Event-Position as X-Min-Position shows it', async () => {
      const token = await newCustomer();
      const added = await shop.call('/api/v1/cart/items', {
        method: 'POST',
        token,
        body: { productId: await createProduct('Mug', '3.00'), quantity: 2 },
      });
      const position = Number(added.headers.get('x-event-position'));
      const read = await shop.call('/api/v1/cart', {
        token,
        headers: { 'x-min-position': String(position) },
      });
      expect(Number(read.headers.get('x-projection-position'))).to.be.at.least(position);
      expect(await read.json()).to.include({ itemCount: 2, totalAmount: '6.00' });
    });

    it('clears a cart never used with 204 and position 0, writing nothing', async () => {
      const token = await newCustomer();
      const eventsBefore = await shop.eventCount();
      const response = await shop.call('/api/v1/cart', { method: 'DELETE', token });
      expect(response.status).to.equal(204);
      expect(response.headers.get('x-event-position')).to.equal('0');
      expect(await shop.eventCount()).to.equal(eventsBefore);
    });
  });

  describe('with a short time to live', () => {
    let quickShop: TestShop;

    before(async () => {
      quickShop = await startTestShop({ CART_TTL_MS: '300' });
    });

    after(async () => {
      await quickShop.stop();
    });

    it('shows a cart left alone past its time to live as empty, and starts afresh on the next add', async () => {
      const quickAdmin = await quickShop.tokenFor('admin', ['admin']);
      const token = await quickShop.tokenFor(`customer-${randomUUID()}`, ['customer']);
      const created = await quickShop.call('/api/v1/products', {
        method: 'POST',
        token: quickAdmin,
        body: { name: 'Candle', price: '5.00' },
      });
      const { id: productId } = (await created.json()) as { id: string };
      const addCandle = () =>
        quickShop.call('/api/v1/cart/items', { method: 'POST', token, body: { productId, quantity: 1 } });
      expect((await addCandle()).status).to.equal(200);
      const read = async () => (await (await quickShop.call('/api/v1/cart', { token })).json()) as CartBody;
      let seen: CartBody | undefined;
      await waitFor(
        async () => {
          seen = await read();
          return seen.itemCount === 0;
        },
        5_000,
        () => `the cart still holds ${JSON.stringify(seen)}`,
      );
      const cart = (await (await addCandle()).json()) as CartBody;
      expect(cart.items[0]?.quantity, 'the expired line is not added to').to.equal(1);
    });
  });
});
