import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { expectProblem, fieldsOf, orderKettles, startTestShop, type TestShop } from '../support/shop.js';
import { waitFor } from '../support/waitFor.js';

interface Report {
  days: { date: string; productId: string; productName: string; units: number; revenue: string }[];
  ordersByStatus: Record<string, number>;
}

describe('Sales analytics over HTTP', () => {
  let shop: TestShop;
  let analyst: string;

  before(async () => {
    shop = await startTestShop();
    analyst = await shop.tokenFor(`analyst-${randomUUID()}`, ['analyst']);
  });

  after(async () => {
    await shop.stop();
  });

  async function report(query: string, headers: Record<string, string> = {}): Promise<Report> {
    const response = await shop.call(`/api/v1/analytics/sales?${query}`, { token: analyst, headers });
    expect(response.status, await response.clone().text()).to.equal(200);
    return (await response.json()) as Report;
  }

  it('reports a confirmed checkout’s units and revenue on the day, and the orders by status', async () => {
    const admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    const shopper = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
    const orderId = await orderKettles(shop, { admin, shopper }, 3);
    let confirmedAt = '0';
    let day = '';
    await waitFor(
      async () => {
        const response = await shop.call(`/api/v1/orders/${orderId}`, { token: shopper });
        const order = (await response.json()) as { status: string; updatedAt: string };
        confirmedAt = response.headers.get('x-projection-position') ?? '0';
        day = order.updatedAt.slice(0, 10);
        return order.status === 'CONFIRMED';
      },
      10_000,
      () => 'the order was never confirmed',
    );
    const { days, ordersByStatus } = await report(`from=${day}&to=${day}`, { 'x-min-position': confirmedAt });
    const kettles = days.filter((sold) => sold.productName === 'Kettle');
    expect(kettles.map(({ date, units, revenue }) => ({ date, units, revenue }))).to.deep.equal([
      { date: day, units: 3, revenue: '75.00' },
    ]);
    expect(ordersByStatus).to.have.keys(['PENDING', 'CONFIRMED', 'CANCELLED', 'SHIPPED', 'DELIVERED']);
    expect(ordersByStatus.CONFIRMED).to.equal(1);
  });

  it('takes a range of a leap year’s 366 days, both ends included', async () => {
    const { days } = await report('from=2028-01-01&to=2028-12-31');
    expect(days).to.deep.equal([]);
    expect((await report('from=2028-02-29&to=2028-02-29')).days).to.deep.equal([]);
  });

  const refused: [string, string][] = [
    ['to=2026-03-01', 'from'],
    ['from=2026-03-01', 'to'],
    ['from=2026-02-30&to=2026-03-01', 'from'],
    ['from=2027-02-29&to=2027-03-01', 'from'],
    ['from=2026-13-01&to=2026-12-31', 'from'],
    ['from=2026-04-01&to=2026-04-31', 'to'],
    ['from=2026-3-1&to=2026-03-01', 'from'],
    ['from=2026-03-02&to=2026-03-01', 'to'],
    ['from=2026-01-01&to=2027-01-02', 'to'],
    ['from=2026-01-01&to=2026-01-02&product=x', 'product'],
    ['from=2026-01-01&from=2026-01-02&to=2026-01-03', 'from'],
  ];
  for (const [query, field] of refused) {
    it(`answers ${query} with 400 naming ${field}`, async () => {
      const problem = await expectProblem(
        await shop.call(`/api/v1/analytics/sales?${query}`, { token: analyst }),
        400,
      );
      expect(fieldsOf(problem)).to.deep.equal([field]);
    });
  }

  it('answers 401 without a token and 403 to a customer', async () => {
    await expectProblem(await shop.call('/api/v1/analytics/sales?from=2026-01-01&to=2026-01-02'), 401);
    const customer = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
    await expectProblem(
      await shop.call('/api/v1/analytics/sales?from=2026-01-01&to=2026-01-02', { token: customer }),
      403,
    );
  });
});
