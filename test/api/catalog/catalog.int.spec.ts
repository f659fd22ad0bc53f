import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { lockCheckpoint } from '../../../src/infrastructure/postgres/postgresConsumerStore.js';
import { appendShopEvents, openRunnerProcess } from '../../support/runnerFixture.js';
import { expectProblem, fieldsOf, startTestShop, type TestShop } from '../../support/shop.js';
import { waitFor } from '../../support/waitFor.js';

describe('Catalog and inventory over HTTP', () => {
  let shop: TestShop;
  let admin: string;
  let customer: string;

  before(async () => {
    shop = await startTestShop();
    admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    customer = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
  });

  after(async () => {
    await shop.stop();
  });

  async function createProduct(body: Record<string, unknown> = {}): Promise<string> {
    const response = await shop.call('/api/v1/products', {
      method: 'POST',
      token: admin,
      body: { name: 'Espresso cup', price: '12.50', ...body },
    });
    expect(response.status, await response.clone().text()).to.equal(201);
    return ((await response.json()) as { id: string }).id;
  }

  const product = async (id: string) =>
    (await (await shop.call(`/api/v1/products/${id}`)).json()) as Record<string, unknown>;

  describe('POST /api/v1/categories', () => {
    it('creates a category for an admin, answering its id', async () => {
      const response = await shop.call('/api/v1/categories', {
        method: 'POST',
        token: admin,
        body: { name: 'Kitchen' },
      });
      expect(response.status).to.equal(201);
      const { id } = (await response.json()) as { id: string };
      expect(id).to.match(/^[0-9a-f-]{36}$/);
      expect(response.headers.get('x-event-position')).to.match(/^\d+$/);
    });

    it('answers 401 with a Bearer challenge without a token', async () => {
      const response = await shop.call('/api/v1/categories', { method: 'POST', body: { name: 'Kitchen' } });
      await expectProblem(response, 401);
      expect(response.headers.get('www-authenticate')).to.match(/^Bearer/);
    });

    it('answers 403 to a customer', async () => {
      await expectProblem(
        await shop.call('/api/v1/categories', { method: 'POST', token: customer, body: { name: 'Kitchen' } }),
        403,
      );
    });

    it('refuses a blank name and unknown fields, naming them', async () => {
      const problem = await expectProblem(
        await shop.call('/api/v1/categories', {
          method: 'POST',
          token: admin,
          body: { name: '   ', colour: 'red' },
        }),
        400,
      );
      expect(fieldsOf(problem)).to.have.members(['name', 'colour']);
      const blank = await expectProblem(
        await shop.call('/api/v1/categories', { method: 'POST', token: admin, body: { name: '   ' } }),
        400,
      );
      expect(fieldsOf(blank)).to.deep.equal(['name']);
    });
  });

  describe('POST /api/v1/products', () => {
    it('creates a product that GET answers with its price, stock and ETag', async () => {
      const category = (await (
        await shop.call('/api/v1/categories', { method: 'POST', token: admin, body: { name: 'Cups' } })
      ).json()) as { id: string };
      const response = await shop.call('/api/v1/products', {
        method: 'POST',
        token: admin,
        body: {
          name: 'Tea cup',
          description: 'Porcelain',
          price: 7.5,
          categoryId: category.id,
          imageUrl: 'https://img.example/cup.png',
          initialStock: 12,
        },
      });
      expect(response.status).to.equal(201);
      const { id } = (await response.json()) as { id: string };
      expect(response.headers.get('location')).to.equal(`/api/v1/products/${id}`);

      const read = await shop.call(`/api/v1/products/${id}`);
      expect(read.status).to.equal(200);
      expect(read.headers.get('etag')).to.equal('"0"');
      const body = (await read.json()) as Record<string, unknown>;
      expect(body).to.deep.include({
        id,
        name: 'Tea cup',
        description: 'Porcelain',
        price: '7.50',
        categoryId: category.id,
        imageUrl: 'https://img.example/cup.png',
        active: true,
        availableQuantity: 12,
      });
      expect(body.createdAt).to.match(/^\d{4}-\d\d-\d\dT/);
    });

    it('refuses a price with three decimals, zero, negative or not a number', async () => {
      for (const price of ['12.345', 12.345, 0, '-1.00', 'abc', '1e3', null]) {
        const problem = await expectProblem(
          await shop.call('/api/v1/products', { method: 'POST', token: admin, body: { name: 'Cup', price } }),
          400,
        );
        expect(fieldsOf(problem), `price ${String(price)}`).to.deep.equal(['price']);
      }
    });

    it('refuses a name over 255 characters, an out-of-range initial stock and an unknown category', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ name: 'x'.repeat(256) }, 'name'],
        [{ initialStock: 1_000_001 }, 'initialStock'],
        [{ initialStock: 2.5 }, 'initialStock'],
        [{ categoryId: randomUUID() }, 'categoryId'],
        [{ imageUrl: 'javascript:alert(1)' }, 'imageUrl'],
      ];
      for (const [change, field] of cases) {
        const problem = await expectProblem(
          await shop.call('/api/v1/products', {
            method: 'POST',
            token: admin,
            body: { name: 'Cup', price: '1.00', ...change },
          }),
          400,
        );
        expect(fieldsOf(problem)).to.deep.equal([field]);
      }
    });

    it('refuses null for fields that may only be left out, creating nothing', async () => {
      const eventsBefore = await shop.eventCount();
      for (const field of ['description', 'categoryId', 'imageUrl', 'initialStock']) {
        const problem = await expectProblem(
          await shop.call('/api/v1/products', {
            method: 'POST',
            token: admin,
            body: { name: 'Cup', price: '1.00', [field]: null },
          }),
          400,
        );
        expect(fieldsOf(problem)).to.deep.equal([field]);
      }
      expect(await shop.eventCount()).to.equal(eventsBefore);
    });

    it('answers malformed JSON 400, a form body 415 and a 200 kB body 413, creating nothing', async () => {
      const eventsBefore = await shop.eventCount();
      await expectProblem(
        await shop.call('/api/v1/products', { method: 'POST', token: admin, body: '{"name":' }),
        400,
      );
      await expectProblem(
        await shop.call('/api/v1/products', {
          method: 'POST',
          token: admin,
          body: 'name=cup',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
      );
      await expectProblem(
        await shop.call('/api/v1/products', {
          method: 'POST',
          token: admin,
          body: { name: 'Cup', price: '1.00', description: 'x'.repeat(200_000) },
        }),
        413,
      );
      expect(await shop.eventCount()).to.equal(eventsBefore);
    });
  });

  describe('GET /api/v1/products/{id}', () => {
    it('answers 404 for an unknown id and for something that is not an id', async () => {
      await expectProblem(await shop.call(`/api/v1/products/${randomUUID()}`), 404);
      await expectProblem(await shop.call('/api/v1/products/not-a-uuid'), 404);
    });

    it('answers from the catalog a product another instance wrote, once X-Min-Position is reached', async () => {
      const elsewhere = openRunnerProcess(shop.connectionString);
      try {
        const id = randomUUID();
        const position = await appendShopEvents(
          elsewhere,
          id,
          {
            type: 'ProductCreated',
            data: {
              productId: id,
              name: 'Written elsewhere',
              description: null,
              priceCents: 990,
              categoryId: null,
              imageUrl: null,
              createdAt: '2026-03-01T10:00:00.000Z',
            },
          },
          { type: 'StockRestocked', data: { productId: id, quantity: 4, at: '2026-03-01T10:00:00.000Z' } },
        );
        const response = await shop.call(`/api/v1/products/${id}`, {
          headers: { 'x-min-position': String(position) },
        });
        expect(response.status).to.equal(200);
        expect(Number(response.headers.get('x-projection-position'))).to.be.at.least(position);
        expect(response.headers.get('etag')).to.equal('"0"');
        expect(await response.json()).to.deep.include({
          name: 'Written elsewhere',
          price: '9.90',
          availableQuantity: 4,
        });
      } finally {
        await elsewhere.close();
      }
    });

    it('answers this instance’s own write without X-Min-Position, even while the catalog is held back', async () => {
      const id = await createProduct({ name: 'Before the change' });
      const lock = new pg.Client({ connectionString: shop.connectionString });
      await lock.connect();
      try {
        // The catalog's projector takes this lock for every batch: it applies nothing while held.
        await lock.query('BEGIN');
        await lock.query(`SELECT ${lockCheckpoint("'catalog'")}`);
        const changed = await shop.call(`/api/v1/products/${id}`, {
          method: 'PATCH',
          token: admin,
          body: { name: 'After the change' },
        });
        expect(changed.status).to.equal(200);
        const written = Number(changed.headers.get('x-event-position'));
        // In capitals: the same product, and the same write to wait for.
        const reading = shop.call(`/api/v1/products/${id.toUpperCase()}`);
        const waitingForLock = async (): Promise<boolean> => {
          const { rowCount } = await lock.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%shop-checkpoint:%'`,
          );
          return (rowCount ?? 0) > 0;
        };
        await waitFor(waitingForLock, 10_000, () => 'the projector never came to the lock');
        await lock.query('COMMIT');
        const read = await reading;
        expect(Number(read.headers.get('x-projection-position'))).to.be.at.least(written);
        expect(await read.json()).to.deep.include({ name: 'After the change' });
      } finally {
        await lock.end();
      }
    });
  });

  describe('PATCH /api/v1/products/{id}', () => {
    it('renames, reprices and deactivates, answering the product and its new revision', async () => {
      const id = await createProduct();
      const response = await shop.call(`/api/v1/products/${id}`, {
        method: 'PATCH',
        token: admin,
        headers: { 'if-match': '"0"' },
        body: { name: 'Big espresso cup', price: '13', active: false },
      });
      expect(response.status).to.equal(200);
      expect(response.headers.get('etag')).to.equal('"3"');
      expect(await response.json()).to.deep.include({
        name: 'Big espresso cup',
        price: '13.00',
        active: false,
      });
      expect(await product(id)).to.deep.include({ active: false, price: '13.00' });
    });

    it('answers 412 when If-Match names a stale revision, and changes nothing', async () => {
      const id = await createProduct();
      await shop.call(`/api/v1/products/${id}`, { method: 'PATCH', token: admin, body: { price: '20.00' } });
      await expectProblem(
        await shop.call(`/api/v1/products/${id}`, {
          method: 'PATCH',
          token: admin,
          headers: { 'if-match': '"0"' },
          body: { name: 'Stale rename' },
        }),
        412,
      );
      expect(await product(id)).to.deep.include({ name: 'Espresso cup', price: '20.00' });
    });

    it('refuses null for the name, price and active flag, changing nothing; null clears a description', async () => {
      const id = await createProduct({ description: 'Holds 60 ml' });
      for (const field of ['name', 'price', 'active']) {
        const problem = await expectProblem(
          await shop.call(`/api/v1/products/${id}`, {
            method: 'PATCH',
            token: admin,
            body: { [field]: null },
          }),
          400,
        );
        expect(fieldsOf(problem)).to.deep.equal([field]);
      }
      expect(await product(id)).to.deep.include({ name: 'Espresso cup', price: '12.50', active: true });

      const cleared = await shop.call(`/api/v1/products/${id}`, {
        method: 'PATCH',
        token: admin,
        body: { description: null },
      });
      expect(cleared.status).to.equal(200);
      expect(await product(id)).to.include({ description: null });
    });

    it('answers 409 to deactivating a product twice', async () => {
      const id = await createProduct();
      const deactivate = () =>
        shop.call(`/api/v1/products/${id}`, { method: 'PATCH', token: admin, body: { active: false } });
      expect((await deactivate()).status).to.equal(200);
      await expectProblem(await deactivate(), 409);
    });

    it('answers 400 to an empty change, 404 to an unknown product and 403 to a customer', async () => {
      const id = await createProduct();
      await expectProblem(
        await shop.call(`/api/v1/products/${id}`, { method: 'PATCH', token: admin, body: {} }),
        400,
      );
      await expectProblem(
        await shop.call(`/api/v1/products/${randomUUID()}`, {
          method: 'PATCH',
          token: admin,
          body: { name: 'Ghost' },
        }),
        404,
      );
      await expectProblem(
        await shop.call(`/api/v1/products/${id}`, {
          method: 'PATCH',
          token: customer,
          body: { name: 'Mine' },
        }),
        403,
      );
    });
  });

  describe('inventory', () => {
    it('restocks and reads the stock of a product', async () => {
      const id = await createProduct({ initialStock: 3 });
      const response = await shop.call(`/api/v1/inventory/${id}/restock`, {
        method: 'POST',
        token: admin,
        body: { quantity: 7 },
      });
      expect(response.status).to.equal(200);
      expect(response.headers.get('x-event-position')).to.match(/^\d+$/);
      expect(await response.json()).to.deep.equal({ productId: id, onHand: 10, reserved: 0, available: 10 });

      const read = await shop.call(`/api/v1/inventory/${id}`, { token: admin });
      expect(read.headers.get('etag')).to.equal('"1"');
      expect(await read.json()).to.deep.equal({ productId: id, onHand: 10, reserved: 0, available: 10 });
      expect(await product(id)).to.deep.include({ availableQuantity: 10 });
    });

    it('refuses quantities outside 1..1000000 and unknown products', async () => {
      const id = await createProduct();
      for (const quantity of [0, -1, 1_000_001, 1.5, '3']) {
        await expectProblem(
          await shop.call(`/api/v1/inventory/${id}/restock`, {
            method: 'POST',
            token: admin,
            body: { quantity },
          }),
          400,
        );
      }
      await expectProblem(
        await shop.call(`/api/v1/inventory/${randomUUID()}/restock`, {
          method: 'POST',
          token: admin,
          body: { quantity: 1 },
        }),
        404,
      );
    });

    it('restocks under If-Match, answering 412 to a stale revision and adding nothing', async () => {
      const id = await createProduct({ initialStock: 3 });
      const restock = (revision: string) =>
        shop.call(`/api/v1/inventory/${id}/restock`, {
          method: 'POST',
          token: admin,
          headers: { 'if-match': revision },
          body: { quantity: 2 },
        });
      const current =
        (await shop.call(`/api/v1/inventory/${id}`, { token: admin })).headers.get('etag') ?? '';
      const accepted = await restock(current);
      expect(accepted.status).to.equal(200);
      expect(accepted.headers.get('etag')).to.not.equal(current);
      await expectProblem(await restock(current), 412);
      const read = await shop.call(`/api/v1/inventory/${id}`, { token: admin });
      expect(await read.json()).to.deep.include({ onHand: 5, available: 5 });
    });

    it('keeps stock figures from customers', async () => {
      const id = await createProduct();
      await expectProblem(await shop.call(`/api/v1/inventory/${id}`, { token: customer }), 403);
      await expectProblem(
        await shop.call(`/api/v1/inventory/${id}/restock`, {
          method: 'POST',
          token: customer,
          body: { quantity: 1 },
        }),
        403,
      );
    });
  });
});
