import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ERASED } from '../../../src/domain/personalData.js';
import { PersonalDataVault } from '../../../src/infrastructure/personalData/personalDataVault.js';
import { openCommandsOn, type PostgresCommands } from '../../support/postgresCommands.js';
import {
  expectProblem,
  fieldsOf,
  orderKettles,
  startTestShop,
  TEST_ADDRESS,
  type TestShop,
} from '../../support/shop.js';
import { waitFor } from '../../support/waitFor.js';

interface ListedOrder {
  id: string;
  userId: string;
  status: string;
  shippingAddress: unknown;
  payment: { status: string };
  createdAt: string;
}

interface OrderPage {
  items: ListedOrder[];
  page: number;
  size: number;
  totalItems: number;
  totalPages: number;
}

describe('Listing orders over HTTP', () => {
  let shop: TestShop;
  let database: PostgresCommands;
  let admin: string;

  /** A customer with their token and the orders they placed, the newest last. */
  interface Customer {
    userId: string;
    token: string;
    orders: string[];
    /** The position of their last order: lists ask for it with X-Min-Position. */
    position: string;
  }

  async function customerWithOrders(count: number, cardToken = 'tok_visa'): Promise<Customer> {
    const userId = `shopper-${randomUUID()}`;
    const token = await shop.tokenFor(userId, ['customer']);
    const customer: Customer = { userId, token, orders: [], position: '0' };
    for (let index = 0; index < count; index += 1) {
      customer.orders.push(await orderKettles(shop, { admin, shopper: token }, 1, {}, cardToken));
    }
    const [last] = await database.store.readStream(`order-${customer.orders.at(-1) ?? ''}`);
    customer.position = String(last?.position ?? 0);
    return customer;
  }

  async function list(token: string, query = '', position = '0'): Promise<OrderPage> {
    const response = await shop.call(`/api/v1/orders${query ? `?${query}` : ''}`, {
      token,
      headers: { 'x-min-position': position },
    });
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(response.headers.get('cache-control')).to.equal('no-store');
    return (await response.json()) as OrderPage;
  }

  const ids = (page: OrderPage) => page.items.map((order) => order.id);

  before(async () => {
    // tok_error with a long retry delay holds every order PENDING while the spec looks at them.
    shop = await startTestShop({ PAYMENT_RETRY_DELAY_MS: '600000' });
    database = openCommandsOn(shop.connectionString);
    admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
  });

  after(async () => {
    await database.close();
    await shop.stop();
  });

  it('shows a customer their own orders only, newest first, as GET /orders/{id} shows each', async () => {
    const alice = await customerWithOrders(3, 'tok_error');
    const bob = await customerWithOrders(1, 'tok_error');
    const page = await list(alice.token, '', bob.position);
    expect(ids(page)).to.deep.equal([...alice.orders].reverse());
    expect(page).to.deep.include({ page: 0, size: 20, totalItems: 3, totalPages: 1 });
    const single = await shop.call(`/api/v1/orders/${alice.orders[0] ?? ''}`, { token: alice.token });
    expect(page.items.at(-1)).to.deep.equal(await single.json());
    expect(page.items.at(-1)?.shippingAddress).to.deep.include(TEST_ADDRESS);
  });

  it('filters by status, and pages', async () => {
    const carol = await customerWithOrders(3, 'tok_error');
    const [first] = carol.orders;
    const cancelled = await shop.call(`/api/v1/orders/${first ?? ''}/cancel`, {
      method: 'POST',
      token: carol.token,
    });
    expect(cancelled.status).to.equal(202);
    const position = cancelled.headers.get('x-event-position') ?? '0';
    expect(ids(await list(carol.token, 'status=CANCELLED', position))).to.deep.equal([first]);
    expect(ids(await list(carol.token, 'status=PENDING', position))).to.deep.equal(
      carol.orders.slice(1).reverse(),
    );
    const second = await list(carol.token, 'size=2&page=1', position);
    expect(second).to.deep.include({ page: 1, size: 2, totalItems: 3, totalPages: 2 });
    expect(ids(second)).to.deep.equal([first]);
  });

  it('shows an administrator everyone’s orders, or one customer’s with userId', async () => {
    const dave = await customerWithOrders(2, 'tok_error');
    const everyone = await list(admin, 'size=100', dave.position);
    expect(ids(everyone).slice(0, 2)).to.deep.equal([...dave.orders].reverse());
    expect(everyone.totalItems).to.be.at.least(2);
    expect(ids(await list(admin, `userId=${dave.userId}`, dave.position))).to.deep.equal(
      [...dave.orders].reverse(),
    );
    expect((await list(admin, 'userId=nobody-at-all')).items).to.deep.equal([]);
  });

  it('shows a forgotten customer’s orders with the address erased', async () => {
    const erin = await customerWithOrders(1, 'tok_error');
    await new PersonalDataVault(database.pool).forget(erin.userId);
    await waitFor(
      async () =>
        (await list(admin, `userId=${erin.userId}`, erin.position)).items[0]?.shippingAddress === ERASED,
      5_000,
      () => 'the list still shows the address',
    );
  });

  describe('refusing', () => {
    let customer: string;
    before(async () => {
      customer = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
    });

    const refused: [string, string][] = [
      ['size=101', 'size'],
      ['page=-1', 'page'],
      ['status=OPEN', 'status'],
      ['status=pending', 'status'],
      ['sort=newest', 'sort'],
      ['userId=someone-else', 'userId'],
    ];
    for (const [query, field] of refused) {
      it(`answers a customer’s ${query} with 400 naming ${field}`, async () => {
        const problem = await expectProblem(
          await shop.call(`/api/v1/orders?${query}`, { token: customer }),
          400,
        );
        expect(fieldsOf(problem)).to.deep.equal([field]);
      });
    }

    it('answers an administrator’s userId that cannot be a user with 400', async () => {
      const problem = await expectProblem(
        await shop.call(`/api/v1/orders?userId=${encodeURIComponent('a b/c')}`, { token: admin }),
        400,
      );
      expect(fieldsOf(problem)).to.deep.equal(['userId']);
    });

    it('answers 401 without a token and 403 to an analyst', async () => {
      await expectProblem(await shop.call('/api/v1/orders'), 401);
      const analyst = await shop.tokenFor(`analyst-${randomUUID()}`, ['analyst']);
      await expectProblem(await shop.call('/api/v1/orders', { token: analyst }), 403);
    });
  });
});
