import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { parseNdjson } from '../support/ndjson.js';
import {
  expectProblem,
  fieldsOf,
  orderKettles,
  startTestShop,
  TEST_ADDRESS,
  type TestShop,
} from '../support/shop.js';

interface ExportedEvent {
  position: number;
  streamId: string;
  revision: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

describe('Exporting events for analysts', () => {
  let shop: TestShop;
  let analyst: string;

  before(async () => {
    shop = await startTestShop();
    analyst = await shop.tokenFor(`analyst-${randomUUID()}`, ['analyst']);
    const admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    const shopper = await shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
    await orderKettles(shop, { admin, shopper }, 2);
    // The export is compared with itself below: the checkout's events come first, all of them.
    await shop.checkoutsSettled();
  });

  after(async () => {
    await shop.stop();
  });

  async function exported(query: string, token = analyst): Promise<ExportedEvent[]> {
    const response = await shop.call(`/api/v1/events${query}`, { token });
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/x-ndjson/);
    return parseNdjson<ExportedEvent>(await response.text());
  }

  it('answers every event in global order, one JSON object a line', async () => {
    const events = await exported('?fromPosition=0');

    expect(events.length).to.equal(await shop.eventCount());
    const positions = events.map((event) => event.position);
    expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).to.equal(positions.length);
    expect(events.map((event) => event.type)).to.include.members([
      'StockRestocked',
      'ProductCreated',
      'CartItemAdded',
      'CartCheckedOut',
      'OrderPlaced',
    ]);
    expect(Object.keys(events[0] ?? {})).to.have.members([
      'position',
      'streamId',
      'revision',
      'type',
      'data',
      'metadata',
      'recordedAt',
    ]);
  });

  it('answers one category’s events only, personal data opened', async () => {
    const orders = await exported('?category=order');
    expect(orders.map((event) => event.type)).to.deep.equal(['OrderPlaced', 'OrderConfirmed']);
    expect(orders[0]?.data.shippingAddress).to.deep.include(TEST_ADDRESS);
  });

  it('pages by position: each page starts after the last line of the one before, missing nothing', async () => {
    const everything = await exported('?limit=10000');
    const paged: ExportedEvent[] = [];
    let from = 0;
    for (;;) {
      const page = await exported(`?fromPosition=${from}&limit=2`);
      paged.push(...page);
      if (page.length < 2) break;
      from = (page.at(-1)?.position ?? 0) + 1;
    }
    expect(paged.map((event) => event.position)).to.deep.equal(everything.map((event) => event.position));
  });

  it('answers an empty export past the newest event', async () => {
    expect(await exported('?fromPosition=9007199254740991')).to.deep.equal([]);
  });

  it('refuses positions, limits and categories it cannot take, and unknown parameters, naming each', async () => {
    const cases: [string, string][] = [
      ['?fromPosition=-1', 'fromPosition'],
      ['?fromPosition=abc', 'fromPosition'],
      ['?fromPosition=1.5', 'fromPosition'],
      ['?limit=0', 'limit'],
      ['?limit=10001', 'limit'],
      ['?limit=', 'limit'],
      ['?category=orders', 'category'],
      ['?category=order&category=cart', 'category'],
      ['?from=0', 'from'],
    ];
    for (const [query, field] of cases) {
      const problem = await expectProblem(await shop.call(`/api/v1/events${query}`, { token: analyst }), 400);
      expect(fieldsOf(problem), query).to.deep.equal([field]);
    }
  });
});
