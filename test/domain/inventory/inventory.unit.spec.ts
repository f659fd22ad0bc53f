import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type InventoryCommand,
  type InventoryEvent,
  inventoryDecider,
  inventoryStreamId,
  inventoryView,
} from '../../../src/domain/inventory/inventory.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { RuleViolation, ValidationError } from '../../../src/domain/shared/errors.js';
import { given } from '../../support/given.js';

const at = '2025-03-01T10:00:00.000Z';

/** Commands and events for one product, so each test gets its own stream. */
function stockOf(productId = randomUUID()) {
  return {
    productId,
    restock: (quantity: number): InventoryCommand => ({ type: 'Restock', productId, quantity, now: at }),
    reserve: (orderId: string, quantity: number): InventoryCommand => ({
      type: 'ReserveStock',
      productId,
      orderId,
      quantity,
      now: at,
    }),
    release: (orderId: string): InventoryCommand => ({
      type: 'ReleaseReservation',
      productId,
      orderId,
      now: at,
    }),
    commit: (orderId: string): InventoryCommand => ({
      type: 'CommitReservation',
      productId,
      orderId,
      now: at,
    }),
    restocked: (quantity: number): InventoryEvent => ({
      type: 'StockRestocked',
      data: { productId, quantity, at },
    }),
    reserved: (orderId: string, quantity: number): InventoryEvent => ({
      type: 'StockReserved',
      data: { productId, orderId, quantity, at },
    }),
    released: (orderId: string, quantity: number): InventoryEvent => ({
      type: 'ReservationReleased',
      data: { productId, orderId, quantity, at },
    }),
    committed: (orderId: string, quantity: number): InventoryEvent => ({
      type: 'ReservationCommitted',
      data: { productId, orderId, quantity, at },
    }),
  };
}

const viewAfter = (events: readonly InventoryEvent[]) => inventoryView(fold(inventoryDecider, events));

describe('Inventory', () => {
  describe('when never restocked', () => {
    it('has nothing on hand, reserved or available', () => {
      expect(viewAfter([])).to.deep.equal({ onHand: 0, reserved: 0, available: 0 });
    });

    it('is restocked', () => {
      const stock = stockOf();
      given(inventoryDecider)
        .when(stock.restock(10))
        .then([stock.restocked(10)]);
    });

    it('accepts a restock of 1 and of 1000000', () => {
      const stock = stockOf();
      given(inventoryDecider)
        .when(stock.restock(1))
        .then([stock.restocked(1)]);
      given(inventoryDecider)
        .when(stock.restock(1_000_000))
        .then([stock.restocked(1_000_000)]);
    });

    for (const quantity of [0, -1, 1.5, 1_000_001, Number.NaN]) {
      it(`refuses a restock of ${quantity}`, () => {
        given(inventoryDecider)
          .when(stockOf().restock(quantity))
          .thenThrows(ValidationError, /^quantity: must be a whole number from 1 to 1000000/);
      });
    }

    it('refuses a reservation for lack of stock', () => {
      given(inventoryDecider)
        .when(stockOf().reserve(randomUUID(), 1))
        .thenThrows(RuleViolation, /insufficient stock/);
    });

    it('has nothing to release or commit', () => {
      const stock = stockOf();
      given(inventoryDecider).when(stock.release(randomUUID())).then([]);
      given(inventoryDecider).when(stock.commit(randomUUID())).then([]);
    });
  });

  describe('when in stock', () => {
    it('reserves stock for an order', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5)])
        .when(stock.reserve(orderId, 3))
        .then([stock.reserved(orderId, 3)]);
    });

    it('reserves every unit that is available', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(2), stock.restocked(3)])
        .when(stock.reserve(orderId, 5))
        .then([stock.reserved(orderId, 5)]);
    });

    it('refuses to reserve more than is available, saying how much is', () => {
      const stock = stockOf();
      given(inventoryDecider, [stock.restocked(5)])
        .when(stock.reserve(randomUUID(), 6))
        .thenThrows(RuleViolation, /^insufficient stock .*6 requested, 5 available$/);
    });

    it("counts other orders' reservations as unavailable", () => {
      const stock = stockOf();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(randomUUID(), 4)])
        .when(stock.reserve(randomUUID(), 2))
        .thenThrows(RuleViolation, /insufficient stock .*2 requested, 1 available/);
    });

    it('no longer counts stock that was committed', () => {
      const stock = stockOf();
      const first = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(first, 5), stock.committed(first, 5)])
        .when(stock.reserve(randomUUID(), 1))
        .thenThrows(RuleViolation, /insufficient stock/);
    });

    for (const quantity of [0, -2, 1.5, Number.NaN]) {
      it(`refuses a reservation of ${quantity}`, () => {
        const stock = stockOf();
        given(inventoryDecider, [stock.restocked(5)])
          .when(stock.reserve(randomUUID(), quantity))
          .thenThrows(ValidationError, /^quantity: must be a whole number of at least 1/);
      });
    }

    it('ignores a second reservation for the same order', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3)])
        .when(stock.reserve(orderId, 3))
        .then([]);
    });

    it('reserves again for an order once its reservation was released', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3), stock.released(orderId, 3)])
        .when(stock.reserve(orderId, 4))
        .then([stock.reserved(orderId, 4)]);
    });
  });

  describe('when holding a reservation', () => {
    it("releases the order's reserved quantity", () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3)])
        .when(stock.release(orderId))
        .then([stock.released(orderId, 3)]);
    });

    it("commits the order's reserved quantity", () => {
      const stock = stockOf();
      const orderId = randomUUID();
      given(inventoryDecider, [stock.restocked(5), stock.reserved(orderId, 3)])
        .when(stock.commit(orderId))
        .then([stock.committed(orderId, 3)]);
    });

    it('has nothing to release or commit for another order', () => {
      const stock = stockOf();
      const events = [stock.restocked(5), stock.reserved(randomUUID(), 3)];
      given(inventoryDecider, events).when(stock.release(randomUUID())).then([]);
      given(inventoryDecider, events).when(stock.commit(randomUUID())).then([]);
    });

    it('has nothing to release or commit once released', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      const events = [stock.restocked(5), stock.reserved(orderId, 3), stock.released(orderId, 3)];
      given(inventoryDecider, events).when(stock.release(orderId)).then([]);
      given(inventoryDecider, events).when(stock.commit(orderId)).then([]);
    });

    it('has nothing to release or commit once committed', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      const events = [stock.restocked(5), stock.reserved(orderId, 3), stock.committed(orderId, 3)];
      given(inventoryDecider, events).when(stock.release(orderId)).then([]);
      given(inventoryDecider, events).when(stock.commit(orderId)).then([]);
    });
  });

  describe('when viewed', () => {
    it('adds restocks to what is on hand and available', () => {
      const stock = stockOf();
      expect(viewAfter([stock.restocked(5), stock.restocked(7)])).to.deep.equal({
        onHand: 12,
        reserved: 0,
        available: 12,
      });
    });

    it('takes reservations of every order out of what is available', () => {
      const stock = stockOf();
      expect(
        viewAfter([stock.restocked(10), stock.reserved(randomUUID(), 3), stock.reserved(randomUUID(), 4)]),
      ).to.deep.equal({ onHand: 10, reserved: 7, available: 3 });
    });

    it('makes released stock available again', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      expect(
        viewAfter([
          stock.restocked(10),
          stock.reserved(orderId, 3),
          stock.reserved(randomUUID(), 4),
          stock.released(orderId, 3),
        ]),
      ).to.deep.equal({ onHand: 10, reserved: 4, available: 6 });
    });

    it('takes committed stock off hand and out of the reservations', () => {
      const stock = stockOf();
      const orderId = randomUUID();
      expect(
        viewAfter([
          stock.restocked(10),
          stock.reserved(orderId, 3),
          stock.reserved(randomUUID(), 4),
          stock.committed(orderId, 3),
        ]),
      ).to.deep.equal({ onHand: 7, reserved: 4, available: 3 });
    });

    it("keeps each order's reservation in the state", () => {
      const stock = stockOf();
      const orderId = randomUUID();
      expect(fold(inventoryDecider, [stock.restocked(10), stock.reserved(orderId, 3)])).to.deep.equal({
        status: 'Tracked',
        productId: stock.productId,
        onHand: 10,
        reserved: new Map([[orderId, 3]]),
      });
    });
  });

  describe('when stored', () => {
    it('lives in one stream per product', () => {
      const productId = randomUUID();
      expect(inventoryStreamId(productId)).to.equal(`inventory-${productId}`);
    });
  });
});
