import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { startTestShop, TEST_ADDRESS, type TestShop } from '../../support/shop.js';
import { waitFor } from '../../support/waitFor.js';

interface OrderView {
  id: string;
  status: string;
  payment: { status: string; amount: string; refundedAmount: string };
  cancellationReason?: string;
}

interface StockView {
  onHand: number;
  reserved: number;
  available: number;
}

/** A shop, its administrator, and the ways to stock, order and look that the paths below share. */
function checkoutShop(env: Record<string, string>) {
  let shop: TestShop;
  let admin: string;
  const api = {
    get shop() {
      return shop;
    },
    async start() {
      shop = await startTestShop(env);
      admin = await shop.tokenFor(`admin-${randomUUID()}`, ['admin']);
    },
    stop: () => shop.stop(),
    async product(stock: number, price = '25.00'): Promise<string> {
      const created = await shop.call('/api/v1/products', {
        method: 'POST',
        token: admin,
        body: { name: 'Kettle', price, initialStock: stock },
      });
      expect(created.status, await created.clone().text()).to.equal(201);
      return ((await created.json()) as { id: string }).id;
    },
    async customer(): Promise<string> {
      return shop.tokenFor(`customer-${randomUUID()}`, ['customer']);
    },
    async order(
      token: string,
      lines: [productId: string, quantity: number][],
      card: string,
    ): Promise<string> {
      for (const [productId, quantity] of lines) {
        const added = await shop.call('/api/v1/cart/items', {
          method: 'POST',
          token,
          body: { productId, quantity },
        });
        expect(added.status, await added.clone().text()).to.equal(200);
      }
      const placed = await shop.call('/api/v1/orders', {
        method: 'POST',
        token,
        headers: { 'idempotency-key': randomUUID() },
        body: { shippingAddress: TEST_ADDRESS, paymentMethod: { type: 'card', token: card } },
      });
      expect(placed.status, await placed.clone().text()).to.equal(202);
      return ((await placed.json()) as { orderId: string }).orderId;
    },
    async read(orderId: string): Promise<OrderView> {
      const response = await shop.call(`/api/v1/orders/${orderId}`, { token: admin });
      expect(response.status).to.equal(200);
      return (await response.json()) as OrderView;
    },
    /** Waits until the order and its payment both settle as `until` says, and answers the order. */
    async settled(
      orderId: string,
      until: (order: OrderView) => boolean,
      timeoutMs = 15_000,
    ): Promise<OrderView> {
      let order = await api.read(orderId);
      await waitFor(
        async () => until((order = await api.read(orderId))),
        timeoutMs,
        () => `order ${orderId} is ${JSON.stringify(order)}`,
      );
      return order;
    },
    async stock(productId: string): Promise<StockView> {
      const response = await shop.call(`/api/v1/inventory/${productId}`, { token: admin });
      return (await response.json()) as StockView;
    },
    async cancel(orderId: string, token: string): Promise<Response> {
      return shop.call(`/api/v1/orders/${orderId}/cancel`, { method: 'POST', token });
    },
    /** The event types of a stream, oldest first: what the saga did, and did not do twice. */
    async streamTypes(streamId: string): Promise<string[]> {
      const client = new pg.Client({ connectionString: shop.connectionString });
      await client.connect();
      try {
        const { rows } = await client.query<{ type: string }>(
          'SELECT type FROM es_events WHERE stream_id = $1 ORDER BY revision',
          [streamId],
        );
        return rows.map((row) => row.type);
      } finally {
        await client.end();
      }
    },
    async sql<Row extends object>(text: string, values: unknown[]): Promise<Row[]> {
      const client = new pg.Client({ connectionString: shop.connectionString });
      await client.connect();
      try {
        return (await client.query<Row>(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    /** The least stock a product ever had available, folding its stream one event at a time. */
    async lowestAvailable(productId: string): Promise<number> {
      const rows = await api.sql<{ type: string; quantity: number }>(
        `SELECT type, (data->>'quantity')::int AS quantity FROM es_events WHERE stream_id = $1 ORDER BY revision`,
        [`inventory-${productId}`],
      );
      const change: Record<string, number> = {
        StockRestocked: 1,
        StockReserved: -1,
        ReservationReleased: 1,
        StockReturned: 1,
      };
      let available = 0;
      let lowest = Infinity;
      for (const row of rows) {
        available += (change[row.type] ?? 0) * row.quantity;
        lowest = Math.min(lowest, available);
      }
      return lowest;
    },
    /** Charges the provider simulator's ledger holds for the order. */
    async charges(orderId: string): Promise<number> {
      const rows = await api.sql<{ count: string }>(
        'SELECT count(*) FROM payment_simulator_charges WHERE idempotency_key = $1',
        [`payment-${orderId}`],
      );
      return Number(rows[0]?.count);
    },
    /** Whether the deadline worker has begun asking the provider for the order's charge. */
    async chargeBegun(orderId: string): Promise<boolean> {
      const rows = await api.sql(
        `SELECT 1 FROM checkout_deadlines WHERE order_id = $1 AND kind = 'charge' AND started_at IS NOT NULL`,
        [orderId],
      );
      return rows.length > 0;
    },
  };
  return api;
}

const terminal = (order: OrderView) => order.status !== 'PENDING';

describe('The checkout saga over HTTP', () => {
  describe('with the default configuration, rate limits included', () => {
    const shop = checkoutShop({});
    before(() => shop.start());
    after(() => shop.stop());

    it('confirms exactly 5 of 20 customers racing for the last 5 units, and cancels the rest as out_of_stock', async () => {
      const productId = await shop.product(5);
      const customers = await Promise.all(Array.from({ length: 20 }, () => shop.customer()));
      for (const customer of customers) {
        const added = await shop.shop.call('/api/v1/cart/items', {
          method: 'POST',
          token: customer,
          body: { productId, quantity: 1 },
        });
        expect(added.status).to.equal(200);
      }

      const placed = await Promise.all(
        customers.map(async (customer) => {
          const response = await shop.shop.call('/api/v1/orders', {
            method: 'POST',
            token: customer,
            headers: { 'idempotency-key': randomUUID() },
            body: { shippingAddress: TEST_ADDRESS, paymentMethod: { type: 'card', token: 'tok_visa' } },
          });
          expect(response.status, await response.clone().text()).to.equal(202);
          return ((await response.json()) as { orderId: string }).orderId;
        }),
      );
      const outcomes = await Promise.all(placed.map((orderId) => shop.settled(orderId, terminal, 30_000)));
      await shop.shop.checkoutsSettled();

      const confirmed = outcomes.filter((order) => order.status === 'CONFIRMED');
      const cancelled = outcomes.filter((order) => order.status === 'CANCELLED');
      expect(confirmed).to.have.length(5);
      expect(cancelled).to.have.length(15);
      for (const order of cancelled) {
        expect(order.cancellationReason).to.equal('out_of_stock');
        expect(await shop.streamTypes(`payment-${order.id}`), 'nothing charged').to.deep.equal([]);
        expect(await shop.charges(order.id)).to.equal(0);
      }
      for (const order of confirmed) expect(order.payment.status).to.equal('CAPTURED');
      expect(await shop.stock(productId)).to.deep.include({ onHand: 0, reserved: 0, available: 0 });
      expect(await shop.lowestAvailable(productId), 'never below 0').to.equal(0);
    });
  });

  describe('with charges the provider errs on retried 20 ms apart', () => {
    const shop = checkoutShop({ PAYMENT_RETRY_DELAY_MS: '20' });
    before(() => shop.start());
    after(() => shop.stop());

    it('confirms a paid order: payment captured, stock committed, cart empty', async () => {
      const productId = await shop.product(10);
      const customer = await shop.customer();
      const orderId = await shop.order(customer, [[productId, 2]], 'tok_visa');

      const order = await shop.settled(orderId, terminal);

      expect(order.status).to.equal('CONFIRMED');
      expect(order.payment).to.deep.equal({ status: 'CAPTURED', amount: '50.00', refundedAmount: '0.00' });
      await waitFor(
        async () => (await shop.stock(productId)).reserved === 0,
        5_000,
        () => 'the reservation is committed',
      );
      expect(await shop.stock(productId)).to.deep.include({ onHand: 8, reserved: 0, available: 8 });
      const cart = await shop.shop.call('/api/v1/cart', { token: customer });
      expect(((await cart.json()) as { itemCount: number }).itemCount).to.equal(0);
      expect(await shop.charges(orderId)).to.equal(1);
    });

    it('cancels a declined order as payment_declined and gives its stock back', async () => {
      const productId = await shop.product(10);
      const orderId = await shop.order(await shop.customer(), [[productId, 3]], 'tok_declined');

      const order = await shop.settled(orderId, terminal);

      expect(order).to.deep.include({ status: 'CANCELLED', cancellationReason: 'payment_declined' });
      expect(order.payment.status).to.equal('DECLINED');
      await waitFor(
        async () => (await shop.stock(productId)).available === 10,
        5_000,
        () => 'stock released',
      );
      expect(await shop.stock(productId)).to.deep.include({ onHand: 10, reserved: 0 });
    });

    it('tries a charge the provider errs on 3 more times, then cancels as payment_failed', async () => {
      const productId = await shop.product(10);
      const orderId = await shop.order(await shop.customer(), [[productId, 1]], 'tok_error');

      const order = await shop.settled(orderId, terminal);

      expect(order).to.deep.include({ status: 'CANCELLED', cancellationReason: 'payment_failed' });
      expect(order.payment.status).to.equal('FAILED');
      expect(await shop.streamTypes(`payment-${orderId}`)).to.deep.equal([
        'PaymentRequested',
        'PaymentAttemptFailed',
        'PaymentAttemptFailed',
        'PaymentAttemptFailed',
        'PaymentAttemptFailed',
        'PaymentFailed',
      ]);
      await waitFor(
        async () => (await shop.stock(productId)).available === 10,
        5_000,
        () => 'stock released',
      );
      expect(await shop.charges(orderId)).to.equal(0);
    });

    it('cancels a two-line order whose second line is out of stock as out_of_stock, releasing the first', async () => {
      const plenty = await shop.product(10);
      const scarce = await shop.product(1);
      const orderId = await shop.order(
        await shop.customer(),
        [
          [plenty, 2],
          [scarce, 2],
        ],
        'tok_visa',
      );

      const order = await shop.settled(orderId, terminal);

      expect(order).to.deep.include({ status: 'CANCELLED', cancellationReason: 'out_of_stock' });
      await waitFor(
        async () => (await shop.stock(plenty)).reserved === 0,
        5_000,
        () => 'first line released',
      );
      expect(await shop.stock(plenty)).to.deep.include({ onHand: 10, available: 10 });
      expect(await shop.stock(scarce)).to.deep.include({ onHand: 1, available: 1 });
      expect(await shop.streamTypes(`inventory-${plenty}`)).to.deep.equal([
        'StockRestocked',
        'StockReserved',
        'ReservationReleased',
      ]);
      expect(await shop.streamTypes(`payment-${orderId}`), 'nothing is charged').to.deep.equal([]);
    });

    it('refunds and restocks a confirmed order its customer cancels', async () => {
      const productId = await shop.product(10);
      const customer = await shop.customer();
      const orderId = await shop.order(customer, [[productId, 4]], 'tok_visa');
      await shop.settled(orderId, terminal);

      expect((await shop.cancel(orderId, customer)).status).to.equal(202);
      const order = await shop.settled(orderId, (seen) => seen.payment.status === 'REFUNDED');

      expect(order).to.deep.include({ status: 'CANCELLED', cancellationReason: 'customer_cancelled' });
      expect(order.payment).to.deep.equal({ status: 'REFUNDED', amount: '100.00', refundedAmount: '100.00' });
      await waitFor(
        async () => (await shop.stock(productId)).onHand === 10,
        5_000,
        () => 'stock returned',
      );
      expect(await shop.stock(productId)).to.deep.include({ reserved: 0, available: 10 });
    });

    it('refunds a slow charge that completes after its customer cancelled', async () => {
      const productId = await shop.product(10);
      const customer = await shop.customer();
      const orderId = await shop.order(customer, [[productId, 1]], 'tok_slow');
      await waitFor(
        () => shop.chargeBegun(orderId),
        5_000,
        () => 'the charge is asked for',
      );
      expect(await shop.charges(orderId), 'the provider is still at work').to.equal(0);

      expect((await shop.cancel(orderId, customer)).status).to.equal(202);
      const order = await shop.settled(orderId, (seen) => seen.payment.status === 'REFUNDED');

      expect(order).to.deep.include({ status: 'CANCELLED', cancellationReason: 'customer_cancelled' });
      expect(await shop.charges(orderId)).to.equal(1);
      await waitFor(
        async () => (await shop.stock(productId)).available === 10,
        5_000,
        () => 'stock released',
      );
    });
  });

  describe('with a short order timeout', () => {
    const shop = checkoutShop({ ORDER_TIMEOUT_MS: '500', PAYMENT_RETRY_DELAY_MS: '600000' });
    before(() => shop.start());
    after(() => shop.stop());

    it('cancels an order not completed in time as expired and releases its stock', async () => {
      const productId = await shop.product(10);
      // The provider errs, and the retry is due long after the order expires.
      const orderId = await shop.order(await shop.customer(), [[productId, 2]], 'tok_error');

      const order = await shop.settled(orderId, terminal);

      expect(order).to.deep.include({ status: 'CANCELLED', cancellationReason: 'expired' });
      await waitFor(
        async () => (await shop.stock(productId)).available === 10,
        5_000,
        () => 'stock released',
      );
      expect(await shop.charges(orderId)).to.equal(0);
    });
  });
});
