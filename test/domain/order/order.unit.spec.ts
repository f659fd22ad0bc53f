import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type CancellationReason,
  type OrderEvent,
  type OrderLine,
  type OrderPlacedData,
  orderStatusCode,
  orderStreamId,
} from '../../../src/domain/order/order.js';
import {
  canTransition,
  ORDER_MAX_TOTAL_CENTS,
  ORDER_MIN_TOTAL_CENTS,
  ORDER_TRANSITIONS,
  type OrderCommand,
  orderDecider,
  type PlaceOrder,
} from '../../../src/domain/order/order.decide.js';
import { PERSONAL_DATA } from '../../../src/domain/personalData.js';
import { fold } from '../../../src/domain/shared/decider.js';
import {
  NotFound,
  OrderRuleViolation,
  RuleViolation,
  ValidationError,
} from '../../../src/domain/shared/errors.js';
import { given } from '../../support/given.js';

const placedAt = '2025-03-01T10:00:00.000Z';
const expiresAt = '2025-03-01T10:30:00.000Z';
const at = '2025-03-01T10:05:00.000Z';
const afterExpiry = '2025-03-01T11:00:00.000Z';

const address = {
  name: 'Test Recipient',
  line1: '12 Analytical Way',
  city: 'London',
  postalCode: 'N1 9GU',
  country: 'GB',
};

/** Commands and events for one order, so each test gets its own stream. */
function orderOf(orderId = randomUUID()) {
  const userId = randomUUID();
  const idempotencyKey = randomUUID();
  const items: OrderLine[] = [
    { productId: randomUUID(), productName: 'Espresso cup', quantity: 2, unitPriceCents: 1299 },
    { productId: randomUUID(), productName: 'Mug', quantity: 1, unitPriceCents: 850 },
  ];
  const paymentMethod = { type: 'card', token: 'tok_visa' } as const;
  return {
    orderId,
    userId,
    idempotencyKey,
    items,
    place: (fields: Partial<Omit<PlaceOrder, 'type' | 'orderId'>> = {}): PlaceOrder => ({
      type: 'PlaceOrder',
      orderId,
      userId,
      items,
      shippingAddress: address,
      paymentMethod,
      idempotencyKey,
      requestHash: 'hash-1',
      now: placedAt,
      expiresAt,
      ...fields,
    }),
    confirm: (now = at): OrderCommand => ({ type: 'ConfirmOrder', orderId, now }),
    cancel: (reason: CancellationReason, now = at): OrderCommand => ({
      type: 'CancelOrder',
      orderId,
      reason,
      now,
    }),
    ship: (now = at): OrderCommand => ({ type: 'ShipOrder', orderId, now }),
    deliver: (now = at): OrderCommand => ({ type: 'DeliverOrder', orderId, now }),
    placed: (data: Partial<Omit<OrderPlacedData, 'orderId'>> = {}): OrderEvent => ({
      type: 'OrderPlaced',
      data: {
        orderId,
        userId,
        items,
        totalCents: 2 * 1299 + 850,
        shippingAddress: { ...address, line2: null },
        paymentMethod,
        idempotencyKey,
        requestHash: 'hash-1',
        placedAt,
        expiresAt,
        ...data,
      },
    }),
    confirmed: (when = at): OrderEvent => ({ type: 'OrderConfirmed', data: { orderId, at: when } }),
    cancelled: (reason: CancellationReason, when = at): OrderEvent => ({
      type: 'OrderCancelled',
      data: { orderId, reason, at: when },
    }),
    shipped: (when = at): OrderEvent => ({ type: 'OrderShipped', data: { orderId, at: when } }),
    delivered: (when = at): OrderEvent => ({ type: 'OrderDelivered', data: { orderId, at: when } }),
  };
}

const line = (quantity: number, unitPriceCents: number): OrderLine => ({
  productId: randomUUID(),
  productName: 'Teapot',
  quantity,
  unitPriceCents,
});

const reasonsOtherThanExpiry: CancellationReason[] = [
  'out_of_stock',
  'payment_declined',
  'payment_failed',
  'customer_cancelled',
];

describe('Order', () => {
  describe('when absent', () => {
    it('is placed pending, with its items, total, address, payment method, request and expiry', () => {
      const order = orderOf();
      given(orderDecider).when(order.place()).then([order.placed()]);
    });

    it('keeps a second address line, and the address without surrounding spaces', () => {
      const order = orderOf();
      given(orderDecider)
        .when(
          order.place({
            shippingAddress: {
              name: ' Test Recipient ',
              line1: '12 Analytical Way\t',
              line2: ' Flat 3 ',
              city: ' London',
              postalCode: 'N1 9GU ',
              country: 'GB',
            },
          }),
        )
        .then([order.placed({ shippingAddress: { ...address, line2: 'Flat 3' } })]);
    });

    it('records a blank second address line as none', () => {
      const order = orderOf();
      given(orderDecider)
        .when(order.place({ shippingAddress: { ...address, line2: '  ' } }))
        .then([order.placed()]);
    });

    it('accepts the lowest and the highest total', () => {
      for (const items of [[line(4, 250)], [line(2, 499_999), line(1, 2)]]) {
        const order = orderOf();
        given(orderDecider)
          .when(order.place({ items }))
          .then([order.placed({ items, totalCents: sum(items) })]);
      }
      expect([ORDER_MIN_TOTAL_CENTS, ORDER_MAX_TOTAL_CENTS]).to.deep.equal([1_000, 1_000_000]);
    });

    it('refuses a total below 10.00 as against the order rules', () => {
      given(orderDecider)
        .when(orderOf().place({ items: [line(3, 333)] }))
        .thenThrows(OrderRuleViolation, /^the order total must be from 10\.00 to 10000\.00, not 9\.99$/);
    });

    it('refuses a total above 10000.00 as against the order rules', () => {
      given(orderDecider)
        .when(orderOf().place({ items: [line(1, 1_000_000), line(1, 1)] }))
        .thenThrows(OrderRuleViolation, /not 10000\.01$/);
    });

    it('refuses to be placed without items', () => {
      given(orderDecider)
        .when(orderOf().place({ items: [] }))
        .thenThrows(ValidationError, /^items: must not be empty$/);
    });

    it('refuses a product on two lines', () => {
      const first = line(1, 1000);
      given(orderDecider)
        .when(orderOf().place({ items: [first, { ...first, quantity: 2 }] }))
        .thenThrows(ValidationError, /^items: must name each product once$/);
    });

    for (const quantity of [0, -1, 1.5, Number.NaN]) {
      it(`refuses a line of quantity ${quantity}`, () => {
        given(orderDecider)
          .when(orderOf().place({ items: [line(1, 5000), line(quantity, 5000)] }))
          .thenThrows(ValidationError, /^items\[1\]\.quantity: must be a whole number of at least 1$/);
      });
    }

    for (const unitPriceCents of [0, -100, 12.5, Number.NaN]) {
      it(`refuses a unit price of ${unitPriceCents} cents`, () => {
        given(orderDecider)
          .when(orderOf().place({ items: [line(1, unitPriceCents)] }))
          .thenThrows(ValidationError, /^items\[0\]\.unitPrice: must be a positive amount$/);
      });
    }

    it('refuses a line without a product id or name', () => {
      given(orderDecider)
        .when(orderOf().place({ items: [{ ...line(1, 5000), productId: ' ' }] }))
        .thenThrows(ValidationError, /^items\[0\]\.productId: must not be blank$/);
      given(orderDecider)
        .when(orderOf().place({ items: [{ ...line(1, 5000), productName: '' }] }))
        .thenThrows(ValidationError, /^items\[0\]\.productName: must not be blank$/);
    });

    for (const field of ['name', 'line1', 'city', 'postalCode'] as const) {
      it(`refuses a blank ${field} in the shipping address`, () => {
        given(orderDecider)
          .when(orderOf().place({ shippingAddress: { ...address, [field]: ' \n ' } }))
          .thenThrows(ValidationError, new RegExp(`^shippingAddress\\.${field}: must not be blank$`));
      });
    }

    for (const country of ['gb', 'Gb', 'GBR', 'G', '', ' GB', 'G1', 'ÜK']) {
      it(`refuses the country ${JSON.stringify(country)}`, () => {
        given(orderDecider)
          .when(orderOf().place({ shippingAddress: { ...address, country } }))
          .thenThrows(ValidationError, /^shippingAddress\.country: must be an ISO 3166-1 alpha-2 code/);
      });
    }

    it('refuses a payment method other than a card, or without a token', () => {
      given(orderDecider)
        .when(orderOf().place({ paymentMethod: { type: 'invoice' as 'card', token: 'tok_visa' } }))
        .thenThrows(ValidationError, /^paymentMethod\.type: must be "card"$/);
      given(orderDecider)
        .when(orderOf().place({ paymentMethod: { type: 'card', token: '  ' } }))
        .thenThrows(ValidationError, /^paymentMethod\.token: must not be blank$/);
    });

    it('reports malformed input before a total against the order rules', () => {
      given(orderDecider)
        .when(orderOf().place({ items: [line(1, 1)], shippingAddress: { ...address, country: 'gb' } }))
        .thenThrows(ValidationError, /^shippingAddress\.country:/);
    });

    it('cannot be confirmed, cancelled, shipped or delivered, as it is not found', () => {
      const order = orderOf();
      const notFound = new RegExp(`^order ${order.orderId} not found$`);
      for (const command of [
        order.confirm(),
        order.cancel('customer_cancelled'),
        order.ship(),
        order.deliver(),
      ]) {
        given(orderDecider).when(command).thenThrows(NotFound, notFound);
      }
    });
  });

  describe('when pending', () => {
    it('places nothing more when the same request arrives again', () => {
      const order = orderOf();
      given(orderDecider, [order.placed()]).when(order.place()).then([]);
    });

    it('refuses to be placed again by another request', () => {
      const order = orderOf();
      given(orderDecider, [order.placed()])
        .when(order.place({ requestHash: 'f'.repeat(64) }))
        .thenThrows(RuleViolation, new RegExp(`^order ${order.orderId} already exists$`));
      given(orderDecider, [order.placed()])
        .when(order.place({ userId: randomUUID() }))
        .thenThrows(RuleViolation, /already exists/);
    });

    it('is confirmed', () => {
      const order = orderOf();
      given(orderDecider, [order.placed()]).when(order.confirm()).then([order.confirmed()]);
    });

    for (const reason of reasonsOtherThanExpiry) {
      it(`is cancelled as ${reason}`, () => {
        const order = orderOf();
        given(orderDecider, [order.placed()])
          .when(order.cancel(reason))
          .then([order.cancelled(reason)]);
      });
    }

    it('is cancelled as expired from the instant it expires', () => {
      const order = orderOf();
      given(orderDecider, [order.placed()])
        .when(order.cancel('expired', expiresAt))
        .then([order.cancelled('expired', expiresAt)]);
      given(orderDecider, [order.placed()])
        .when(order.cancel('expired', afterExpiry))
        .then([order.cancelled('expired', afterExpiry)]);
    });

    it('refuses to expire before its time', () => {
      const order = orderOf();
      given(orderDecider, [order.placed()])
        .when(order.cancel('expired', '2025-03-01T10:29:59.999Z'))
        .thenThrows(RuleViolation, /does not expire before 2025-03-01T10:30:00\.000Z$/);
    });

    it('refuses a cancellation reason it does not know', () => {
      const order = orderOf();
      given(orderDecider, [order.placed()])
        .when(order.cancel('changed_my_mind' as CancellationReason))
        .thenThrows(ValidationError, /^reason: must be one of out_of_stock, payment_declined, /);
    });

    it('refuses to be shipped or delivered', () => {
      const order = orderOf();
      given(orderDecider, [order.placed()])
        .when(order.ship())
        .thenThrows(RuleViolation, /^cannot ship a pending order$/);
      given(orderDecider, [order.placed()])
        .when(order.deliver())
        .thenThrows(RuleViolation, /^cannot deliver a pending order$/);
    });
  });

  describe('when confirmed', () => {
    it('records nothing when confirmed again', () => {
      const order = orderOf();
      given(orderDecider, [order.placed(), order.confirmed()]).when(order.confirm()).then([]);
    });

    for (const reason of reasonsOtherThanExpiry) {
      it(`is cancelled as ${reason}`, () => {
        const order = orderOf();
        given(orderDecider, [order.placed(), order.confirmed()])
          .when(order.cancel(reason))
          .then([order.cancelled(reason)]);
      });
    }

    it('refuses to expire, even past its time', () => {
      const order = orderOf();
      given(orderDecider, [order.placed(), order.confirmed()])
        .when(order.cancel('expired', afterExpiry))
        .thenThrows(RuleViolation, /^only a pending order expires, not a confirmed one$/);
    });

    it('is shipped', () => {
      const order = orderOf();
      given(orderDecider, [order.placed(), order.confirmed()]).when(order.ship()).then([order.shipped()]);
    });

    it('refuses to be delivered before it is shipped', () => {
      const order = orderOf();
      given(orderDecider, [order.placed(), order.confirmed()])
        .when(order.deliver())
        .thenThrows(RuleViolation, /^cannot deliver a confirmed order$/);
    });
  });

  describe('when shipped', () => {
    const shippedOrder = () => {
      const order = orderOf();
      return { order, events: [order.placed(), order.confirmed(), order.shipped()] };
    };

    it('is delivered', () => {
      const { order, events } = shippedOrder();
      given(orderDecider, events).when(order.deliver()).then([order.delivered()]);
    });

    it('refuses to be cancelled, confirmed or shipped again', () => {
      const { order, events } = shippedOrder();
      given(orderDecider, events)
        .when(order.cancel('customer_cancelled'))
        .thenThrows(RuleViolation, /^cannot cancel a shipped order$/);
      given(orderDecider, events)
        .when(order.confirm())
        .thenThrows(RuleViolation, /^cannot confirm a shipped order$/);
      given(orderDecider, events)
        .when(order.ship())
        .thenThrows(RuleViolation, new RegExp(`^order ${order.orderId} is already shipped$`));
    });
  });

  describe('when delivered', () => {
    it('refuses to be cancelled, confirmed, shipped or delivered again', () => {
      const order = orderOf();
      const events = [order.placed(), order.confirmed(), order.shipped(), order.delivered()];
      given(orderDecider, events)
        .when(order.cancel('customer_cancelled'))
        .thenThrows(RuleViolation, /^cannot cancel a delivered order$/);
      given(orderDecider, events)
        .when(order.confirm())
        .thenThrows(RuleViolation, /^cannot confirm a delivered order$/);
      given(orderDecider, events)
        .when(order.ship())
        .thenThrows(RuleViolation, /^cannot ship a delivered order$/);
      given(orderDecider, events)
        .when(order.deliver())
        .thenThrows(RuleViolation, /is already delivered$/);
    });

    it('refuses to be placed again by another request', () => {
      const order = orderOf();
      given(orderDecider, [order.placed(), order.confirmed(), order.shipped(), order.delivered()])
        .when(order.place({ requestHash: 'f'.repeat(64) }))
        .thenThrows(RuleViolation, /already exists/);
    });
  });

  describe('when cancelled', () => {
    for (const reason of [...reasonsOtherThanExpiry, 'expired'] as const) {
      it(`refuses to be cancelled again as ${reason}`, () => {
        const order = orderOf();
        given(orderDecider, [order.placed(), order.cancelled('payment_declined')])
          .when(order.cancel(reason, afterExpiry))
          .thenThrows(RuleViolation, new RegExp(`^order ${order.orderId} is already cancelled$`));
      });
    }

    it('is never confirmed, even when the saga is late', () => {
      const order = orderOf();
      given(orderDecider, [order.placed(), order.cancelled('expired', afterExpiry)])
        .when(order.confirm(afterExpiry))
        .thenThrows(RuleViolation, /^cannot confirm a cancelled order$/);
    });

    it('refuses to be shipped or delivered', () => {
      const order = orderOf();
      const events = [order.placed(), order.confirmed(), order.cancelled('customer_cancelled')];
      given(orderDecider, events)
        .when(order.ship())
        .thenThrows(RuleViolation, /^cannot ship a cancelled order$/);
      given(orderDecider, events)
        .when(order.deliver())
        .thenThrows(RuleViolation, /^cannot deliver a cancelled order$/);
    });
  });

  describe('when moving from status to status', () => {
    it('follows one table of legal transitions', () => {
      expect(ORDER_TRANSITIONS).to.deep.equal({
        Pending: ['Confirmed', 'Cancelled'],
        Confirmed: ['Shipped', 'Cancelled'],
        Shipped: ['Delivered'],
        Delivered: [],
        Cancelled: [],
      });
      expect(canTransition('Confirmed', 'Cancelled')).to.equal(true);
      expect(canTransition('Shipped', 'Cancelled')).to.equal(false);
    });
  });

  describe('when folded', () => {
    it('holds what was placed, pending since it was placed', () => {
      const order = orderOf();
      expect(fold(orderDecider, [order.placed()])).to.deep.equal({
        status: 'Pending',
        id: order.orderId,
        userId: order.userId,
        items: order.items,
        totalCents: 3448,
        shippingAddress: { ...address, line2: null },
        paymentMethod: { type: 'card', token: 'tok_visa' },
        idempotencyKey: order.idempotencyKey,
        requestHash: 'hash-1',
        placedAt,
        updatedAt: placedAt,
        expiresAt,
      });
    });

    it('takes the status and time of each later event', () => {
      const order = orderOf();
      const confirmedAt = '2025-03-01T10:01:00.000Z';
      const shippedAt = '2025-03-02T09:00:00.000Z';
      const deliveredAt = '2025-03-04T15:00:00.000Z';
      const history = [
        order.placed(),
        order.confirmed(confirmedAt),
        order.shipped(shippedAt),
        order.delivered(deliveredAt),
      ];
      const expected = [
        ['Confirmed', confirmedAt],
        ['Shipped', shippedAt],
        ['Delivered', deliveredAt],
      ];
      expected.forEach(([status, updatedAt], index) => {
        expect(fold(orderDecider, history.slice(0, index + 2)))
          .to.include({ status, updatedAt, placedAt })
          .and.not.to.have.property('cancellationReason');
      });
    });

    it('keeps the reason it was cancelled for', () => {
      const order = orderOf();
      expect(
        fold(orderDecider, [order.placed(), order.confirmed(), order.cancelled('customer_cancelled')]),
      ).to.include({ status: 'Cancelled', cancellationReason: 'customer_cancelled', updatedAt: at });
    });

    it('leaves a missing order missing whatever event it is given', () => {
      const order = orderOf();
      expect(fold(orderDecider, [order.confirmed(), order.cancelled('expired')])).to.deep.equal({
        status: 'Absent',
      });
    });

    it('spells its status for the API in capitals', () => {
      expect(
        (['Pending', 'Confirmed', 'Shipped', 'Delivered', 'Cancelled'] as const).map(orderStatusCode),
      ).to.deep.equal(['PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED']);
    });
  });

  describe('when stored', () => {
    it('lives in one stream per order', () => {
      const orderId = randomUUID();
      expect(orderStreamId(orderId)).to.equal(`order-${orderId}`);
    });

    it('puts its owner and the shipping address at the top of OrderPlaced, where personal data is sealed', () => {
      const order = orderOf();
      const [placed] = orderDecider.decide(order.place(), orderDecider.initialState);
      const sealed = PERSONAL_DATA['OrderPlaced'];
      expect(placed?.type).to.equal('OrderPlaced');
      expect(placed?.data).to.include.keys(sealed?.owner ?? 'owner', ...(sealed?.fields ?? ['fields']));
      expect(placed?.data).to.include({ userId: order.userId });
    });
  });
});

function sum(items: readonly OrderLine[]): number {
  return items.reduce((total, item) => total + item.quantity * item.unitPriceCents, 0);
}
