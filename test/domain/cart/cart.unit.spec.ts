import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { type CartEvent, type CartLine, cartStreamId, cartView } from '../../../src/domain/cart/cart.js';
import { type CartCommand, type CheckOutCart, cartDecider } from '../../../src/domain/cart/cart.decide.js';
import type { OrderRequest } from '../../../src/domain/order/order.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { NotFound, OrderRuleViolation, ValidationError } from '../../../src/domain/shared/errors.js';
import { given } from '../../support/given.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const ttlMs = 30 * DAY_MS;

const addedAt = '2025-03-01T10:00:00.000Z';
const at = '2025-03-02T11:30:00.000Z';
/** Thirty days after `at`: the first instant a cart last changed at `at` is expired. */
const expiry = '2025-04-01T11:30:00.000Z';
const justBeforeExpiry = '2025-04-01T11:29:59.999Z';
const wellAfterExpiry = '2025-06-15T08:00:00.000Z';

/** Commands and events for one customer's cart, so each test gets its own stream. */
function cartOf(userId = randomUUID()) {
  const cup = { productId: randomUUID(), productName: 'Espresso cup', unitPriceCents: 1299 };
  const mug = { productId: randomUUID(), productName: 'Mug', unitPriceCents: 850 };
  const base = { userId, cartTtlMs: ttlMs };
  return {
    userId,
    cup,
    mug,
    add: (product: typeof cup, quantity: number, now = at): CartCommand => ({
      type: 'AddCartItem',
      ...base,
      ...product,
      quantity,
      now,
    }),
    change: (productId: string, quantity: number, now = at): CartCommand => ({
      type: 'ChangeCartItemQuantity',
      ...base,
      productId,
      quantity,
      now,
    }),
    remove: (productId: string, now = at): CartCommand => ({
      type: 'RemoveCartItem',
      ...base,
      productId,
      now,
    }),
    clear: (now = at): CartCommand => ({ type: 'ClearCart', ...base, now }),
    checkOut: (orderId: string, now = at): CartCommand => ({
      type: 'CheckOutCart',
      ...base,
      orderId,
      request: orderRequest,
      now,
    }),
    added: (product: typeof cup, quantity: number, when = addedAt): CartEvent => ({
      type: 'CartItemAdded',
      data: { userId, ...product, quantity, at: when },
    }),
    changed: (productId: string, quantity: number, when = at): CartEvent => ({
      type: 'CartItemQuantityChanged',
      data: { userId, productId, quantity, at: when },
    }),
    removed: (productId: string, when = at): CartEvent => ({
      type: 'CartItemRemoved',
      data: { userId, productId, at: when },
    }),
    cleared: (when = at): CartEvent => ({ type: 'CartCleared', data: { userId, at: when } }),
    checkedOut: (orderId: string, items: CartLine[], totalCents: number, when = at): CartEvent => ({
      type: 'CartCheckedOut',
      data: { userId, orderId, items, totalCents, request: orderRequest, at: when },
    }),
    expired: (when: string): CartEvent => ({ type: 'CartExpired', data: { userId, at: when } }),
  };
}

const orderRequest: OrderRequest = {
  idempotencyKey: 'checkout-1',
  requestHash: 'a'.repeat(64),
  shippingAddress: {
    name: 'Test Recipient',
    line1: '1 Main St',
    city: 'Berlin',
    postalCode: '10115',
    country: 'DE',
  },
  paymentMethod: { type: 'card', token: 'tok_visa' },
};

const badQuantities = [0, -1, 1.5, 51, Number.NaN];

describe('Cart', () => {
  describe('when empty', () => {
    it('adds a product as a line at the price given', () => {
      const cart = cartOf();
      given(cartDecider)
        .when(cart.add(cart.cup, 2))
        .then([cart.added(cart.cup, 2, at)]);
    });

    it('accepts a quantity of 1 and of 50', () => {
      const cart = cartOf();
      given(cartDecider)
        .when(cart.add(cart.cup, 1))
        .then([cart.added(cart.cup, 1, at)]);
      given(cartDecider)
        .when(cart.add(cart.cup, 50))
        .then([cart.added(cart.cup, 50, at)]);
    });

    for (const quantity of badQuantities) {
      it(`refuses to add a quantity of ${quantity}`, () => {
        const cart = cartOf();
        given(cartDecider)
          .when(cart.add(cart.cup, quantity))
          .thenThrows(ValidationError, /^quantity: must be a whole number from 1 to 50$/);
      });
    }

    it('refuses to change the quantity of a line it does not hold', () => {
      const cart = cartOf();
      given(cartDecider)
        .when(cart.change(cart.cup.productId, 3))
        .thenThrows(NotFound, new RegExp(`^cart line ${cart.cup.productId} not found$`));
    });

    it('refuses to remove a line it does not hold', () => {
      const cart = cartOf();
      given(cartDecider)
        .when(cart.remove(cart.cup.productId))
        .thenThrows(NotFound, new RegExp(`^cart line ${cart.cup.productId} not found$`));
    });

    it('has nothing to clear', () => {
      given(cartDecider).when(cartOf().clear()).then([]);
    });

    it('refuses to be checked out', () => {
      given(cartDecider)
        .when(cartOf().checkOut(randomUUID()))
        .thenThrows(ValidationError, /^cart: is empty$/);
    });
  });

  describe('when holding lines', () => {
    it('adds another product as a line of its own', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(cart.add(cart.mug, 1))
        .then([cart.added(cart.mug, 1, at)]);
    });

    it("adds to an existing line's quantity", () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(cart.add(cart.cup, 3))
        .then([cart.changed(cart.cup.productId, 5)]);
    });

    it('keeps the price a line was first added at when more is added at a new catalog price', () => {
      const cart = cartOf();
      const events = [cart.added(cart.cup, 2)];
      given(cartDecider, events)
        .when(cart.add({ ...cart.cup, unitPriceCents: 1499 }, 1))
        .then([cart.changed(cart.cup.productId, 3)]);
      expect(cartView(fold(cartDecider, [...events, cart.changed(cart.cup.productId, 3)]), at, ttlMs).items)
        .to.have.length(1)
        .and.to.have.nested.property('[0].unitPriceCents', 1299);
    });

    it('fills a line up to 50', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 20)])
        .when(cart.add(cart.cup, 30))
        .then([cart.changed(cart.cup.productId, 50)]);
    });

    it('refuses to take a line over 50, saying how many it holds', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 20), cart.changed(cart.cup.productId, 45)])
        .when(cart.add(cart.cup, 6))
        .thenThrows(ValidationError, /^quantity: a line holds at most 50; the cart already holds 45 /);
    });

    it("changes a line's quantity", () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(cart.change(cart.cup.productId, 7))
        .then([cart.changed(cart.cup.productId, 7)]);
    });

    it('accepts a changed quantity of 1 and of 50', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(cart.change(cart.cup.productId, 1))
        .then([cart.changed(cart.cup.productId, 1)]);
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(cart.change(cart.cup.productId, 50))
        .then([cart.changed(cart.cup.productId, 50)]);
    });

    it('records nothing when the quantity stays the same', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(cart.change(cart.cup.productId, 2))
        .then([]);
    });

    it('removes a line whose quantity is changed to 0', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(cart.change(cart.cup.productId, 0))
        .then([cart.removed(cart.cup.productId)]);
    });

    for (const quantity of [-1, 1.5, 51, Number.NaN]) {
      it(`refuses to change a quantity to ${quantity}`, () => {
        const cart = cartOf();
        given(cartDecider, [cart.added(cart.cup, 2)])
          .when(cart.change(cart.cup.productId, quantity))
          .thenThrows(ValidationError, /^quantity: must be a whole number from 0 to 50$/);
      });
    }

    it('refuses to change the quantity of a product it does not hold', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(cart.change(cart.mug.productId, 1))
        .thenThrows(NotFound, new RegExp(`^cart line ${cart.mug.productId} not found$`));
    });

    it('removes a line', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2), cart.added(cart.mug, 1)])
        .when(cart.remove(cart.cup.productId))
        .then([cart.removed(cart.cup.productId)]);
    });

    it('refuses to remove a product it does not hold', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(cart.remove(cart.mug.productId))
        .thenThrows(NotFound, new RegExp(`^cart line ${cart.mug.productId} not found$`));
    });

    it('refuses to remove a line twice', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2), cart.removed(cart.cup.productId)])
        .when(cart.remove(cart.cup.productId))
        .thenThrows(NotFound);
    });

    it('is cleared', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2), cart.added(cart.mug, 1)])
        .when(cart.clear())
        .then([cart.cleared()]);
    });

    it('is checked out with its lines, in the order they were added, and their total', () => {
      const cart = cartOf();
      const orderId = randomUUID();
      given(cartDecider, [
        cart.added(cart.cup, 2),
        cart.added(cart.mug, 1),
        cart.changed(cart.cup.productId, 3),
      ])
        .when(cart.checkOut(orderId))
        .then([
          cart.checkedOut(
            orderId,
            [
              { ...cart.cup, quantity: 3 },
              { ...cart.mug, quantity: 1 },
            ],
            3 * 1299 + 850,
          ),
        ]);
    });

    it('is not checked out for an order that could not be placed, and keeps its lines', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.mug, 1)])
        .when(cart.checkOut(randomUUID()))
        .thenThrows(OrderRuleViolation, /from 10.00 to 10000.00, not 8.50/);
      const badCountry: CartCommand = {
        ...(cart.checkOut(randomUUID()) as CheckOutCart),
        request: {
          ...orderRequest,
          shippingAddress: { ...orderRequest.shippingAddress, country: 'Germany' },
        },
      };
      given(cartDecider, [cart.added(cart.cup, 2)])
        .when(badCountry)
        .thenThrows(ValidationError, /^shippingAddress.country:/);
    });

    it('has nothing to check out once its last line is removed', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2), cart.removed(cart.cup.productId)])
        .when(cart.checkOut(randomUUID()))
        .thenThrows(ValidationError, /^cart: is empty$/);
    });

    it('has nothing to check out or clear once cleared', () => {
      const cart = cartOf();
      const events = [cart.added(cart.cup, 2), cart.cleared()];
      given(cartDecider, events)
        .when(cart.checkOut(randomUUID()))
        .thenThrows(ValidationError, /^cart: is empty$/);
      given(cartDecider, events).when(cart.clear()).then([]);
    });
  });

  describe('when checked out', () => {
    it('refuses to be checked out again', () => {
      const cart = cartOf();
      const orderId = randomUUID();
      given(cartDecider, [
        cart.added(cart.cup, 2),
        cart.checkedOut(orderId, [{ ...cart.cup, quantity: 2 }], 2598),
      ])
        .when(cart.checkOut(orderId))
        .thenThrows(ValidationError, /^cart: is empty$/);
    });

    it('starts a new line for a product that was in the order', () => {
      const cart = cartOf();
      given(cartDecider, [
        cart.added(cart.cup, 2),
        cart.checkedOut(randomUUID(), [{ ...cart.cup, quantity: 2 }], 2598),
      ])
        .when(cart.add(cart.cup, 1))
        .then([cart.added(cart.cup, 1, at)]);
    });
  });

  describe('when left unchanged for its time to live', () => {
    it('is still live an instant before', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2, at)])
        .when(cart.add(cart.cup, 1, justBeforeExpiry))
        .then([cart.changed(cart.cup.productId, 3, justBeforeExpiry)]);
    });

    it('counts the time to live from its last change', () => {
      const cart = cartOf();
      const lastChange = '2025-03-20T00:00:00.000Z';
      given(cartDecider, [cart.added(cart.cup, 2, at), cart.added(cart.mug, 1, lastChange)])
        .when(cart.clear(expiry))
        .then([cart.cleared(expiry)]);
    });

    it('expires first, then starts afresh when a product is added', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2, at)])
        .when(cart.add(cart.mug, 1, expiry))
        .then([cart.expired(expiry), cart.added(cart.mug, 1, expiry)]);
    });

    it('records the instant it expired, not the instant the expiry was noticed', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2, at)])
        .when(cart.add(cart.mug, 1, wellAfterExpiry))
        .then([cart.expired(expiry), cart.added(cart.mug, 1, wellAfterExpiry)]);
    });

    it('starts a new line at the new price for a product it held', () => {
      const cart = cartOf();
      const repriced = { ...cart.cup, unitPriceCents: 1499 };
      given(cartDecider, [cart.added(cart.cup, 45, at)])
        .when(cart.add(repriced, 10, wellAfterExpiry))
        .then([cart.expired(expiry), cart.added(repriced, 10, wellAfterExpiry)]);
    });

    it('records only its expiry when cleared', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2, at)])
        .when(cart.clear(wellAfterExpiry))
        .then([cart.expired(expiry)]);
    });

    it('refuses to be checked out, as it is empty', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2, at)])
        .when(cart.checkOut(randomUUID(), expiry))
        .thenThrows(ValidationError, /^cart: is empty$/);
    });

    it('no longer holds the line whose quantity is changed or which is removed', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2, at)])
        .when(cart.change(cart.cup.productId, 3, expiry))
        .thenThrows(NotFound, /^cart line /);
      given(cartDecider, [cart.added(cart.cup, 2, at)])
        .when(cart.remove(cart.cup.productId, expiry))
        .thenThrows(NotFound, /^cart line /);
    });

    it('refuses a bad quantity all the same', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2, at)])
        .when(cart.add(cart.cup, 0, expiry))
        .thenThrows(ValidationError, /^quantity:/);
    });

    it('does not expire twice', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2, at), cart.expired(expiry)])
        .when(cart.clear(wellAfterExpiry))
        .then([]);
    });

    it('never expires while empty', () => {
      const cart = cartOf();
      given(cartDecider, [cart.added(cart.cup, 2, at), cart.removed(cart.cup.productId, at)])
        .when(cart.add(cart.mug, 1, wellAfterExpiry))
        .then([cart.added(cart.mug, 1, wellAfterExpiry)]);
    });

    it('expires after the time to live the command carries', () => {
      const cart = cartOf();
      const oneHourLater = '2025-03-02T12:30:00.000Z';
      given(cartDecider, [cart.added(cart.cup, 2, at)])
        .when({ type: 'ClearCart', userId: cart.userId, now: oneHourLater, cartTtlMs: 60 * 60 * 1000 })
        .then([cart.expired(oneHourLater)]);
    });
  });

  describe('when viewed', () => {
    it('is empty, never updated, if it never held anything', () => {
      expect(cartView(fold(cartDecider, []), at, ttlMs)).to.deep.equal({
        items: [],
        itemCount: 0,
        totalCents: 0,
        updatedAt: null,
      });
    });

    it('lists its lines with their totals, the number of items and the total', () => {
      const cart = cartOf();
      const state = fold(cartDecider, [
        cart.added(cart.cup, 2, addedAt),
        cart.added(cart.mug, 1, addedAt),
        cart.changed(cart.cup.productId, 3, at),
      ]);
      expect(cartView(state, at, ttlMs)).to.deep.equal({
        items: [
          { ...cart.cup, quantity: 3, lineTotalCents: 3897 },
          { ...cart.mug, quantity: 1, lineTotalCents: 850 },
        ],
        itemCount: 4,
        totalCents: 4747,
        updatedAt: at,
      });
    });

    it('leaves out a removed line', () => {
      const cart = cartOf();
      const state = fold(cartDecider, [
        cart.added(cart.cup, 2),
        cart.added(cart.mug, 1),
        cart.removed(cart.cup.productId),
      ]);
      expect(cartView(state, at, ttlMs)).to.deep.equal({
        items: [{ ...cart.mug, quantity: 1, lineTotalCents: 850 }],
        itemCount: 1,
        totalCents: 850,
        updatedAt: at,
      });
    });

    it('is empty since the time it was emptied, however that happened', () => {
      const cart = cartOf();
      const emptied = {
        removed: [cart.added(cart.cup, 2), cart.removed(cart.cup.productId)],
        cleared: [cart.added(cart.cup, 2), cart.cleared()],
        checkedOut: [
          cart.added(cart.cup, 2),
          cart.checkedOut(randomUUID(), [{ ...cart.cup, quantity: 2 }], 2598),
        ],
      };
      for (const events of Object.values(emptied)) {
        expect(cartView(fold(cartDecider, events), wellAfterExpiry, ttlMs)).to.deep.equal({
          items: [],
          itemCount: 0,
          totalCents: 0,
          updatedAt: at,
        });
      }
    });

    it('still shows its lines an instant before it expires', () => {
      const cart = cartOf();
      const state = fold(cartDecider, [cart.added(cart.cup, 2, at)]);
      expect(cartView(state, justBeforeExpiry, ttlMs).itemCount).to.equal(2);
    });

    it('is empty from the instant it expires, before the expiry is recorded', () => {
      const cart = cartOf();
      const state = fold(cartDecider, [cart.added(cart.cup, 2, at)]);
      const expected = { items: [], itemCount: 0, totalCents: 0, updatedAt: expiry };
      expect(cartView(state, expiry, ttlMs)).to.deep.equal(expected);
      expect(cartView(state, wellAfterExpiry, ttlMs)).to.deep.equal(expected);
    });

    it('looks the same once the expiry is recorded', () => {
      const cart = cartOf();
      const state = fold(cartDecider, [cart.added(cart.cup, 2, at), cart.expired(expiry)]);
      expect(cartView(state, wellAfterExpiry, ttlMs)).to.deep.equal({
        items: [],
        itemCount: 0,
        totalCents: 0,
        updatedAt: expiry,
      });
    });

    it('keeps its owner, lines and last change in the state', () => {
      const cart = cartOf();
      expect(
        fold(cartDecider, [cart.added(cart.cup, 2, addedAt), cart.changed(cart.cup.productId, 4, at)]),
      ).to.deep.equal({
        status: 'Active',
        userId: cart.userId,
        lines: [{ ...cart.cup, quantity: 4 }],
        updatedAt: at,
      });
    });
  });

  describe('when stored', () => {
    it('lives in one stream per customer', () => {
      const userId = randomUUID();
      expect(cartStreamId(userId)).to.equal(`cart-${userId}`);
    });
  });
});
