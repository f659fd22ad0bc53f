import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type CheckoutAction,
  type CheckoutCommand,
  type CheckoutInput,
  type CheckoutSettings,
  decide,
  evolve,
  initialCheckout,
  orderIdOf,
} from '../../../src/domain/checkout/checkoutProcess.js';
import type { InventoryEvent } from '../../../src/domain/inventory/inventory.js';
import type { CancellationReason, OrderEvent } from '../../../src/domain/order/order.js';
import type { PaymentEvent } from '../../../src/domain/payment/payment.js';

const placedAt = '2025-03-01T10:00:00.000Z';
const expiresAt = '2025-03-01T10:15:00.000Z';
const at = '2025-03-01T10:00:05.000Z';
const later = '2025-03-01T10:07:30.000Z';

const settings: CheckoutSettings = { paymentRetryDelayMs: 30_000, paymentRetries: 3 };

/**
 * Specifications for the process: given the inputs it already saw, folded from the start, when
 * one more arrives, then it decides these actions.
 */
function given(inputs: readonly CheckoutInput[] = [], current: CheckoutSettings = settings) {
  const state = inputs.reduce(evolve, initialCheckout);
  return {
    when(input: CheckoutInput) {
      return {
        then(expected: readonly CheckoutAction[]): void {
          expect(decide(input, state, current)).to.deep.equal(expected);
        },
      };
    },
  };
}

const send = (command: CheckoutCommand): CheckoutAction => ({ type: 'Send', command });
const unscheduleExpiry: CheckoutAction = { type: 'Unschedule', kind: 'expire-order' };
const chargeDue = (attempt: number, dueAt: string): CheckoutAction => ({
  type: 'Schedule',
  deadline: { kind: 'charge', attempt, dueAt },
});

/** The events of one order's checkout, with two lines of their own products, as recorded inputs. */
function checkoutOf(orderId = randomUUID()) {
  const userId = randomUUID();
  const first = randomUUID();
  const second = randomUUID();
  const token = `tok_${randomUUID()}`;
  const totalCents = 2 * 1250 + 948;
  const input = (event: CheckoutInput['event'], recordedAt = at): CheckoutInput => ({ event, recordedAt });
  const ofOrder = (event: OrderEvent, recordedAt?: string) => input(event, recordedAt);
  const ofStock = (event: InventoryEvent, recordedAt?: string) => input(event, recordedAt);
  const ofPayment = (event: PaymentEvent, recordedAt?: string) => input(event, recordedAt);
  const quantityOf = (productId: string): number => (productId === first ? 2 : 1);
  return {
    orderId,
    userId,
    first,
    second,
    token,
    totalCents,
    placed: (recordedAt = placedAt) =>
      ofOrder(
        {
          type: 'OrderPlaced',
          data: {
            orderId,
            userId,
            items: [
              { productId: first, productName: 'Espresso beans', quantity: 2, unitPriceCents: 1250 },
              { productId: second, productName: 'Milk jug', quantity: 1, unitPriceCents: 948 },
            ],
            totalCents,
            shippingAddress: {
              name: 'Shopper',
              line1: '1 Main Street',
              line2: null,
              city: 'Springfield',
              postalCode: '12345',
              country: 'US',
            },
            paymentMethod: { type: 'card', token },
            idempotencyKey: randomUUID(),
            requestHash: `sha256:${randomUUID()}`,
            placedAt,
            expiresAt,
          },
        },
        recordedAt,
      ),
    confirmed: () => ofOrder({ type: 'OrderConfirmed', data: { orderId, at } }),
    cancelled: (reason: CancellationReason = 'customer_cancelled') =>
      ofOrder({ type: 'OrderCancelled', data: { orderId, reason, at } }),
    shipped: () => ofOrder({ type: 'OrderShipped', data: { orderId, at } }),
    delivered: () => ofOrder({ type: 'OrderDelivered', data: { orderId, at } }),
    restocked: (productId: string) =>
      ofStock({ type: 'StockRestocked', data: { productId, quantity: 10, at } }),
    reserved: (productId: string) =>
      ofStock({ type: 'StockReserved', data: { productId, orderId, quantity: quantityOf(productId), at } }),
    rejected: (productId: string, available = 0) =>
      ofStock({
        type: 'ReservationRejected',
        data: { productId, orderId, quantity: quantityOf(productId), available, at },
      }),
    released: (productId: string) =>
      ofStock({
        type: 'ReservationReleased',
        data: { productId, orderId, quantity: quantityOf(productId), at },
      }),
    committed: (productId: string) =>
      ofStock({
        type: 'ReservationCommitted',
        data: { productId, orderId, quantity: quantityOf(productId), at },
      }),
    returned: (productId: string) =>
      ofStock({ type: 'StockReturned', data: { productId, orderId, quantity: quantityOf(productId), at } }),
    paymentRequested: (recordedAt = at) =>
      ofPayment(
        {
          type: 'PaymentRequested',
          data: { orderId, userId, amountCents: totalCents, token, at: recordedAt },
        },
        recordedAt,
      ),
    attemptFailed: (attempt: number, recordedAt = later) =>
      ofPayment(
        {
          type: 'PaymentAttemptFailed',
          data: { orderId, attempt, reason: 'gateway_timeout', at: recordedAt },
        },
        recordedAt,
      ),
    captured: () =>
      ofPayment({
        type: 'PaymentCaptured',
        data: { orderId, amountCents: totalCents, providerReference: `ch_${randomUUID()}`, at },
      }),
    declined: () => ofPayment({ type: 'PaymentDeclined', data: { orderId, reason: 'card_declined', at } }),
    failed: () => ofPayment({ type: 'PaymentFailed', data: { orderId, reason: 'provider_unavailable', at } }),
    refunded: (amountCents: number, refundedCents: number) =>
      ofPayment({ type: 'PaymentRefunded', data: { orderId, amountCents, refundedCents, at } }),
  };
}

type Checkout = ReturnType<typeof checkoutOf>;

/** Placed, every line reserved, the payment requested and captured. */
const paid = (checkout: Checkout): CheckoutInput[] => [
  checkout.placed(),
  checkout.reserved(checkout.first),
  checkout.reserved(checkout.second),
  checkout.paymentRequested(),
  checkout.captured(),
];

/** Every event the process hears of after an order's placement, each named for the spec. */
const everyLaterEvent = (checkout: Checkout): [string, CheckoutInput][] => [
  ['OrderConfirmed', checkout.confirmed()],
  ['OrderCancelled', checkout.cancelled()],
  ['OrderShipped', checkout.shipped()],
  ['OrderDelivered', checkout.delivered()],
  ['StockRestocked', checkout.restocked(checkout.first)],
  ['StockReserved', checkout.reserved(checkout.first)],
  ['ReservationRejected', checkout.rejected(checkout.first)],
  ['ReservationReleased', checkout.released(checkout.first)],
  ['ReservationCommitted', checkout.committed(checkout.first)],
  ['StockReturned', checkout.returned(checkout.first)],
  ['PaymentRequested', checkout.paymentRequested()],
  ['PaymentAttemptFailed', checkout.attemptFailed(1)],
  ['PaymentCaptured', checkout.captured()],
  ['PaymentDeclined', checkout.declined()],
  ['PaymentFailed', checkout.failed()],
  ['PaymentRefunded', checkout.refunded(checkout.totalCents, checkout.totalCents)],
];

describe('Checkout process', () => {
  describe('when an order is placed', () => {
    it('reserves every line and schedules the order to expire when it expires', () => {
      const checkout = checkoutOf();
      given()
        .when(checkout.placed())
        .then([
          send({ type: 'ReserveStock', productId: checkout.first, quantity: 2 }),
          send({ type: 'ReserveStock', productId: checkout.second, quantity: 1 }),
          { type: 'Schedule', deadline: { kind: 'expire-order', attempt: 1, dueAt: expiresAt } },
        ]);
    });

    it('decides nothing when the order is placed again', () => {
      const checkout = checkoutOf();
      given([checkout.placed()]).when(checkout.placed(later)).then([]);
    });

    it('starts from what was placed: the lines, the total and the card token', () => {
      const checkout = checkoutOf();
      expect(evolve(initialCheckout, checkout.placed())).to.deep.equal({
        status: 'Active',
        orderId: checkout.orderId,
        userId: checkout.userId,
        lines: [
          { productId: checkout.first, quantity: 2 },
          { productId: checkout.second, quantity: 1 },
        ],
        totalCents: 3448,
        token: checkout.token,
        placedAt,
        outcome: 'Pending',
        reserved: [],
        committed: [],
        payment: 'None',
      });
    });

    it('keeps the first placement when placed again', () => {
      const checkout = checkoutOf();
      const started = [checkout.placed(), checkout.reserved(checkout.first)].reduce(evolve, initialCheckout);
      expect(evolve(started, checkout.placed(later))).to.equal(started);
    });
  });

  describe('when reserving stock', () => {
    it('requests the payment of the total with the card token once the last line is reserved', () => {
      const checkout = checkoutOf();
      const requestPayment = send({
        type: 'RequestPayment',
        userId: checkout.userId,
        amountCents: 3448,
        token: checkout.token,
      });
      given([checkout.placed(), checkout.reserved(checkout.first)])
        .when(checkout.reserved(checkout.second))
        .then([requestPayment]);
      given([checkout.placed(), checkout.reserved(checkout.second)])
        .when(checkout.reserved(checkout.first))
        .then([requestPayment]);
    });

    it('requests no payment before the last line is reserved', () => {
      const checkout = checkoutOf();
      given([checkout.placed()]).when(checkout.reserved(checkout.first)).then([]);
      given([checkout.placed(), checkout.reserved(checkout.first)])
        .when(checkout.reserved(checkout.first))
        .then([]);
    });

    it('requests no payment while a line whose reservation was released is not reserved again', () => {
      const checkout = checkoutOf();
      given([checkout.placed(), checkout.reserved(checkout.first), checkout.released(checkout.first)])
        .when(checkout.reserved(checkout.second))
        .then([]);
    });

    it('requests no payment while a line was rejected', () => {
      const checkout = checkoutOf();
      given([checkout.placed(), checkout.rejected(checkout.second)])
        .when(checkout.reserved(checkout.first))
        .then([]);
    });

    it('requests the payment once only', () => {
      const checkout = checkoutOf();
      const reserved = [
        checkout.placed(),
        checkout.reserved(checkout.first),
        checkout.reserved(checkout.second),
      ];
      given([...reserved, checkout.paymentRequested()])
        .when(checkout.reserved(checkout.second))
        .then([]);
      given([...reserved, checkout.paymentRequested(), checkout.captured()])
        .when(checkout.reserved(checkout.first))
        .then([]);
    });

    it('cancels the order as out of stock when a line is rejected', () => {
      const checkout = checkoutOf();
      const cancel = send({ type: 'CancelOrder', reason: 'out_of_stock' });
      given([checkout.placed()]).when(checkout.rejected(checkout.first)).then([cancel]);
      given([checkout.placed(), checkout.reserved(checkout.first)])
        .when(checkout.rejected(checkout.second, 0))
        .then([cancel]);
    });

    it('decides nothing on a restock, a release or a return', () => {
      const checkout = checkoutOf();
      const reserved = [checkout.placed(), checkout.reserved(checkout.first)];
      given(reserved).when(checkout.restocked(checkout.first)).then([]);
      given(reserved).when(checkout.released(checkout.first)).then([]);
      given(reserved).when(checkout.returned(checkout.first)).then([]);
    });
  });

  describe('when paying', () => {
    const requested = (checkout: Checkout): CheckoutInput[] => [
      checkout.placed(),
      checkout.reserved(checkout.first),
      checkout.reserved(checkout.second),
      checkout.paymentRequested(),
    ];

    it('schedules the first charge when the payment was recorded', () => {
      const checkout = checkoutOf();
      given([checkout.placed(), checkout.reserved(checkout.first), checkout.reserved(checkout.second)])
        .when(checkout.paymentRequested(later))
        .then([chargeDue(1, later)]);
    });

    const retries: [number, string][] = [
      [1, '2025-03-01T10:08:00.000Z'],
      [2, '2025-03-01T10:08:30.000Z'],
      [3, '2025-03-01T10:09:30.000Z'],
    ];
    for (const [attempt, dueAt] of retries) {
      it(`charges again when attempt ${attempt} failed, after a delay that doubles each time`, () => {
        const checkout = checkoutOf();
        const before = Array.from({ length: attempt - 1 }, (_, index) => checkout.attemptFailed(index + 1));
        given([...requested(checkout), ...before])
          .when(checkout.attemptFailed(attempt, later))
          .then([chargeDue(attempt + 1, dueAt)]);
      });
    }

    it('fails the payment when the last retry failed', () => {
      const checkout = checkoutOf();
      const before = [1, 2, 3].map((attempt) => checkout.attemptFailed(attempt));
      given([...requested(checkout), ...before])
        .when(checkout.attemptFailed(4))
        .then([send({ type: 'FailPayment', reason: 'the provider erred on every attempt (4)' })]);
    });

    it('counts retries and delays as it is set to', () => {
      const checkout = checkoutOf();
      const once: CheckoutSettings = { paymentRetryDelayMs: 1_000, paymentRetries: 1 };
      given(requested(checkout), once)
        .when(checkout.attemptFailed(1, later))
        .then([chargeDue(2, '2025-03-01T10:07:31.000Z')]);
      given(requested(checkout), once)
        .when(checkout.attemptFailed(2))
        .then([send({ type: 'FailPayment', reason: 'the provider erred on every attempt (2)' })]);
      given(requested(checkout), { paymentRetryDelayMs: 1_000, paymentRetries: 0 })
        .when(checkout.attemptFailed(1))
        .then([send({ type: 'FailPayment', reason: 'the provider erred on every attempt (1)' })]);
    });

    it('confirms the order when the payment is captured', () => {
      const checkout = checkoutOf();
      given([...requested(checkout), checkout.attemptFailed(1)])
        .when(checkout.captured())
        .then([send({ type: 'ConfirmOrder' })]);
    });

    it('cancels the order when the payment is declined', () => {
      const checkout = checkoutOf();
      given(requested(checkout))
        .when(checkout.declined())
        .then([send({ type: 'CancelOrder', reason: 'payment_declined' })]);
    });

    it('cancels the order when the payment failed', () => {
      const checkout = checkoutOf();
      given(requested(checkout))
        .when(checkout.failed())
        .then([send({ type: 'CancelOrder', reason: 'payment_failed' })]);
    });
  });

  describe('when the order is confirmed', () => {
    it('commits every reserved line and unschedules the expiry', () => {
      const checkout = checkoutOf();
      given(paid(checkout))
        .when(checkout.confirmed())
        .then([
          send({ type: 'CommitReservation', productId: checkout.first }),
          send({ type: 'CommitReservation', productId: checkout.second }),
          unscheduleExpiry,
        ]);
    });

    it('decides nothing when confirmed again', () => {
      const checkout = checkoutOf();
      given([...paid(checkout), checkout.confirmed(), checkout.committed(checkout.first)])
        .when(checkout.confirmed())
        .then([]);
    });

    it('decides nothing when the stock is committed or the payment captured again', () => {
      const checkout = checkoutOf();
      const confirmed = [...paid(checkout), checkout.confirmed()];
      given(confirmed).when(checkout.committed(checkout.first)).then([]);
      given(confirmed).when(checkout.captured()).then([]);
    });
  });

  describe('when the order is cancelled', () => {
    it('decides nothing when cancelled again, or once shipped', () => {
      const checkout = checkoutOf();
      given([checkout.placed(), checkout.reserved(checkout.first), checkout.cancelled()])
        .when(checkout.cancelled())
        .then([]);
      given([checkout.placed(), checkout.shipped()]).when(checkout.cancelled()).then([]);
    });

    it('releases what is reserved and unschedules the expiry', () => {
      const checkout = checkoutOf();
      given([checkout.placed(), checkout.reserved(checkout.first), checkout.rejected(checkout.second)])
        .when(checkout.cancelled('out_of_stock'))
        .then([send({ type: 'ReleaseReservation', productId: checkout.first }), unscheduleExpiry]);
    });

    it('only unschedules the expiry when nothing is held', () => {
      const checkout = checkoutOf();
      given([checkout.placed(), checkout.reserved(checkout.first), checkout.released(checkout.first)])
        .when(checkout.cancelled('expired'))
        .then([unscheduleExpiry]);
    });

    it('refunds nothing for a payment that was declined', () => {
      const checkout = checkoutOf();
      given([
        checkout.placed(),
        checkout.reserved(checkout.first),
        checkout.reserved(checkout.second),
        checkout.paymentRequested(),
        checkout.declined(),
      ])
        .when(checkout.cancelled('payment_declined'))
        .then([
          send({ type: 'ReleaseReservation', productId: checkout.first }),
          send({ type: 'ReleaseReservation', productId: checkout.second }),
          unscheduleExpiry,
        ]);
    });

    it('returns what was committed, releases what is still reserved and refunds a captured payment', () => {
      const checkout = checkoutOf();
      given([...paid(checkout), checkout.confirmed(), checkout.committed(checkout.first)])
        .when(checkout.cancelled('customer_cancelled'))
        .then([
          send({ type: 'ReleaseReservation', productId: checkout.second }),
          send({ type: 'ReturnStock', productId: checkout.first }),
          send({ type: 'RefundInFull' }),
          unscheduleExpiry,
        ]);
    });

    it('refunds the rest of a payment refunded in part, and nothing of one refunded in full', () => {
      const checkout = checkoutOf();
      const committed = [
        ...paid(checkout),
        checkout.confirmed(),
        checkout.committed(checkout.first),
        checkout.committed(checkout.second),
      ];
      const returnBoth = [
        send({ type: 'ReturnStock', productId: checkout.first }),
        send({ type: 'ReturnStock', productId: checkout.second }),
      ];
      given([...committed, checkout.refunded(1000, 1000)])
        .when(checkout.cancelled())
        .then([...returnBoth, send({ type: 'RefundInFull' }), unscheduleExpiry]);
      given([...committed, checkout.refunded(1000, 1000), checkout.refunded(2448, 3448)])
        .when(checkout.cancelled())
        .then([...returnBoth, unscheduleExpiry]);
    });

    it('returns nothing that was already returned', () => {
      const checkout = checkoutOf();
      given([
        ...paid(checkout),
        checkout.confirmed(),
        checkout.committed(checkout.first),
        checkout.committed(checkout.second),
        checkout.returned(checkout.first),
      ])
        .when(checkout.cancelled())
        .then([
          send({ type: 'ReturnStock', productId: checkout.second }),
          send({ type: 'RefundInFull' }),
          unscheduleExpiry,
        ]);
    });
  });

  describe('after the order is cancelled', () => {
    const cancelled = (checkout: Checkout): CheckoutInput[] => [
      checkout.placed(),
      checkout.reserved(checkout.first),
      checkout.paymentRequested(),
      checkout.cancelled('expired'),
    ];

    it('releases a reservation that came late', () => {
      const checkout = checkoutOf();
      given(cancelled(checkout))
        .when(checkout.reserved(checkout.second))
        .then([send({ type: 'ReleaseReservation', productId: checkout.second })]);
    });

    it('returns stock committed late', () => {
      const checkout = checkoutOf();
      given(cancelled(checkout))
        .when(checkout.committed(checkout.first))
        .then([send({ type: 'ReturnStock', productId: checkout.first })]);
    });

    it('refunds a payment captured late', () => {
      const checkout = checkoutOf();
      given(cancelled(checkout))
        .when(checkout.captured())
        .then([send({ type: 'RefundInFull' })]);
    });

    it('still schedules the charge of a payment requested late, for the deadline to fail it uncharged', () => {
      const checkout = checkoutOf();
      given(cancelled(checkout))
        .when(checkout.paymentRequested())
        .then([chargeDue(1, at)]);
    });

    it('decides nothing on a late rejection, failed attempt, decline or failure', () => {
      const checkout = checkoutOf();
      for (const late of [
        checkout.rejected(checkout.second),
        checkout.attemptFailed(1),
        checkout.declined(),
        checkout.failed(),
      ]) {
        given(cancelled(checkout)).when(late).then([]);
      }
    });

    it('decides nothing on what its own compensations caused', () => {
      const checkout = checkoutOf();
      const compensating = [...cancelled(checkout), checkout.captured()];
      given(compensating).when(checkout.released(checkout.first)).then([]);
      given(compensating).when(checkout.returned(checkout.first)).then([]);
      given(compensating).when(checkout.refunded(checkout.totalCents, checkout.totalCents)).then([]);
    });
  });

  describe('when the order was never placed', () => {
    it('decides nothing, whatever the event', () => {
      const checkout = checkoutOf();
      for (const [type, input] of everyLaterEvent(checkout)) {
        expect(decide(input, initialCheckout, settings), type).to.deep.equal([]);
      }
    });

    it('does not start on any event but the placement', () => {
      const checkout = checkoutOf();
      const inputs = everyLaterEvent(checkout).map(([, input]) => input);
      expect(inputs.reduce(evolve, initialCheckout)).to.deep.equal(initialCheckout);
    });
  });

  describe('when the order is shipped', () => {
    it('decides nothing on any later stock or payment event', () => {
      const checkout = checkoutOf();
      const shipped = [
        ...paid(checkout),
        checkout.confirmed(),
        checkout.committed(checkout.first),
        checkout.committed(checkout.second),
        checkout.shipped(),
      ];
      const state = shipped.reduce(evolve, initialCheckout);
      for (const [type, input] of everyLaterEvent(checkout)) {
        if (input.event.type.startsWith('Order')) continue;
        expect(decide(input, state, settings), type).to.deep.equal([]);
      }
    });

    it('decides nothing when shipped or delivered', () => {
      const checkout = checkoutOf();
      const confirmed = [...paid(checkout), checkout.confirmed(), checkout.committed(checkout.first)];
      given(confirmed).when(checkout.shipped()).then([]);
      given([...confirmed, checkout.shipped()])
        .when(checkout.shipped())
        .then([]);
      given([...confirmed, checkout.shipped()])
        .when(checkout.delivered())
        .then([]);
    });
  });

  describe('when routing events', () => {
    it('finds the order an event is about, and none for a restock', () => {
      const checkout = checkoutOf();
      for (const [type, input] of everyLaterEvent(checkout)) {
        expect(orderIdOf(input.event), type).to.equal(
          type === 'StockRestocked' ? undefined : checkout.orderId,
        );
      }
      expect(orderIdOf(checkout.placed().event)).to.equal(checkout.orderId);
    });
  });
});
