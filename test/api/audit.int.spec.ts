import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import {
  expectProblem,
  fieldsOf,
  orderKettles,
  startTestShop,
  TEST_ADDRESS,
  type TestShop,
} from '../support/shop.js';

interface HistoryEntry {
  revision: number;
  position: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recordedAt: string;
  hash: string;
  previousHash: string;
}

interface History {
  streamId: string;
  events: HistoryEntry[];
  verified: boolean;
}

describe('Auditing an order', () => {
  let shop: TestShop;
  let auditor: string;
  let admin: string;
  let shopper: { userId: string; token: string };
  let orderId: string;

  before(async () => {
    shop = await startTestShop();
    auditor = await shop.tokenFor(`auditor-${randomUUID()}`, ['auditor']);
    admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    const userId = `shopper-${randomUUID()}`;
    shopper = { userId, token: await shop.tokenFor(userId, ['customer']) };
    orderId = await orderKettles(shop, { admin, shopper: shopper.token }, 2, {
      'x-request-id': 'checkout-1',
    });
    // Confirmed by the checkout saga first, so that the history holds what it caused too.
    await shop.checkoutsSettled();
    const cancelled = await shop.call(`/api/v1/orders/${orderId}/cancel`, {
      method: 'POST',
      token: admin,
      headers: { 'x-request-id': 'support-7' },
    });
    expect(cancelled.status).to.equal(202);
    await shop.checkoutsSettled();
  });

  after(async () => {
    await shop.stop();
  });

  const history = async (token = auditor): Promise<History> => {
    const response = await shop.call(`/api/v1/audit/orders/${orderId}`, { token });
    expect(response.status).to.equal(200);
    return (await response.json()) as History;
  };

  it('shows every event of the order, who caused it and why, chained by hashes that verify', async () => {
    const { streamId, events, verified } = await history();

    expect(streamId).to.equal(`order-${orderId}`);
    expect(verified).to.equal(true);
    expect(events.map((event) => event.type)).to.deep.equal([
      'OrderPlaced',
      'OrderConfirmed',
      'OrderCancelled',
    ]);
    expect(events.map((event) => event.revision)).to.deep.equal([0, 1, 2]);
    expect(events[1]?.position).to.be.above(events[0]?.position ?? Infinity);
    expect(events[0]?.previousHash).to.equal('0'.repeat(64));
    expect(events[1]?.previousHash).to.equal(events[0]?.hash);
    expect(events[2]?.previousHash).to.equal(events[1]?.hash);
    expect(events[0]?.metadata).to.include({ actor: shopper.userId, correlationId: 'checkout-1' });
    // The saga carries the checkout's correlation id through every step it took.
    expect(events[1]?.metadata).to.include({ actor: 'system:checkout', correlationId: 'checkout-1' });
    expect(events[2]?.metadata).to.include({ correlationId: 'support-7' });
    expect(events[2]?.metadata.actor).to.match(/^admin-/);
    expect(Object.keys(events[0]?.metadata ?? {})).to.include.members([
      'actor',
      'correlationId',
      'causationId',
    ]);
    expect(events[0]?.data.shippingAddress).to.deep.include(TEST_ADDRESS);
  });

  it('lets an administrator audit too, and no one else', async () => {
    expect((await history(admin)).events).to.have.length(3);
    await expectProblem(await shop.call(`/api/v1/audit/orders/${orderId}`, { token: shopper.token }), 403);
    await expectProblem(await shop.call(`/api/v1/audit/orders/${orderId}`), 401);
  });

  it('answers 404 for an order that does not exist and for something that is not an id', async () => {
    await expectProblem(await shop.call(`/api/v1/audit/orders/${randomUUID()}`, { token: auditor }), 404);
    await expectProblem(await shop.call('/api/v1/audit/orders/not-an-id', { token: auditor }), 404);
  });

  it('shows the order as it stood at an instant: not yet placed, pending, confirmed, then cancelled', async () => {
    const { events } = await history();
    const [placedAt, confirmedAt, cancelledAt] = events.map((event) => new Date(event.recordedAt).getTime());
    const asOf = (instant: number) =>
      shop.call(`/api/v1/audit/orders/${orderId}?asOf=${new Date(instant).toISOString()}`, {
        token: auditor,
      });

    await expectProblem(await asOf((placedAt ?? 0) - 1), 404);
    const pending = await asOf(placedAt ?? 0);
    expect(await pending.json()).to.deep.include({ id: orderId, status: 'PENDING', totalAmount: '50.00' });
    const confirmed = await asOf(confirmedAt ?? 0);
    expect(await confirmed.json()).to.deep.include({ status: 'CONFIRMED' });
    const cancelled = await asOf(cancelledAt ?? 0);
    expect(await cancelled.json()).to.deep.include({
      status: 'CANCELLED',
      cancellationReason: 'customer_cancelled',
    });
  });

  it('refuses an instant that is not ISO 8601 with an offset', async () => {
    for (const asOf of ['yesterday', '2026-13-01T00:00:00Z', '2026-03-01', '2026-03-01T10:00:00', '']) {
      const problem = await expectProblem(
        await shop.call(`/api/v1/audit/orders/${orderId}?asOf=${encodeURIComponent(asOf)}`, {
          token: auditor,
        }),
        400,
      );
      expect(fieldsOf(problem), asOf).to.deep.equal(['asOf']);
    }
  });

  it('says the history no longer verifies once a stored event was altered behind the store’s back', async () => {
    const client = new pg.Client({ connectionString: shop.connectionString });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE es_events DISABLE TRIGGER es_events_immutable_rows');
      await client.query(
        `UPDATE es_events SET data = json_build_object('reason', 'out_of_stock', 'at', data->'at')
          WHERE stream_id = $1 AND revision = 1`,
        [`order-${orderId}`],
      );
      await client.query('ALTER TABLE es_events ENABLE TRIGGER es_events_immutable_rows');
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    expect((await history()).verified).to.equal(false);
  });
});
